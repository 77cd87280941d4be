import json

import numpy as np
import polars as pl
import pytest

from biolens.cli import main
from biolens.data import resolve_input
from biolens.dna import read_tf_data

TINY = ["--set", "conv_filters=8", "--set", "kernel_size=5", "--set", "dense_units=16", "--set", "heads=2",
        "--set", "transformer_hidden=8"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dna") / "run"
    code = main(["dna", "train", "--train", "sample:ctcfl_train", "--out", str(out), "--model", "conv-transformer",
                 "--epochs", "2", "--batch-size", "64", "--eval-every", "16", "--quiet", *TINY])
    assert code == 0
    return out


def test_train_writes_a_resumable_run_with_report(run):
    meta = json.loads((run / "checkpoint" / "meta.json").read_text())
    assert meta["tasks"] == ["CTCFL"] and meta["model_config"]["transformer_blocks"] == 1
    assert meta["encoding"]["n_value"] == 0.25 and "shuffle" in meta["data"]["negatives"]
    assert meta["steps"] == 2 * (1080 // 64)
    rows = [json.loads(x) for x in (run / "train" / "metrics.jsonl").read_text().splitlines()]
    assert [r["split"] for r in rows].count("val") == 2 and (run / "report.html").stat().st_size > 5000
    # the finished run resumes to its result without training again
    before = (run / "checkpoint" / "model.eqx").read_bytes()
    assert main(["dna", "train", "--train", "sample:ctcfl_train", "--out", str(run), "--model", "conv-transformer",
                 "--epochs", "2", "--batch-size", "64", "--eval-every", "16", "--quiet", *TINY]) == 0
    assert (run / "checkpoint" / "model.eqx").read_bytes() == before


def test_predict_one_row_per_sequence_in_input_order(run, tmp_path):
    out = tmp_path / "pred.csv"
    assert main(["dna", "predict", str(run), "sample:ctcfl_test", "--out", str(out), "--quiet"]) == 0
    table = pl.read_csv(out)
    data = read_tf_data(resolve_input("sample:ctcfl_test"))
    assert table["id"].to_list() == list(data.ids) and table.columns == ["id", "p_bound", "label"]
    p = table["p_bound"].to_numpy()
    assert np.all((p > 0) & (p < 1)) and p.std() > 0


def test_evaluate_reports_metrics_with_intervals(run, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert main(["dna", "evaluate", str(run), "sample:ctcf_test", "--out", str(out), "--bootstrap", "50"]) == 0
    row = json.loads(out.read_text())["rows"][0]
    assert row["n"] == 200 and row["positives"] == 100
    for k in ("auroc", "auprc", "accuracy"):
        assert row[f"{k}_low"] <= row[k] <= row[f"{k}_high"]
    assert "auROC [95% CI]" in capsys.readouterr().out and out.with_suffix(".html").exists()
    page = out.with_suffix(".html").read_text()  # the curves behind the areas, and the run's kept step
    assert page.count("data:image/png;base64") == 2 and "ROC and precision-recall curves per task" in page
    assert "dashed green: the step of the kept model" in page and "{" not in page.split("<body>")[1]
    check = json.loads(out.read_text())["motif_check"]  # the single-task run's top ISM windows vs known motifs
    assert check["n_positives"] == 32 and check["verdict"].startswith(("motif found", "NO KNOWN MOTIF"))
    assert (check["found"] == []) == check["verdict"].startswith("NO KNOWN MOTIF")


def test_ism_and_saliency_write_attributions_motif_check_and_figure(run, tmp_path):
    out = tmp_path / "ism"
    assert main(["dna", "ism", str(run), "sample:ctcfl_test", "--out", str(out), "--limit", "3", "--motif", "CTCF",
                 "--quiet", "--batch-size", "256"]) == 0
    arrays = np.load(out / "attributions.npz")
    assert arrays["ism"].shape == (3, 101, 4) and arrays["gradients"].shape == (3, 101, 4)
    x_is_ref = arrays["ism"] == 0
    assert x_is_ref.sum(-1).min() >= 1  # the present base of every position scores exactly zero
    check = json.loads((out / "motif_check.json").read_text())
    assert check["summary"]["of"] == 3 and len(check["records"]) == 3
    assert len(list(out.glob("*.png"))) == 1
    sal = tmp_path / "sal"
    assert main(["dna", "saliency", str(run), "sample:ctcfl_test", "--out", str(sal), "--limit", "2", "--quiet",
                 "--times-input"]) == 0
    g = np.load(sal / "attributions.npz")["gradients"]
    assert g.shape == (2, 101, 4) and np.all((g != 0).sum(-1) <= 1)


def test_bad_input_is_a_clear_error(run, write, capsys):
    mixed = write("mixed.fa", ">a\n" + "A" * 101 + "\n>b\n" + "C" * 100 + "\n")
    assert main(["dna", "predict", str(run), str(mixed), "--out", str(mixed) + ".csv"]) == 2
    assert "record 'b': has length 100, but 'a' has length 101" in capsys.readouterr().err
    short = write("short.fa", ">a\nACGT\n")
    assert main(["dna", "predict", str(run), str(short), "--out", str(short) + ".csv"]) == 2
    assert "trained on length 101" in capsys.readouterr().err
    bad = write("bad.fa", ">a\n" + "A" * 100 + "Z\n")
    assert main(["dna", "predict", str(run), str(bad), "--out", str(bad) + ".csv"]) == 2
    assert "record 'a': invalid characters: 'Z'" in capsys.readouterr().err
    soft = write("soft.fa", ">a\n" + "a" * 101 + "\n")
    assert main(["dna", "predict", str(run), str(soft), "--out", str(soft) + ".csv"]) == 0
    assert "lowercase letters upper-cased in 1 record(s)" in capsys.readouterr().err
    assert main(["dna", "train", "--train", str(soft), "--out", str(soft) + ".run", "--set", "nope=1"]) == 2
