import gzip

import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.data import resolve_input
from biolens.structure import load_folder, read_backbones
from structure_files import atom, pdb, real_residues, residue

pytest.importorskip("gemmi")
X = real_residues(6)


def chain_lines(resnames=("ALA", "GLY", "SER", "LEU", "VAL", "LYS"), special=None):
    """ATOM lines of six real residues; ``special`` maps a residue index to residue() options."""
    lines = []
    for i, name in enumerate(resnames):
        lines += residue(len(lines) + 1, name, i + 1, X[i], **(special or {}).get(i, {}))
    return lines


def test_plain_chain_reads_exactly(write):
    bbs, rep = read_backbones(write("plain.pdb", pdb(chain_lines())))
    (bb,) = bbs
    assert bb.id == "plain_A" and len(bb) == 6 and bb.n_segments == 1
    np.testing.assert_allclose(bb.coords[:, :4], X[:, :4], atol=1e-3)
    assert not bb.mask[:, 4].any() and rep.missing_cb == 6 and rep.breaks == 0
    assert bb.residue_ids == ("1", "2", "3", "4", "5", "6")


def test_alternate_locations_keep_highest_occupancy(write):
    lines = chain_lines()
    shifted = X[2, 1] + 1.0
    alt = [atom(90, "CA", "SER", 3, X[2, 1], altloc="A", occ=0.3), atom(91, "CA", "SER", 3, shifted, altloc="B", occ=0.7)]
    lines = [ln for ln in lines if not (ln[12:16] == " CA " and ln[22:26] == "   3")]
    bb, rep = read_backbones(write("alt.pdb", pdb(lines[:9] + alt + lines[9:])))
    np.testing.assert_allclose(bb[0].coords[2, 1], shifted, atol=1e-3)
    assert rep.altloc == 1


def test_alternate_locations_tie_keeps_first(write):
    lines = chain_lines()
    alt = [atom(90, "O", "SER", 3, X[2, 3], altloc="A", occ=0.5), atom(91, "O", "SER", 3, X[2, 3] + 2, altloc="B", occ=0.5)]
    lines = [ln for ln in lines if not (ln[12:16] == " O  " and ln[22:26] == "   3")]
    bb, _ = read_backbones(write("tie.pdb", pdb(lines[:11] + alt + lines[11:])))
    np.testing.assert_allclose(bb[0].coords[2, 3], X[2, 3], atol=1e-3)


def test_insertion_codes_are_separate_residues_in_file_order(write):
    lines = []
    for i, (num, code) in enumerate([(51, " "), (52, " "), (52, "A"), (52, "B"), (53, " "), (54, " ")]):
        lines += residue(len(lines) + 1, "ALA", num, X[i], icode=code)
    bb, rep = read_backbones(write("icode.pdb", pdb(lines)))
    assert bb[0].residue_ids == ("51", "52", "52A", "52B", "53", "54")
    assert rep.insertion_codes == 2 and bb[0].n_segments == 1


def test_missing_backbone_atom_drops_residue_and_breaks_chain(write):
    lines = chain_lines(special={3: {"names": ("N", "C", "O")}})  # residue 4 has no CA
    bb, rep = read_backbones(write("gap.pdb", pdb(lines)))
    assert len(bb[0]) == 5 and rep.missing_backbone == 1
    assert bb[0].n_segments == 2 and rep.breaks == 1
    assert bb[0].residue_ids == ("1", "2", "3", "5", "6")


def test_missing_oxygen_is_masked_not_invented(write):
    lines = chain_lines(special={5: {"names": ("N", "CA", "C")}})
    bb, rep = read_backbones(write("noo.pdb", pdb(lines)))
    assert rep.missing_o == 1 and not bb[0].mask[5, 3] and np.isnan(bb[0].coords[5, 3]).all()


def test_selenomethionine_is_kept_and_counted(write):
    lines = chain_lines(special={2: {"het": True}}, resnames=("ALA", "GLY", "MSE", "LEU", "VAL", "LYS"))
    bb, rep = read_backbones(write("mse.pdb", pdb(lines)))
    assert bb[0].names[2] == "MSE" and len(bb[0]) == 6 and dict(rep.nonstandard) == {"MSE": 1}


def test_waters_and_ligands_are_dropped_and_counted(write):
    het = [atom(100, "O", "HOH", 201, [0, 0, 0], het=True), atom(101, "O", "HOH", 202, [3, 0, 0], het=True),
           atom(102, "ZN", " ZN", 301, [0, 3, 0], het=True, element="ZN")]
    bb, rep = read_backbones(write("het.pdb", pdb([*chain_lines(), "TER", *het])))
    assert len(bb[0]) == 6 and rep.waters_dropped == 2 and rep.hetero_dropped == 1


def test_first_model_only(write):
    model1 = "MODEL        1\n" + "\n".join(chain_lines()) + "\nENDMDL\n"
    moved = [ln[:30] + f"{float(ln[30:38]) + 5:8.3f}" + ln[38:] for ln in chain_lines()]
    model2 = "MODEL        2\n" + "\n".join(moved) + "\nENDMDL\n"
    bb, rep = read_backbones(write("nmr.pdb", model1 + model2 + "END\n"))
    assert rep.models_ignored == 1
    np.testing.assert_allclose(bb[0].coords[:, 1], X[:, 1], atol=1e-3)


def test_chain_selection_and_absent_chain(write):
    text = pdb([*chain_lines(), "TER", *[ln[:21] + "B" + ln[22:] for ln in chain_lines()]])
    path = write("two.pdb", text)
    assert [b.chain for b in read_backbones(path)[0]] == ["A", "B"]
    assert [b.chain for b in read_backbones(path, "B")[0]] == ["B"]
    with pytest.raises(InputError, match=r"two\.pdb: has no chain 'Z'; its chains are A, B"):
        read_backbones(path, "Z")


def test_no_protein_chain_is_a_clear_error(write):
    dna = []
    for i, base in enumerate(["DA", "DC", "DG", "DT"]):
        dna += [atom(4 * i + j + 1, name, base, i + 1, X[i, j] + 0.1 * j) for j, name in enumerate(["P", "C4'", "C1'", "N9"])]
    with pytest.raises(InputError, match=r"dna\.pdb: has no protein chain \(A: no protein polymer\)"):
        read_backbones(write("dna.pdb", pdb(dna)))
    with pytest.raises(InputError, match="has no protein chain"):
        read_backbones(write("water.pdb", pdb([atom(1, "O", "HOH", 1, [0, 0, 0], het=True)])))


def test_ca_only_model_is_refused(write):
    lines = [atom(i + 1, "CA", "ALA", i + 1, X[i, 1]) for i in range(6)]
    with pytest.raises(InputError, match=r"ca\.pdb: chain A is a CA-only model"):
        read_backbones(write("ca.pdb", pdb(lines)))


def test_unreadable_and_missing_files(write, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_backbones(tmp_path / "absent.pdb")
    with pytest.raises(InputError, match=r"empty\.pdb"):
        read_backbones(write("empty.pdb", ""))


def test_gzip_and_mmcif_with_chain_list():
    folder = resolve_input("sample:structures")
    chains, report = load_folder(folder, neighbours=4)
    assert report.files == 8 and not report.skipped and not report.listed_missing
    cath = [c.backbone for c in chains if c.backbone.source.endswith(".cif.gz")]
    listed = dict(line.split("_") for line in (folder / "cath/chains.lst").read_text().split())
    assert {b.id.split("_")[0]: b.chain for b in cath} == listed  # exactly the listed chain of each entry
    assert all(len(c.backbone) > 30 for c in chains)


def test_gzipped_pdb_equals_plain(write):
    text = pdb(chain_lines())
    plain = read_backbones(write("x.pdb", text))[0][0]
    zipped = read_backbones(write("x.pdb.gz", gzip.compress(text.encode())))[0][0]
    np.testing.assert_array_equal(plain.coords, zipped.coords)


def test_folder_skips_bad_files_with_reasons(write, tmp_path):
    write("good.pdb", pdb(chain_lines()))
    write("ca.pdb", pdb([atom(i + 1, "CA", "ALA", i + 1, X[i, 1]) for i in range(6)]))
    chains, report = load_folder(tmp_path, neighbours=4)
    assert len(chains) == 1 and "CA-only" in report.skipped["ca.pdb"]
    with pytest.raises(InputError, match="CA-only"):
        load_folder(tmp_path, neighbours=4, on_invalid="error")


def test_chain_by_mmcif_label_when_no_author_chain_matches(write, tmp_path):
    gemmi = pytest.importorskip("gemmi")
    st = gemmi.read_structure(str(write("plain.pdb", pdb(chain_lines()))))
    st.setup_entities()
    st[0]["A"].name = "X"
    for res in st[0]["X"]:
        res.subchain = "Q"
    path = tmp_path / "label.cif"
    st.make_mmcif_document().write_file(str(path))
    bb, rep = read_backbones(path, "Q")
    assert bb[0].chain == "X" and rep.chain_by_label == {"Q": "X"} and len(bb[0]) == 6
    assert read_backbones(path, "X")[0][0].chain == "X"
    with pytest.raises(InputError, match=r"has no chain 'Z'; its chains are X \(mmCIF labels of protein polymers: Q\)"):
        read_backbones(path, "Z")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_coordinate_is_a_chain_error(write, value):
    lines = chain_lines()
    k = next(i for i, ln in enumerate(lines) if ln[12:16] == " CA " and ln[22:26] == "   3")
    lines[k] = lines[k][:30] + f"{value:>8}" + lines[k][38:]  # x of residue 3's CA
    path = write("nan.pdb", pdb(lines))
    with pytest.raises(InputError, match=r"nan.pdb: chain A, residue SER 3: atom CA has the non-finite coordinates"):
        read_backbones(path)
    folder = path.parent / "set"
    folder.mkdir()
    path.rename(folder / "nan.pdb")
    (folder / "ok.pdb").write_text(pdb(chain_lines()))
    chains, report = load_folder(folder, neighbours=4)  # a folder run skips the file and says why
    assert [c.backbone.id for c in chains] == ["ok_A"] and "non-finite coordinates" in report.skipped["nan.pdb"]
