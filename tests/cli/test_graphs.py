import json
from dataclasses import replace

import numpy as np
import pytest

from biolens.cli import main
from biolens.data import resolve_input
from biolens.graphs import _train as graph_train
from biolens.graphs import load_ogb, load_run, preset

FAST = ["--dataset", "sample:ogbl-ddi-sample", "--preset", "tiny", "--epochs", "8", "--batch-size", "1024", "-q"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("graph") / "run"
    assert main(["graph", "train", *FAST, "--out", str(out), "--seeds", "2"]) == 0
    return out


def test_training_learns_and_writes_a_complete_run(run):
    for name in ("config.json", "graph.npz", "result.json", "report.html", "checkpoint/seed-1/nodes.npy",
                 "train/seed-1/metrics.jsonl"):
        assert (run / name).exists()
    summary = json.loads((run / "result.json").read_text())
    assert summary["seeds"] == [0, 1] and len(summary["valid"]["hits@20"]["values"]) == 2
    # random scores would put ~20/877 of the positives above the 20th best negative
    assert summary["valid"]["hits@20"]["mean"] > 0.25 and summary["valid"]["auc"]["mean"] > 0.85
    assert summary["valid"]["hits@20"]["std"] > 0  # two seeds, two results
    result = json.loads((run / "checkpoint/seed-0/meta.json").read_text())["result"]
    assert result == summary["per_seed"][0]
    assert result["steps_per_epoch"] == 10466 // 1024 and result["peak_rss_mb"] > 0


def test_evaluate_prints_json_matching_the_training_evaluation(run, capsys):
    assert main(["graph", "evaluate", str(run), "--split", "sample:ogbl-ddi-sample/split/target/valid.pt"]) == 0
    out = json.loads(capsys.readouterr().out)
    summary = json.loads((run / "result.json").read_text())
    assert out["hits@20"] == pytest.approx(summary["valid"]["hits@20"]["mean"], abs=1e-9)
    assert out["hits@20_std"] == pytest.approx(summary["valid"]["hits@20"]["std"], abs=1e-9)
    assert out["positives"] == 1263 and out["negatives"] == 877 and out["positives_in_training_graph"] == 0


def test_predict_scores_pairs_and_ranks_new_partners(run, capsys):
    trained = load_run(run, 0)[0]
    u, v = trained.graph.edges[0]
    a, b = trained.graph.names[u], trained.graph.names[v]
    assert main(["graph", "predict", str(run), a, b, str(u), "5", "--json", "--seed", "0"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["a"] for r in rows] == [a, a] and rows[0]["known"] is True and 0 < rows[0]["probability"] < 1
    assert rows[0]["score"] == pytest.approx(float(trained.score(np.array([[u, v]]))[0]), rel=1e-6)
    assert main(["graph", "predict", str(run), a, "--top", "7", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)
    scores = [r["score"] for r in top]
    assert len(top) == 7 and scores == sorted(scores, reverse=True) and not any(r["known"] for r in top)
    assert main(["graph", "predict", str(run), str(u), "--top", "7", "--json"]) == 0  # by node index
    assert json.loads(capsys.readouterr().out) == top


def test_bad_input_is_a_clear_error(run, tmp_path, capsys):
    assert main(["graph", "predict", str(run), "DB99999", "--top", "3"]) == 2
    assert "unknown node 'DB99999'" in capsys.readouterr().err
    np.savez(tmp_path / "empty.npz", edge=np.zeros((0, 2), np.int64), edge_neg=np.array([[0, 1]]))
    assert main(["graph", "evaluate", str(run), "--split", str(tmp_path / "empty.npz")]) == 2
    assert "empty: nothing to evaluate" in capsys.readouterr().err
    assert main(["graph", "train", "--dataset", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")]) == 2
    assert "file not found" in capsys.readouterr().err
    (tmp_path / "e.csv").write_text("0,1\n1,2\n2,3,4\n")
    assert main(["graph", "train", "--dataset", str(tmp_path / "e.csv"), "--out", str(tmp_path / "r")]) == 2
    assert "e.csv:3: expected 2 fields" in capsys.readouterr().err
    assert main(["graph", "train", *FAST, "--out", str(tmp_path / "r"), "--sampler", "neighbor", "--fanouts", "5"]) == 2
    assert "one number per GNN layer (2)" in capsys.readouterr().err
    assert main(["graph", "train", *FAST, "--out", str(run), "--lr", "0.5"]) == 2  # other settings, same folder
    assert "holds another run (1 field(s) differ, saved → now): settings.train.learning_rate: 0.01 → 0.5" in (
        capsys.readouterr().err)


class Crash(Exception):
    pass


def test_killed_run_resumes_to_the_same_model(tmp_path, monkeypatch):
    args = ["graph", "train", "--dataset", "sample:ogbl-ddi-sample", "--preset", "tiny", "--epochs", "3",
            "--batch-size", "4096", "--loss", "auc", "--num-neg", "2", "-q"]
    assert main([*args, "--out", str(tmp_path / "straight")]) == 0
    original = graph_train.PairBatches.epoch
    seen = {"n": 0}

    def crashing(self, index):
        for batch in original(self, index):
            if seen["n"] == 4:  # in the middle of the second epoch
                raise Crash
            seen["n"] += 1
            yield batch

    monkeypatch.setattr(graph_train.PairBatches, "epoch", crashing)
    with pytest.raises(Crash):
        main([*args, "--out", str(tmp_path / "resumed")])
    monkeypatch.setattr(graph_train.PairBatches, "epoch", original)
    assert main([*args, "--out", str(tmp_path / "resumed")]) == 0
    a, b = (np.load(tmp_path / r / "checkpoint/seed-0/nodes.npy") for r in ("straight", "resumed"))
    np.testing.assert_array_equal(a, b)
    assert (tmp_path / "resumed/train/seed-0/metrics.jsonl").read_text() != ""


def test_neighbour_sampling_trains_on_the_sample(tmp_path):
    out = tmp_path / "ns"
    assert main(["graph", "train", *FAST, "--out", str(out), "--sampler", "neighbor", "--fanouts", "8,4"]) == 0
    summary = json.loads((out / "result.json").read_text())
    assert summary["valid"]["hits@20"]["mean"] > 0.1 and summary["valid"]["auc"]["mean"] > 0.8


def test_subgraph_run_evaluates_a_split_in_the_original_numbering(tmp_path, capsys):
    out = tmp_path / "sub"
    assert main(["graph", "train", *FAST[:-5], "--epochs", "2", "--out", str(out), "--subgraph", "200", "-q"]) == 0
    trained = load_run(out)[0]
    assert trained.graph.num_nodes == 200 and len(trained.original_ids) == 200
    full = load_ogb(resolve_input("sample:ogbl-ddi-sample"))
    assert np.array_equal(trained.graph.names, full.graph.names[trained.original_ids])
    assert main(["graph", "evaluate", str(out), "--split", "sample:ogbl-ddi-sample/split/target/valid.npz"]) == 0
    result = json.loads(capsys.readouterr().out)
    keep = np.isin(full.valid.edge, trained.original_ids).all(1)
    assert result["positives"] == keep.sum() and result["pairs_outside_subgraph"] > 0


def test_presets_are_listed(capsys):
    assert main(["graph", "presets"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("default", "b16k150", "batch64k", "short", "bce", "auc", "hinge", "ogb", "plnlp", "tiny"))
    default, bce, auc = preset("default"), preset("bce"), preset("auc")  # one model, other losses
    b64, short = preset("batch64k"), preset("short")  # the default's model and loss, larger steps
    assert b64.model == default.model and b64.link == default.link
    b150 = preset("b16k150")  # the default over fewer epochs, unclipped
    assert b150.model == default.model and b150.link == default.link
    assert replace(b150.train, max_epochs=250, grad_clip=1.0) == default.train
    assert replace(b64.train, batch_size=16384, max_epochs=150) == b150.train
    assert short.link == default.link and replace(short.train, max_epochs=200) == b64.train
    assert auc.model == default.model == bce.model and replace(auc.train, max_epochs=50) == short.train == bce.train
    assert (auc.link.loss, auc.link.num_neg, bce.link.loss, bce.link.num_neg) == ("auc", 3, "bce", 1)
    assert (default.link.loss, default.link.num_neg) == ("hinge", 3)
    hinge = preset("hinge")  # the default's loss over the auc preset's 35 epochs
    assert hinge.model == auc.model and hinge.train == auc.train and hinge.link == default.link


def test_predictor_width_and_weight_averaging_reach_the_run(tmp_path):
    out = tmp_path / "run"
    assert main(["graph", "train", *FAST, "--epochs", "2", "--out", str(out), "--predictor-hidden", "24",
                 "--ema", "0.9"]) == 0
    config = json.loads((out / "config.json").read_text())["settings"]
    assert config["model"]["predictor_hidden"] == 24 and config["train"]["ema"] == 0.9
    assert load_run(out, 0)[0].model.predictor.linears[0].weight.shape == (24, 32)
