"""Loaders on the shipped samples (real data, formats as published) and the CAFA fixtures."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.data import sample_path
from biolens.proteins.tasks import combine, ec_at_level, infer_kind, load_task

GO = Path(__file__).resolve().parents[2] / "data" / "go"


def test_solubility_csv_sample():
    d = load_task("solubility", sample_path("solubility"))
    assert len(d) == 400 and d.task.kind == "binary" and d.task.label_names == ("insoluble", "soluble")
    assert d.labels.sum() == 161 and d.splits is None  # 161 soluble of 400 in the sample
    assert d.ids[0] == "row1" and d.sequences[0].startswith("M") is not None


def test_deepsol_src_tgt_files_and_folder(write, tmp_path):
    write("train_src", "MKV\nMAAAL\n")
    write("train_tgt", "1\n0\n")
    write("test_src", "MKW\n")
    write("test_tgt", "0\n")
    one = load_task("solubility", tmp_path / "train_src")
    assert one.sequences == ["MKV", "MAAAL"] and one.labels.tolist() == [1, 0] and one.splits is None
    both = load_task("solubility", tmp_path)
    assert both.splits.tolist() == ["train", "train", "test"] and both.ids == ["train1", "train2", "test1"]
    write("val_src", "MK\n")
    write("val_tgt", "soluble\n")
    with pytest.raises(InputError, match=r"val_tgt:1, record 'val1': unknown value 'soluble' in column 'target'"):
        load_task("solubility", tmp_path)


def test_deeploc_sample_both_tasks():
    loc = load_task("localization", sample_path("deeploc"))
    mem = load_task("membrane", sample_path("deeploc"))
    assert loc.task.kind == "multiclass" and len(loc.task.label_names) == 10
    assert set(loc.splits) == {"train", "test"} and (loc.splits == "test").sum() == 150
    text = sample_path("deeploc").read_text()
    n_u = sum(1 for line in text.splitlines() if line.startswith(">") and line.split()[1].endswith("-U"))
    n_dual = sum(1 for line in text.splitlines() if line.startswith(">") and line.split()[1].startswith("Cytoplasm-Nucleus"))
    assert len(mem) == 300 - n_u and any("marked U" in n for n in mem.notes)
    assert len(loc) == 300 - n_dual
    first = loc.ids[0]
    header = next(line for line in text.splitlines() if line.startswith(f">{first} "))
    assert loc.task.label_names[loc.labels[0]] == header.split()[1].rpartition("-")[0]
    # the sample has no Peroxisome record: the summary says so instead of counting a class of 0
    summary = loc.label_summary()
    assert "Peroxisome: 0" not in summary and summary.endswith("(no record of Peroxisome)") and "Nucleus: " in summary


def test_deeploc_bad_header(write):
    path = write("bad.fasta", ">P1 Nucleus-X\nMKV\n")
    with pytest.raises(InputError, match=r"bad.fasta:1, record 'P1': membrane flag 'X'"):
        load_task("membrane", path)


def test_enzyme_sample_and_levels():
    d = load_task("enzyme", sample_path("enzyme"))
    assert len(d) == 300 and d.task.kind == "multilabel" and d.labels.shape == (300, len(d.task.label_names))
    assert d.labels.sum(1).min() >= 1  # every sampled chain carries an EC number
    lvl1 = load_task("enzyme", sample_path("enzyme"), level=1)
    assert set(lvl1.task.label_names) <= {"1", "2", "3", "4", "5", "6", "7"}
    assert ec_at_level("3.2.2.9", 2) == "3.2" and ec_at_level("3.2.-.-", 3) is None and ec_at_level("3.2.2.-", None) == "3.2.2.-"
    # a chain annotated 3.2.2.9 is positive for class 3 at level 1
    annot = sample_path("enzyme").with_name("nrPDB-EC_sample_annot.tsv").read_text().splitlines()
    chain, ecs = annot[3].split("\t")
    row = lvl1.ids.index(chain)
    assert {lvl1.task.label_names[j] for j in np.flatnonzero(lvl1.labels[row])} == {e.split(".")[0] for e in ecs.split(",")}


def test_gb1_sample_splits_and_nan(write):
    d = load_task("gb1", sample_path("gb1"))
    assert d.task.kind == "regression" and set(d.splits) == {"train", "valid", "test"}
    assert np.isfinite(d.labels).all()
    path = write("gb1.csv", "sequence,target,set,validation\nMKV,1.0,train,\nMKW,nan,test,\n")
    with pytest.raises(InputError, match=r"gb1.csv:3, record 'row2': target is 'nan'"):
        load_task("gb1", path)


def test_secondary_structure_sample():
    d = load_task("secondary-structure", sample_path("secondary-structure"))
    assert len(d) == 100 and d.task.label_names == ("H", "E", "C")
    assert {k: int((d.splits == k).sum()) for k in ("train", "valid", "test")} == {"train": 70, "valid": 15, "test": 15}
    for seq, y, m in zip(d.sequences, d.labels, d.masks):
        assert len(seq) == len(y) == len(m)
    assert 0 < np.mean(np.concatenate(d.masks)) < 1  # some residues unresolved


def test_secondary_structure_length_mismatch(tmp_path):
    (tmp_path / "sequences.fasta").write_text(">a\nMKV\n")
    (tmp_path / "sampled.fasta").write_text(">a SET=train VALIDATION=False\nHH\n")
    (tmp_path / "mask.fasta").write_text(">a\n111\n")
    with pytest.raises(InputError, match=r"sampled.fasta:1, record 'a': 2 entries for a 3-residue protein"):
        load_task("secondary-structure", tmp_path)


def test_go_filters_roots_and_min_count():
    d = load_task("go", GO, min_count=2)
    assert d.task.label_names == ("GO:0003677", "GO:0005515", "GO:0016301", "GO:0016788")
    assert "Q9Y6K9" not in d.ids  # annotated only with the root molecular_function
    assert d.labels[d.ids.index("P20536")].tolist() == [0, 1, 0, 1]
    human = load_task("go", GO / "train_terms.tsv", taxon=9606, min_count=1)
    assert human.ids == ["P20536", "O95231", "P15516"]


def test_go_propagation_follows_is_a_and_part_of():
    pytest.importorskip("pronto")
    d = load_task("go", GO, aspect="CCO", min_count=1, propagate=True)
    row = dict(zip(d.task.label_names, d.labels[d.ids.index("P20536")]))
    # cytoplasm is_a cellular anatomical entity, part_of intracellular anatomical structure
    assert {t for t, v in row.items() if v} == {"GO:0005737", "GO:0110165", "GO:0005622"}
    mf = load_task("go", GO, min_count=2, propagate=True)
    assert len(mf.task.label_names) == 10 and "GO:0003674" not in mf.task.label_names
    assert mf.labels[:, mf.task.label_names.index("GO:0005488")].sum() == 5  # binding: 5 proteins


def test_generic_tables_infer_kind(write):
    assert infer_kind([["0", "1", "1"]]) == "binary"
    assert infer_kind([["0.5", "1.2", "3"]]) == "regression"
    assert infer_kind([["a", "b", "c"]]) == "multiclass"
    assert infer_kind([["a;b", "c"]]) == "multilabel"
    path = write("t.csv", "id,sequence,loc,split\np1,MKV,nucleus,train\np2,MKW,cytoplasm,test\np3,MKA,membrane,valid\n")
    d = load_task("auto", path)
    assert d.task.kind == "multiclass" and d.task.label_names == ("cytoplasm", "membrane", "nucleus")
    assert d.labels.tolist() == [2, 0, 1] and d.splits.tolist() == ["train", "test", "valid"]
    with pytest.raises(InputError, match=r"t.csv:3, record 'p2': unknown value 'cytoplasm' in column 'loc'"):
        load_task("multiclass", path, label_names=["nucleus", "membrane"])
    fasta = write("f.fasta", ">a pos\nMKV\n>b neg\nMKW\n")
    assert load_task("binary", fasta).task.label_names == ("neg", "pos")
    missing = write("m.csv", "sequence,y\nMKV,1.5\nMKW,\n")
    with pytest.raises(InputError, match=r"m.csv:3, record 'row2': missing label"):
        load_task("regression", missing)
    assert len(load_task("regression", missing, on_missing="skip")) == 1


def test_combine_keeps_test_file_as_test():
    loc = load_task("localization", sample_path("deeploc"))
    extra = dataclasses.replace(loc.subset(range(5)), ids=[f"x{i}" for i in range(5)])
    both = combine(loc, extra)
    assert (both.splits == "test").sum() == 5 and (both.splits[:-5] == "train").all()


def test_probe_stray_labels_in_a_binary_file_are_reported(tmp_path):
    """Issue 14 'acceptable' case decided: stray labels ('2', 'maybe') silently made a 4-class task.
    The inferred kind is now a note with the counts and a warning naming the rare values; --task
    binary refuses them."""
    path = tmp_path / "labels.csv"
    rows = [f"MKTAYIAKQR{'AC' * (i % 5)},{v}" for i, v in enumerate(["0", "1"] * 25 + ["2", "maybe"])]
    path.write_text("sequence,label\n" + "\n".join(rows) + "\n")
    data = load_task("auto", path)
    assert data.task.kind == "multiclass"
    note = next(n for n in data.notes if n.startswith("task kind inferred"))
    assert "4 label values ('0': 25, '1': 25, '2': 1, 'maybe': 1)" in note
    assert "WARNING: ['2', 'maybe'] occur at most 2 times" in note
    with pytest.raises(InputError, match=r"a binary task needs two label values"):
        load_task("binary", path)
    path.write_text("sequence,label\n" + "\n".join(rows[:50]) + "\n")
    clean = load_task("auto", path)
    assert clean.task.kind == "binary" and not any("WARNING" in n for n in clean.notes)
