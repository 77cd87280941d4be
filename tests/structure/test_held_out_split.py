"""Issue 20, finding 2 (structures): small folders get a test (and a validation) file, `structure evaluate`
scores the held-out test files by default, following the run's saved split, and says clearly when a
folder has no file of the split asked for."""

import json
import shutil

import pytest

from biolens.cli import main
from biolens.data import resolve_input
from biolens.structure._dataset import MIN_FILES_FOR_HELD_OUT, assign_split, assign_splits

pytest.importorskip("gemmi")
pytest.importorskip("mini3di")


def test_a_small_folder_gets_one_test_and_one_val_file_by_hash_order():
    names = [f"d/{i}.pdb" for i in range(8)]
    plain = {n: assign_split(n, 0, val=0.05, test=0.10) for n in names}
    got = assign_splits(names, 0, val=0.05, test=0.10)
    assert got == assign_splits(list(reversed(names)), 0, val=0.05, test=0.10)  # order-free
    assert sorted(got.values()).count("test") >= 1 and sorted(got.values()).count("val") >= 1
    moved = {n for n in names if got[n] != plain[n]}
    assert all(plain[n] == "train" for n in moved) and len(moved) <= 2
    few = names[: MIN_FILES_FOR_HELD_OUT - 1]
    assert assign_splits(few, 0, val=0.05, test=0.10) == {n: assign_split(n, 0, val=0.05, test=0.10) for n in few}
    many = [f"d/{i}.pdb" for i in range(2000)]  # enough files: the hash split alone, untouched
    assert assign_splits(many, 0, val=0.05, test=0.10) == {n: assign_split(n, 0, val=0.05, test=0.10) for n in many}


@pytest.fixture(scope="module")
def run(structure_run):
    return structure_run[0]


def test_training_on_the_sample_holds_out_a_test_file_and_evaluates_it(run):
    split = json.loads((run / "split.json").read_text())
    assert len(split["test"]) >= 1 and len(split["val"]) >= 1 and len(split["train"]) >= 5
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["split"] == "test" and evaluation["chains"] >= 1 and evaluation["rmsd"] > 0


def test_evaluate_defaults_to_the_held_out_files_of_the_saved_split(run, capsys, tmp_path):
    capsys.readouterr()
    assert main(["structure", "evaluate", str(run), "--structures", "sample:structures", "-q", "--no-3di"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert default["split"] == "test" and default["chains"] == json.loads((run / "evaluation.json").read_text())["chains"]
    # the run's split.json decides: a copy whose split.json names another test file evaluates that one
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    split = json.loads((copy / "split.json").read_text())
    split["test"], split["train"] = split["train"][:1], split["train"][1:] + split["test"]
    (copy / "split.json").write_text(json.dumps(split))
    assert main(["structure", "evaluate", str(copy), "--structures", "sample:structures", "-q", "--no-3di"]) == 0
    other = json.loads(capsys.readouterr().out)
    assert other["residues"] != default["residues"]


def test_a_folder_without_test_files_says_why(run, capsys, tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("bm5/1CLV_l_u.pdb.gz", "bm5/2IDO_l_u.pdb.gz"):
        shutil.copy(resolve_input(f"sample:structures/{name}"), folder)
    assert {assign_split(n, 0, val=0.05, test=0.10) for n in ("1CLV_l_u.pdb.gz", "2IDO_l_u.pdb.gz")} == {"train"}
    code = main(["structure", "evaluate", str(run), "--structures", str(folder), "-q", "--split", "test"])
    err = capsys.readouterr().err
    assert code == 2 and "none of its 2 structure files is in the test split" in err
    assert f"fewer than {MIN_FILES_FOR_HELD_OUT} files" in err and "--split all" in err


def test_a_folder_the_run_never_saw_is_evaluated_whole_by_default(run, capsys, tmp_path):
    folder = tmp_path / "new"
    folder.mkdir()
    for name in ("bm5/1CLV_l_u.pdb.gz", "bm5/2IDO_l_u.pdb.gz"):
        shutil.copy(resolve_input(f"sample:structures/{name}"), folder)
    capsys.readouterr()
    assert main(["structure", "evaluate", str(run), "--structures", str(folder), "-q", "--no-3di"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["split"] == "all" and result["chains"] == 2 and result["tm_score"] > 0
