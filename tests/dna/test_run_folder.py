"""``biolens dna train`` with the default preset: the RunFolder contract, both strands at predict time,
and run folders of an older biolens."""

import json
import shutil

import numpy as np
import polars as pl
import pytest

from biolens.cli import main
from biolens.data import resolve_input
from biolens.dna import DEFAULT_PRESET, PRESETS, read_tf_data, reverse_complement

TINY = ["--set", "conv_filters=8", "--set", "kernel_size=5", "--set", "dense_units=16", "--set", "heads=2",
        "--set", "transformer_hidden=8", "--max-steps", "12", "--eval-every", "6", "--quiet"]


def train_args(out, *extra):
    return ["dna", "train", "--train", "sample:ctcfl_train", "--out", str(out), *TINY, *extra]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dna-default") / "run"
    assert main(train_args(out)) == 0
    return out


def test_plain_train_uses_the_default_preset_in_a_run_folder(run):
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "dna-tf-binding" and config["settings"]["preset"] == DEFAULT_PRESET
    assert config["data"]["records"] == len(read_tf_data(resolve_input("sample:ctcfl_train")))
    assert len(config["data"]["digest"]) == 64
    meta = json.loads((run / "checkpoint" / "meta.json").read_text())
    assert meta["model_config"]["strands"] == PRESETS[DEFAULT_PRESET].model.strands
    result = json.loads((run / "result.json").read_text())
    assert result["preset"] == DEFAULT_PRESET and result["tasks"] == ["CTCFL"] and result["steps"] == 12
    assert 0 <= result["validation"]["auroc"] <= 1 and "trained" not in result


def test_another_run_in_the_folder_is_refused_before_any_work(run, capsys):
    before = (run / "checkpoint" / "model.eqx").read_bytes()
    assert main(train_args(run, "--lr", "0.01")) != 0
    err = capsys.readouterr().err
    assert "holds another run" in err and "learning_rate" in err
    assert (run / "checkpoint" / "model.eqx").read_bytes() == before


def test_predict_is_the_same_for_either_strand(run, tmp_path, write):
    data = read_tf_data(resolve_input("sample:ctcfl_test"))
    plus = write("plus.fa", "".join(f">{i}\n{s}\n" for i, s in zip(data.ids[:40], data.sequences[:40])))
    minus = write("minus.fa", "".join(f">{i}\n{reverse_complement(s)}\n" for i, s in zip(data.ids[:40], data.sequences[:40])))
    tables = []
    for f in (plus, minus):
        out = tmp_path / f"{f.stem}.csv"
        assert main(["dna", "predict", str(run), str(f), "--out", str(out), "--quiet"]) == 0
        tables.append(pl.read_csv(out))
    assert tables[0]["id"].to_list() == list(data.ids[:40])
    p, q = tables[0]["p_bound"].to_numpy(), tables[1]["p_bound"].to_numpy()
    np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)
    assert p.std() > 0


def test_a_run_of_an_older_biolens_predicts_but_is_not_resumed(run, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(run, old)
    # what an older biolens wrote: no config.json / result.json, a model config without the strands field
    for f in ("config.json", "result.json", ".lock"):
        (old / f).unlink()
    meta_file = old / "checkpoint" / "meta.json"
    meta = json.loads(meta_file.read_text())
    del meta["model_config"]["strands"]  # older model configs had no strands field (one strand)
    meta_file.write_text(json.dumps(meta))
    out = tmp_path / "pred.csv"
    assert main(["dna", "predict", str(old), "sample:ctcfl_test", "--out", str(out), "--quiet"]) == 0
    assert pl.read_csv(out).columns[:2] == ["id", "p_bound"]
    capsys.readouterr()
    assert main(train_args(old)) != 0
    assert "older biolens" in capsys.readouterr().err
