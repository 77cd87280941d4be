"""Issue 20, finding 2: evaluating a run on data it was trained on is counted, warned about and marked
(by sequence hash against the run's saved splits), and --exclude-seen scores only the unseen records."""

import csv
import json

import pytest

from biolens.cli import main
from biolens.core.errors import InputError
from biolens.data import sample_path
from biolens.proteins import evaluate_run
from biolens.proteins.tasks import load_task


@pytest.fixture(scope="module")
def split_files(tmp_path_factory):
    """The shipped solubility sample cut in two: 300 records to train on, 100 the run never sees."""
    root = tmp_path_factory.mktemp("overlap")
    lines = sample_path("solubility").read_text().splitlines()
    (root / "seen.csv").write_text("\n".join(lines[:301]) + "\n")
    (root / "unseen.csv").write_text("\n".join([lines[0], *lines[301:]]) + "\n")
    code = main(["train", "--data", str(root / "seen.csv"), "--task", "solubility", "--encoder", "composition",
                 "--head", "linear", "--out", str(root / "run"), "--epochs", "3", "--bootstrap", "10",
                 "--size-curve", "none", "--cache", str(root / "cache.sqlite"), "--quiet"])
    assert code == 0
    return root


def _expected(root, name):
    """Per split, how many records of ``name`` have a sequence of that split (from split.csv, not from hashes)."""
    ids = [r["sequences"] for r in csv.DictReader(open(root / "seen.csv"))]
    split = [r["split"] for r in csv.DictReader(open(root / "run/split.csv"))]
    by_split = {s: {q for q, t in zip(ids, split, strict=True) if t == s} for s in ("train", "valid")}
    given = [r["sequences"] for r in csv.DictReader(open(root / name))]
    return {s: sum(q in by_split[s] for q in given) for s in by_split}, len(given)


def test_own_training_data_is_warned_counted_and_marked(split_files, capsys):
    root = split_files
    capsys.readouterr()
    assert main(["evaluate", str(root / "run"), "--data", str(root / "seen.csv"), "--task", "solubility",
                 "--bootstrap", "10", "--out", str(root / "own.json")]) == 0
    out = capsys.readouterr()
    counts, n = _expected(root, "seen.csv")
    assert counts["train"] > 200 and counts["valid"] > 0
    saved = json.loads((root / "own.json").read_text())
    assert saved["overlap"]["train"] == counts["train"] and saved["overlap"]["valid"] == counts["valid"]
    assert saved["overlap"]["of"] == n == 300 and saved["overlap"]["checked"]
    assert f"warning: {counts['train'] + counts['valid']} of 300 records were in the run's training" in out.err
    assert "overlaps the run's training split" in out.out and "test metrics" not in out.out


def test_unseen_data_gives_no_warning_and_test_metrics(split_files, capsys):
    root = split_files
    capsys.readouterr()
    assert main(["protein", "evaluate", str(root / "run"), "--data", str(root / "unseen.csv"), "--task",
                 "solubility", "--bootstrap", "10", "--out", str(root / "new.json")]) == 0
    out = capsys.readouterr()
    counts, n = _expected(root, "unseen.csv")
    assert counts == {"train": 0, "valid": 0} and n == 100
    assert json.loads((root / "new.json").read_text())["overlap"] == {"checked": True, "train": 0, "valid": 0,
                                                                      "of": 100, "excluded": 0}
    assert "warning" not in out.err and "test metrics" in out.out


def test_exclude_seen_scores_only_the_records_the_run_did_not_see(split_files):
    root = split_files
    data = load_task("solubility", root / "seen.csv")
    result = evaluate_run(root / "run", data, n_resamples=10, exclude_seen=True, cache=root / "cache.sqlite")
    counts, _ = _expected(root, "seen.csv")
    n_test = sum(r["split"] == "test" for r in csv.DictReader(open(root / "run/split.csv")))
    assert result.counts == {"test": 300 - counts["train"] - counts["valid"]}
    assert result.counts["test"] <= n_test and result.overlap["excluded"] == counts["train"] + counts["valid"]
    assert "warning" not in result.overlap
    kept = evaluate_run(root / "run", data, n_resamples=10, cache=root / "cache.sqlite")
    assert kept.counts == {"test": 300} and kept.overlap["warning"] in kept.notes


def test_all_seen_with_exclude_is_a_clear_error_and_an_old_run_says_unchecked(split_files, tmp_path):
    root = split_files
    data = load_task("solubility", root / "seen.csv")
    train_ids = [i for i, r in enumerate(csv.DictReader(open(root / "run/split.csv"))) if r["split"] == "train"]
    with pytest.raises(InputError, match="all 5 records were in the run's training or validation split"):
        evaluate_run(root / "run", data.subset(train_ids[:5]), n_resamples=10, exclude_seen=True,
                     cache=root / "cache.sqlite")
    old = tmp_path / "old"
    for path in (root / "run").rglob("*"):
        if path.is_file() and path.name not in ("split_hashes.npz", ".lock"):
            (old / path.relative_to(root / "run")).parent.mkdir(parents=True, exist_ok=True)
            (old / path.relative_to(root / "run")).write_bytes(path.read_bytes())
    result = evaluate_run(old, data, n_resamples=10, cache=root / "cache.sqlite")
    assert result.overlap == {"checked": False}
    assert any("could not be checked" in n for n in result.notes)
