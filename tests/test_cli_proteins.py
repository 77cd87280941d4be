"""biolens train / evaluate / predict through main(argv), including every bad input of the issue."""

import csv
import json

import pytest

from biolens.cli import main
from biolens.data import sample_path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    code = main(["train", "--data", "sample:solubility", "--task", "solubility", "--encoder", "composition",
                 "--head", "linear", "--out", str(root / "run"), "--epochs", "30", "--lr", "1e-2", "--bootstrap", "20",
                 "--size-curve", "none", "--cache", str(root / "cache.sqlite"), "--quiet"])
    assert code == 0
    return root / "run"


def test_train_writes_the_run(run_dir):
    metrics = json.loads((run_dir / "result.json").read_text())
    assert metrics["primary"] == "auroc" and metrics["metrics"]["auroc"]["value"] > 0.65
    assert set(metrics["baselines"]) == {"coin_flip", "proportional", "majority", "composition"}


def test_predict_fasta_and_csv(run_dir, tmp_path, write):
    fasta = write("new.fasta", ">a\nMKVLAAGIVGLLLAQ\n>b\nMDEEKKRRSSTTPP\n")
    assert main(["predict", str(run_dir), str(fasta), "--out", str(tmp_path / "p.csv"), "--quiet"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert [r["id"] for r in rows] == ["a", "b"] and set(rows[0]) == {"id", "prediction", "p_insoluble", "p_soluble"}
    assert all(abs(float(r["p_insoluble"]) + float(r["p_soluble"]) - 1) < 1e-5 for r in rows)
    threshold = json.loads((run_dir / "checkpoint/meta.json").read_text())["calibration"]["threshold"]
    assert all(r["prediction"] == ("soluble" if float(r["p_soluble"]) >= threshold else "insoluble") for r in rows)
    assert main(["predict", str(run_dir), "sample:solubility", "--out", str(tmp_path / "q.csv"), "--quiet"]) == 0
    got = list(csv.DictReader(open(tmp_path / "q.csv")))
    ran = list(csv.DictReader(open(run_dir / "predictions.csv")))
    # predict uses the run's calibration and threshold: the same probabilities and labels as the run wrote
    assert len(got) == 400 and [r["prediction"] for r in got] == [r["prediction"] for r in ran]
    assert all(abs(float(g["p_soluble"]) - float(r["p_soluble"])) < 1e-4 for g, r in zip(got, ran, strict=True))
    assert any(0.5 <= float(r["p_soluble"]) < threshold or threshold <= float(r["p_soluble"]) < 0.5 for r in ran)


def test_evaluate_saved_and_new_data(run_dir, tmp_path, capsys):
    assert main(["evaluate", str(run_dir)]) == 0
    assert "auroc" in capsys.readouterr().out
    out = tmp_path / "m.json"
    assert main(["evaluate", str(run_dir), "--data", "sample:solubility", "--bootstrap", "10", "--out", str(out), "--quiet"]) == 0
    assert json.loads(out.read_text())["counts"] == {"test": 400}


def test_predict_refuses_another_encoder(run_dir, tmp_path, capsys):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(run_dir, other)
    meta = json.loads((other / "checkpoint/meta.json").read_text())
    meta["encoder_fingerprint"] = "0" * 32  # as if trained with other settings of the same encoder
    (other / "checkpoint/meta.json").write_text(json.dumps(meta))
    code = main(["predict", str(other), "sample:solubility", "--out", str(tmp_path / "p.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "refusing to predict" in err and "differs from the one it was trained with" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("content,args,message", [
    ("sequence,label\nMKV,yes\nMKW,no\nMKA,maybe\n", ["--task", "binary"], "a binary task needs two label values"),
    ("sequence,target\nMKV,1.0\nMKW,NaN\n", ["--task", "regression"], "t.csv:3, record 'row2': missing label ('NaN')"),
    ("sequence,label\nMKV,0\nMKW,1\nMKA,2\n", ["--task", "solubility"], "t.csv:4, record 'row3': unknown value '2' in column 'label'"),
    ("sequence,label\nMKV,0\nMKW,1\nMKA,0\n", ["--task", "binary", "--valid-fraction", "0"], "the valid split is empty"),
])
def test_bad_input_messages(write, tmp_path, capsys, content, args, message):
    path = write("t.csv", content)
    code = main(["train", "--data", str(path), "--encoder", "composition", "--out", str(tmp_path / "r"), *args, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_too_long_for_head_message(tmp_path, capsys):
    code = main(["train", "--data", "sample:solubility", "--task", "solubility", "--encoder", "onehot", "--head", "cnn",
                 "--max-length", "50", "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "longer than the cnn head's max_length 50" in err and "--too-long skip" in err
    assert sample_path("solubility").exists()
