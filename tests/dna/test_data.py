import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.data import resolve_input
from biolens.dna import (
    dinucleotide_counts,
    label_arrays,
    pick_tasks,
    prepare_training,
    read_tf_data,
    tf_name_from_path,
)


def test_deepbind_sample_reads_as_positives_of_one_tf():
    data = read_tf_data(resolve_input("sample:ctcfl_train"))
    assert len(data) == 600 and data.only_positives and set(data.tfs) == {"CTCFL"}
    assert data.ids[0].startswith("seq_") and {len(s) for s in data.sequences} == {101}
    test = read_tf_data(resolve_input("sample:ctcfl_test"))
    assert test.labels.sum() == 100 and len(test) == 200 and not test.only_positives


def test_tf_name_from_deepbind_file_names():
    assert tf_name_from_path("CTCFL_K562_CTCFL_(SC-98982)_HudsonAlpha_AC.seq.gz") == "CTCFL"
    assert tf_name_from_path("/x/CTCF_NH-A_CTCF_Broad_B.seq.gz") == "CTCF"


def test_positives_only_get_one_shuffled_negative_per_positive_within_each_split():
    data = read_tf_data(resolve_input("sample:ctcfl_train"))
    train, val, summary = prepare_training(data, ("CTCFL",), val_fraction=0.1, seed=0)
    assert len(train.ids) == 2 * 540 and len(val.ids) == 2 * 60
    assert train.y.sum() == 540 and val.y.sum() == 60 and train.mask.all()
    seqs = dict(zip(data.ids, data.sequences))
    for part in (train, val):
        ids = set(part.ids)
        for i, rid in enumerate(part.ids):
            if rid.endswith("_shuf"):
                source = rid.removesuffix("_shuf")
                assert source in ids  # the negative stays in its positive's split
                from biolens.dna import decode_one_hot

                assert dinucleotide_counts(decode_one_hot(part.x[i])) == dinucleotide_counts(seqs[source])
    assert not set(train.ids) & set(val.ids)
    assert "shuffle" in summary["negatives"]


BOOK_CSV = """sequence,label,transcription_factor,subset
ACGTACGTAA,1,CTCF,train
ACGTTTGTAA,0,CTCF,train
ACGTACGTCC,1,MYC,train
ACGTAGGTCC,0,MYC,valid
ACGTACCTCC,1,CTCF,valid
ACGTACGGGG,1,MYC,test
"""


def test_book_csv_subsets_and_multitask_labels(write):
    data = read_tf_data(write("book.csv", BOOK_CSV))
    assert data.subsets == ("train", "train", "train", "valid", "valid", "test")
    tasks = pick_tasks(data)
    assert tasks == ("CTCF", "MYC")
    train, val, summary = prepare_training(data, tasks)
    assert summary["split"] == "the file's train/valid subsets" and len(train.ids) == 3 and len(val.ids) == 2
    np.testing.assert_array_equal(train.y, [[1, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(train.mask, [[1, 0], [1, 0], [0, 1]])  # other TFs unknown
    crossed = label_arrays(data, tasks, cross_negatives=True)
    np.testing.assert_array_equal(crossed.mask[:3], np.ones((3, 2)))
    single = pick_tasks(data, "MYC")
    tr, _, _ = prepare_training(data, single)
    assert tr.ids == ("row3",) and tr.y.tolist() == [[1.0]]


def test_fasta_labels_and_bad_labels(write):
    data = read_tf_data(write("l.fa", ">a label=1 tf=CTCF\nACGT\n>b 0\nACGA\n>c\nACGC\n"))
    assert data.labels[:2].tolist() == [1.0, 0.0] and np.isnan(data.labels[2]) and data.tfs[0] == "CTCF"
    with pytest.raises(InputError, match=r"record .c.: has no label"):
        label_arrays(data, ("CTCF",))
    with pytest.raises(InputError, match=r"t.csv:3, record 'row2': label 'yes' is not 0 or 1"):
        read_tf_data(write("t.csv", "sequence,label\nACGT,1\nACGT,yes\n"))


def test_unlabelled_fasta_reads_for_prediction(write):
    data = read_tf_data(write("u.fa", ">x\nACGT\n>y\nTTTT\n"))
    assert data.labels is None and data.ids == ("x", "y")


def test_test_subset_is_never_trained_on(write):
    rows = "sequence,label,transcription_factor,subset\n" + "".join(
        f"ACGTACG{'ACGT'[i % 4]}AA,{i % 2},CTCF,{'test' if i < 4 else 'train'}\n" for i in range(24))
    data = read_tf_data(write("b.csv", rows))
    train, val, _ = prepare_training(data, ("CTCF",), val_fraction=0.25)
    used = set(train.ids) | set(val.ids)
    assert len(used) == 20 and not used & {"row1", "row2", "row3", "row4"}


def test_multitask_files_get_negatives_only_for_positive_only_tfs(write):
    from biolens.dna import concat_data

    pos = read_tf_data(resolve_input("sample:ctcfl_train")).take(np.arange(40))
    labelled = read_tf_data(write("ctcf.fa", "".join(
        f">c{i} label={i % 2} tf=CTCF\n{'ACGT' * 25}A\n" for i in range(20))))
    data = concat_data([pos, labelled])
    tasks = pick_tasks(data)
    assert tasks == ("CTCFL", "CTCF")
    train, val, summary = prepare_training(data, tasks, val_fraction=0.25, seed=0)
    shuffled = [i for i in train.ids + val.ids if i.endswith("_shuf")]
    assert len(shuffled) == 40 and all(i.startswith("seq_") for i in shuffled)
    assert summary["negatives"].startswith("one dinucleotide shuffle per positive of CTCFL")
    neg = [k for k, i in enumerate(train.ids) if i.endswith("_shuf")]
    assert train.mask[neg].all() and not train.y[neg].any()  # shuffled: a negative for both tasks
