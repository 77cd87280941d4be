"""--suite public on small files in the published formats (DeepSol's text files, DeepLoc 1.0's FASTA,
FLIP's split CSV): the published splits are kept, and the numbers reported on them are shown beside ours,
with their sources, in the printed output and the report."""

import csv

import pytest

from biolens.benchmark import PUBLIC_TASKS, public_tasks
from biolens.cli import main
from biolens.core.errors import InputError
from biolens.data import sample_path


@pytest.fixture(scope="module")
def public_dir(tmp_path_factory):
    """DeepSol's six text files, DeepLoc's deeploc_data.fasta and FLIP's three_vs_rest.csv, cut from the samples."""
    root = tmp_path_factory.mktemp("public")
    with open(sample_path("solubility")) as fh:
        rows = list(csv.DictReader(fh))[:150]
    (root / "deepsol").mkdir()
    for name, part in (("train", rows[:80]), ("val", rows[80:100]), ("test", rows[100:])):
        (root / "deepsol" / f"{name}_src").write_text("".join(r["sequences"] + "\n" for r in part))
        (root / "deepsol" / f"{name}_tgt").write_text("".join(r["labels"] + "\n" for r in part))
    (root / "deeploc").mkdir()
    (root / "deeploc" / "deeploc_data.fasta").write_bytes(sample_path("deeploc").read_bytes())
    (root / "flip" / "gb1").mkdir(parents=True)
    (root / "flip" / "gb1" / "three_vs_rest.csv").write_bytes(sample_path("gb1").read_bytes())
    return root


def test_public_tasks_resolve_under_the_folder_and_name_what_is_missing(public_dir, tmp_path):
    found = public_tasks(public_dir)
    assert [t.name for t in found] == ["solubility", "localization", "membrane", "gb1"]  # no enzyme / SS files here
    assert found[0].data == str(public_dir / "deepsol") and found[0].reported[0].value == 0.77
    with pytest.raises(InputError, match=r"enzyme: .*nrPDB-EC_2020\.04_annot\.tsv is missing \(DeepFRI"):
        public_tasks(public_dir, ["gb1", "enzyme"])
    with pytest.raises(InputError, match="holds none of the public suite's files"):
        public_tasks(tmp_path)
    with pytest.raises(InputError, match="unknown public task"):
        public_tasks(public_dir, ["gb2"])
    # every reported number names its source and a metric the task computes
    metrics = {"solubility": "accuracy", "localization": "accuracy", "enzyme": "fmax", "gb1": "spearman"}
    for spec in PUBLIC_TASKS.values():
        assert spec.source and all(r.source and r.metric == metrics[spec.name] for r in spec.reported)


def test_public_suite_keeps_the_published_splits_and_shows_reported_numbers(public_dir, tmp_path, capsys):
    out = tmp_path / "bench"
    argv = ["benchmark", "--suite", "public", "--data", str(public_dir), "--tasks", "solubility,localization,gb1",
            "--encoders", "composition", "--heads", "linear", "--pooled-epochs", "5", "--bootstrap", "20",
            "--map", "pca", "--out", str(out), "--cache", str(tmp_path / "cache.sqlite"), "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "reported, not run here" in printed and "DeepSol (CNN)" in printed and "Khurana et al. 2018" in printed
    assert "ProtT5 + light attention" in printed and "0.860" in printed
    result = (out / "runs" / "solubility" / "composition+linear" / "result.json").read_text()
    assert '"test": 50' in result and '"valid": 20' in result  # DeepSol's own test and validation files
    page = (out / "report.html").read_text()
    assert "Published numbers beside ours (reported, not run here)" in page
    assert "Khurana et al. 2018, Bioinformatics" in page and "LSSI-ETH/plmfit" in page and "composition + linear" in page


@pytest.mark.parametrize("argv, message", [
    (["--suite", "public"], "give --data DIR"),
    (["--data", "."], "--data DIR is for --suite public"),
])
def test_suite_and_data_go_together(argv, message, tmp_path, capsys):
    assert main(["benchmark", *argv, "--out", str(tmp_path / "b")]) == 2
    assert message in capsys.readouterr().err
