"""run_task end to end on the shipped samples: every kind, the run folder, reuse, fine-tuning."""

import csv
import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.errors import CheckpointMismatchError, InputError, RunMismatchError
from biolens.core.train import TrainConfig
from biolens.data import sample_path
from biolens.proteins.encoders.onehot import CompositionEncoder
from biolens.proteins.supervised import (
    TEST_PREDICTIONS,
    HeadConfig,
    RunConfig,
    load_predictor,
    read_test_predictions,
    run_task,
    task_metrics,
)
from biolens.proteins.tasks import load_task
from toy_encoders import DifferentiableToy


def cfg(epochs=5, lr=3e-3, **kw):
    kw = {"bootstrap": 20, "size_curve": (), **kw}
    return RunConfig(train=TrainConfig(max_epochs=epochs, patience=None, learning_rate=lr, batch_size=32), **kw)


def test_solubility_linear_run_folder_baselines_and_reuse(tmp_path):
    data = load_task("solubility", sample_path("solubility"))
    res = run_task(data, "composition", "linear", out_dir=tmp_path / "run", config=cfg(40, 1e-2, size_curve=(0.3,)))
    auroc = res.metrics["auroc"]
    # logistic regression on composition, trained by our loop, agrees with scikit-learn's
    assert auroc["value"] > 0.68 and abs(auroc["value"] - res.baselines["composition"]["metrics"]["auroc"]["value"]) < 0.04
    assert auroc["low"] < auroc["value"] < auroc["high"]
    assert res.baselines["coin_flip"]["metrics"]["accuracy"]["value"] == pytest.approx(0.5, abs=0.03)
    test_y = data.labels[np.isin(data.ids, [r["id"] for r in _rows(tmp_path / "run/predictions.csv") if r["split"] == "test"])]
    assert res.baselines["majority"]["metrics"]["accuracy"]["value"] == pytest.approx(np.mean(test_y == 0))
    assert res.deltas["coin_flip"] > 0.15 and len(res.size_curve) == 2
    saved = read_test_predictions(tmp_path / "run" / TEST_PREDICTIONS)  # what a paired test between runs reads
    assert sorted(saved.ids) == sorted(r["id"] for r in _rows(tmp_path / "run/predictions.csv") if r["split"] == "test")
    assert task_metrics("binary", saved.y_true, saved.y_pred)["auroc"] == pytest.approx(auroc["value"])
    for name in ("config.json", "split.csv", "result.json", "predictions.csv", "report.html", "checkpoint/meta.json"):
        assert (tmp_path / "run" / name).exists(), name
    meta = json.loads((tmp_path / "run/checkpoint/meta.json").read_text())
    assert meta["label_names"] == ["insoluble", "soluble"] and meta["encoder"] == "composition"
    assert meta["head"]["kind"] == "linear" and meta["pooling"] == "mean" and len(meta["encoder_fingerprint"]) == 32
    html = (tmp_path / "run/report.html").read_text()
    assert html.count("<img") >= 4 and "model vs baselines" in html and "confusion matrix" in html
    body = html.split("<body>")[1]  # settings as key/value rows (no JSON, no None); the kept step marked
    assert '<table class="kv">' in body and "<td>run.train</td>" in body and "None" not in body and '{"' not in body
    assert "dashed green: the step of the kept model" in body
    rows = _rows(tmp_path / "run/predictions.csv")
    assert len(rows) == 400 and set(rows[0]) == {"id", "split", "true", "prediction", "p_insoluble", "p_soluble"}
    # the decision threshold, chosen on validation, labels the predictions and scores the test metrics
    cal = meta["calibration"]
    assert cal["method"] == "platt" and cal["rule"] == "balanced_accuracy" and cal["n_valid"] == res.counts["valid"]
    assert all(r["prediction"] == ("soluble" if float(r["p_soluble"]) >= cal["threshold"] else "insoluble") for r in rows)
    test_rows = [r for r in rows if r["split"] == "test"]
    acc = np.mean([(float(r["p_soluble"]) >= cal["threshold"]) == (r["true"] == "soluble") for r in test_rows])
    assert res.metrics["accuracy"]["value"] == pytest.approx(acc, abs=1e-4) and res.calibration == cal
    assert "calibration and threshold" in html and "reliability curve" in html
    # a saved model predicts what the run wrote
    predictor = load_predictor(tmp_path / "run")
    assert predictor.threshold == cal["threshold"]
    p = predictor.predict(data.sequences[:5])
    np.testing.assert_allclose(p, [float(r["p_soluble"]) for r in rows[:5]], rtol=1e-4, atol=1e-5)
    again = run_task(data, "composition", "linear", out_dir=tmp_path / "run", config=cfg(40, 1e-2, size_curve=(0.3,)))
    assert again.reused and again.metrics == res.metrics
    with pytest.raises(RunMismatchError, match=r"holds another run.*settings\.run\.train\.max_epochs: 40 → 41"):
        run_task(data, "composition", "linear", out_dir=tmp_path / "run", config=cfg(41, 1e-2))
    with pytest.raises(CheckpointMismatchError, match="trained on 'composition' embeddings, not 'dipeptide'"):
        load_predictor(tmp_path / "run", encoder=CompositionEncoder(dipeptides=True))


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_multiclass_multilabel_regression_runs(tmp_path):
    loc = run_task(load_task("localization", sample_path("deeploc")), "composition", "mlp", config=cfg(10))
    assert loc.counts["test"] == 150 and 0.2 < loc.metrics["accuracy"]["value"] <= 1
    assert loc.metrics["accuracy"]["value"] > loc.baselines["coin_flip"]["metrics"]["accuracy"]["high"]
    ec = run_task(load_task("enzyme", sample_path("enzyme"), level=1), "composition", "mlp", out_dir=tmp_path / "ec", config=cfg(10))
    assert {"fmax", "macro_auprc", "micro_auprc", "protein_f1"} <= set(ec.metrics) and ec.primary == "fmax"
    assert "per label" in (tmp_path / "ec/report.html").read_text()
    gb1 = load_task("gb1", sample_path("gb1"))
    reg = run_task(gb1, "onehot", HeadConfig(kind="attention", hidden=16), config=cfg(3))  # one length bucket
    assert reg.primary == "spearman" and np.isfinite(reg.metrics["rmse"]["value"])
    assert np.isnan(reg.baselines["majority"]["metrics"]["spearman"]["value"])  # a constant has no rank correlation


def test_per_residue_secondary_structure(tmp_path):
    full = load_task("secondary-structure", sample_path("secondary-structure"))
    data = full.subset([i for i, s in enumerate(full.sequences) if len(s) <= 250])  # two length buckets: quick
    res = run_task(data, "onehot", "per_residue", out_dir=tmp_path / "ss",
                   config=cfg(3, 1e-2, head=HeadConfig(kind="per_residue", channels=16, kernel=7)))
    assert res.primary == "q3" and res.counts == {k: int((data.splits == k).sum()) for k in ("train", "valid", "test")}
    test = np.flatnonzero(data.splits == "test")
    resolved = np.concatenate([data.labels[i][data.masks[i]] for i in test])
    majority = np.bincount(np.concatenate([data.labels[i] for i in np.flatnonzero(data.splits == "train")])).argmax()
    assert res.baselines["majority"]["metrics"]["q3"]["value"] == pytest.approx(np.mean(resolved == majority))
    saved = read_test_predictions(tmp_path / "ss" / TEST_PREDICTIONS)  # per-residue lists come back as lists
    assert [len(p) for p in saved.y_pred] == [len(data.sequences[i]) for i in test] and len(saved.masks) == len(test)
    assert task_metrics("per_residue", saved.y_true, saved.y_pred, saved.masks)["q3"] == pytest.approx(res.metrics["q3"]["value"])
    rows = _rows(tmp_path / "ss/predictions.csv")
    assert all(len(r["prediction"]) == len(r["true"]) for r in rows) and set("".join(r["prediction"] for r in rows)) <= set("HEC")
    probs = load_predictor(tmp_path / "ss").predict(data.sequences[:2])
    assert [p.shape for p in probs] == [(len(s), 3) for s in data.sequences[:2]]
    assert ["".join("HEC"[k] for k in p.argmax(-1)) for p in probs] == [r["prediction"] for r in rows[:2]]


def test_bad_inputs_are_clear(write):
    rows = "sequence,label,split\n" + "".join(f"MKV{'A' * i},{'a' if i % 2 else 'b'},train\n" for i in range(20))
    rows += "MKVWW,c,test\nMKVWA,a,test\nMKVYY,b,valid\n"
    data = load_task("multiclass", write("t.csv", rows))
    with pytest.raises(InputError, match=r"class\(es\) c have no training example \(0 in validation, 1 in test\)"):
        run_task(data, "composition", "mlp", config=cfg(1))
    sol = load_task("solubility", sample_path("solubility"))
    with pytest.raises(InputError, match=r"longer than the cnn head's max_length 100"):
        run_task(sol, "onehot", HeadConfig(kind="cnn", max_length=100), config=cfg(1))
    with pytest.raises(InputError, match="the linear head does not fit a per_residue task"):
        run_task(load_task("secondary-structure", sample_path("secondary-structure")), "onehot", "linear", config=cfg(1))
    with pytest.raises(InputError, match="cannot be fine-tuned"):
        run_task(sol, "composition", "mlp", config=cfg(1, finetune=True))


def test_finetuning_updates_only_the_last_layers(tmp_path):
    sol = load_task("solubility", sample_path("solubility"))
    data = sol.subset([i for i, s in enumerate(sol.sequences) if len(s) <= 120][:60])
    toy = DifferentiableToy(depth=3)
    res = run_task(data, toy, "mlp", out_dir=tmp_path / "ft",
                   config=cfg(2, 1e-2, finetune=True, finetune_last=1, head=HeadConfig(kind="mlp", hidden=8), baselines=False))
    predictor = load_predictor(tmp_path / "ft", encoder=toy)
    tuned = predictor.model.encoder
    same = lambda a, b: all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(eqx.filter(a, eqx.is_array)), jax.tree.leaves(eqx.filter(b, eqx.is_array))))  # noqa: E731
    assert same(tuned.embedding, toy.module.embedding)
    assert same(tuned.layers[0], toy.module.layers[0]) and same(tuned.layers[1], toy.module.layers[1])
    assert not same(tuned.layers[2], toy.module.layers[2])
    p = predictor.predict(data.sequences[:4])
    rows = _rows(tmp_path / "ft/predictions.csv")
    np.testing.assert_allclose(p, [float(r["p_soluble"]) for r in rows[:4]], rtol=1e-4, atol=1e-5)
    assert np.isfinite(res.metrics["auroc"]["value"])
    # per-residue fine-tuning drops the BOS token: position i is residue i
    ss = load_task("secondary-structure", sample_path("secondary-structure"))
    short = [i for i, s in enumerate(ss.sequences) if len(s) <= 150]
    ss = ss.subset([i for part in ("train", "valid", "test") for i in [j for j in short if ss.splits[j] == part][:4]])
    res_ss = run_task(ss, toy, HeadConfig(kind="per_residue", channels=8, kernel=3),
                      config=cfg(1, finetune=True, baselines=False))
    assert 0 <= res_ss.metrics["q3"]["value"] <= 1
    # --encoder-lr 0: the head trains, the encoder stays exactly as loaded
    frozen = run_task(data, toy, "mlp", out_dir=tmp_path / "ft0", config=cfg(1, 1e-2, finetune=True, finetune_last=1,
                      encoder_lr=0.0, head=HeadConfig(kind="mlp", hidden=8), baselines=False))
    assert np.isfinite(frozen.metrics["auroc"]["value"])
    model0 = load_predictor(tmp_path / "ft0", encoder=toy).model
    assert same(model0.encoder, toy.finetune(toy.module, 1)[0])
    from biolens.proteins.supervised import build_head

    assert not same(model0.head, build_head(HeadConfig(kind="mlp", hidden=8), toy.width, 1, key=jax.random.PRNGKey(0)))


def test_binary_positive_weight_sqrt_or_balanced():
    from biolens.proteins.supervised._run import _weights

    data = load_task("solubility", sample_path("solubility"))
    idx = np.arange(len(data))
    pos = int(np.asarray(data.labels).sum())
    ratio = (len(data) - pos) / pos
    assert _weights(data, idx, True)["pos_weight"] == pytest.approx(np.sqrt(ratio))
    assert _weights(data, idx, True, balanced=True)["pos_weight"] == pytest.approx(ratio)
    assert _weights(data, idx, False) == {}


def test_per_class_figures_leave_out_classes_with_no_record():
    from biolens.proteins.supervised._report import _confusion, _per_label

    loc = load_task("localization", sample_path("deeploc"))  # the sample has no Peroxisome record
    y = np.asarray(loc.labels[:60])
    pred = np.eye(len(loc.task.label_names))[y] * 0.9 + 0.01
    labels, scores, _ = _per_label(loc.task, y, pred)
    assert not any(lab.startswith("Peroxisome") for lab in labels) and all("(n=" in lab for lab in labels)
    assert scores == [1.0] * len(labels)  # perfect predictions: F1 1 for every class that has test proteins
    ticks = [t.get_text() for t in _confusion(loc.task, y, pred, None).axes[0].get_yticklabels()]
    assert "Peroxisome" not in ticks and len(ticks) == len(set(y.tolist()))


def test_the_finetuned_encoder_learns_at_a_tenth_of_the_heads_rate_by_default():
    from biolens.proteins.supervised import ENCODER_LR_RATIO, TaskModel, build_head
    from biolens.proteins.supervised._run import _encoder_rescale

    toy = DifferentiableToy(depth=1)
    ones = TaskModel(head=build_head(HeadConfig(kind="mlp", hidden=8), toy.width, 1, key=jax.random.PRNGKey(0)),
                     encoder=toy.module)
    ones = jax.tree.map(lambda a: jnp.ones_like(a) if eqx.is_inexact_array(a) else a, ones)

    def scales(config):
        rescale = _encoder_rescale(config)
        out = ones if rescale is None else rescale(ones)
        return ({round(float(x), 6) for leaf in jax.tree.leaves(eqx.filter(out.encoder, eqx.is_inexact_array)) for x in np.ravel(leaf)},
                {round(float(x), 6) for leaf in jax.tree.leaves(eqx.filter(out.head, eqx.is_inexact_array)) for x in np.ravel(leaf)})

    assert ENCODER_LR_RATIO == 0.1
    assert scales(cfg(1, 3e-3, finetune=True)) == ({0.1}, {1.0})
    assert scales(cfg(1, 3e-3, finetune=True, encoder_lr=3e-3)) == ({1.0}, {1.0})
    assert scales(cfg(1, 3e-3, finetune=True, encoder_lr=3e-5)) == ({0.01}, {1.0})
