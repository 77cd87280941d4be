"""The table of task kinds: every entry is complete and agrees with the metrics it names, and a
kind registered in the table alone trains, evaluates, reports and predicts end to end."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.core.train import TrainConfig
from biolens.proteins.evaluation import baselines
from biolens.proteins.heads import HeadConfig
from biolens.proteins.model_io import load_predictor
from biolens.proteins.predictor import make_loss, output_transform
from biolens.proteins.report import prediction_table
from biolens.proteins.run import RunConfig, run_task
from biolens.proteins.tasks import TASK_KINDS, Task, TaskData, TaskKind, register_kind, task_kind

AA = "ACDEFGHIKLMNPQRSTVWY"


def _labels(spec: TaskKind, rng: np.random.Generator, n: int, k: int):
    """Labels of the form the kind's flags describe (not its name): a new kind with known flags is covered."""
    if spec.per_residue:
        return [rng.integers(0, k, size=int(t)) for t in rng.integers(3, 9, size=n)]
    if spec.label_columns:
        y = (rng.random((n, k)) < 0.4).astype(np.uint8)
        y[0], y[1] = 1, 0  # every label has a positive and a negative
        return y
    if spec.class_indices:
        return np.arange(n) % k
    return rng.normal(size=n)


def _names(spec: TaskKind) -> tuple[str, ...]:
    if spec.label_count is not None:
        return tuple(f"c{i}" for i in range(spec.label_count))
    return ("H", "E", "C") if spec.classification else ("value",)


@pytest.mark.parametrize("name", list(TASK_KINDS))
def test_every_kind_is_complete_and_consistent_with_its_metrics(name):
    spec = task_kind(name)
    assert spec.name == name
    for f in dataclasses.fields(TaskKind):  # nothing left out
        assert getattr(spec, f.name) is not None or f.name in ("label_count", "balance", "frequencies", "draw")
    names = _names(spec)
    k, n = len(names), 12
    rng = np.random.default_rng(0)
    y = _labels(spec, rng, n, k)
    width = spec.n_outputs(k)
    assert width == Task(name="t", kind=name, label_names=names).n_outputs
    # loss: finite on toy logits, through the trainer's loss_fn as well
    length = max(map(len, y)) if spec.per_residue else 0
    logits = jnp.asarray(rng.normal(size=(n, length, width) if spec.per_residue else (n, width)), jnp.float32)
    batch = {"w": jnp.ones(n)}
    if spec.per_residue:
        ys, ym = np.full((n, length), -1, np.int32), np.zeros((n, length), np.float32)
        for i, t in enumerate(y):
            ys[i, : len(t)], ym[i, : len(t)] = t, 1.0
        batch.update(y=jnp.asarray(ys.astype(spec.label_dtype)), y_mask=jnp.asarray(ym))
    else:
        batch["y"] = jnp.asarray(np.asarray(y).astype(spec.label_dtype))
    value = float(spec.loss(logits, batch, None, None))
    assert np.isfinite(value) and value >= 0
    loss, _ = make_loss(name)(lambda b, key=None: logits, None, batch, None)
    assert float(loss) == value
    # transform: probabilities for classification kinds; the same function the predictor uses
    p = np.asarray(output_transform(name)(logits), np.float64)
    assert np.array_equal(p, np.asarray(spec.transform(logits), np.float64))
    if spec.classification:
        assert np.all((p >= 0) & (p <= 1))
    if spec.output == "softmax":
        np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)
    pred = [p[i, : len(t)] for i, t in enumerate(y)] if spec.per_residue else (p[:, 0] if spec.single_output else p)
    # metrics: the primary and monitored metrics are among them and finite
    got = spec.metrics(y, pred, None, 0.5)
    assert spec.primary in got and spec.monitor in got
    assert np.isfinite(got[spec.primary]) and np.isfinite(got[spec.monitor])
    # the baselines' pieces give predictions the metrics accept
    freq = None if spec.frequencies is None else spec.frequencies(y, k)
    assert (freq is None) == (not spec.classification)
    if freq is not None:
        assert spec.primary in spec.metrics(y, spec.draw(np.random.default_rng(1), freq, y, k), None, 0.5)
    assert spec.primary in spec.metrics(y, spec.majority(y, y, freq), None, 0.5)
    # text: labels and predictions format without error, one cell per probability column
    assert isinstance(spec.summary(y, names), str) and isinstance(spec.label_text(y[0], names), str)
    cells = spec.prediction_cells(pred[0], names, 0.5)
    assert len(cells) == (1 + k if spec.classification and not spec.per_residue else 1)


def test_unknown_and_duplicate_kinds_are_refused():
    with pytest.raises(InputError, match="unknown task kind 'ordinal'"):
        Task(name="t", kind="ordinal", label_names=("a",))
    with pytest.raises(InputError, match="needs 2 label names"):
        Task(name="t", kind="binary", label_names=("a", "b", "c"))
    with pytest.raises(ValueError, match="already registered"):
        register_kind(task_kind("binary"))
    with pytest.raises(ValueError, match="output must be one of"):
        register_kind(dataclasses.replace(task_kind("regression"), name="x", output="tanh"))


def _huber(logits, batch, cw, pw):
    import optax

    per = optax.huber_loss(logits[:, 0], batch["y"], delta=1.0)
    return jnp.sum(per * batch["w"]) / jnp.maximum(jnp.sum(batch["w"]), 1.0)


@pytest.fixture
def huber_kind():
    """A new kind, registered in the table and nowhere else: regression with a Huber loss."""
    kind = register_kind(dataclasses.replace(task_kind("regression"), name="huber", loss=_huber))
    yield kind
    del TASK_KINDS["huber"]


def _toy_data(kind: str) -> TaskData:
    rng = np.random.default_rng(3)
    seqs = ["".join(rng.choice(list(AA), size=int(n))) for n in rng.integers(20, 40, size=80)]
    y = np.array([10 * s.count("K") / len(s) + 5 * s.count("W") / len(s) for s in seqs]) + rng.normal(0, 0.05, 80)
    return TaskData(task=Task(name="toy", kind=kind, label_names=("kw",)), ids=[f"p{i}" for i in range(80)],
                    sequences=seqs, labels=y)


def test_a_new_kind_registered_in_the_table_runs_end_to_end(huber_kind, tmp_path):
    data = _toy_data("huber")
    config = RunConfig(train=TrainConfig(max_epochs=60, batch_size=16, learning_rate=3e-2, patience=None),
                       head=HeadConfig(kind="linear"), bootstrap=20, size_curve=())
    res = run_task(data, "composition", "linear", out_dir=tmp_path / "run", config=config, cache=False)
    assert res.primary == "spearman" and res.kind == "huber"
    assert res.metrics["spearman"]["value"] > 0.8  # composition features carry the target
    assert "ridge" in res.baselines["composition"]["method"]
    assert (tmp_path / "run" / "report.html").stat().st_size > 1000
    assert (tmp_path / "run" / "predictions.csv").read_text().splitlines()[0] == "id,split,true,prediction"
    predictor = load_predictor(tmp_path / "run")
    p = predictor.predict(data.sequences[:5], cache=False)
    assert p.shape == (5,) and np.all(np.isfinite(p))
    # the trainer's loss is the new kind's (Huber: linear beyond delta), not regression's MSE
    batch = {"y": jnp.zeros(2), "w": jnp.ones(2)}
    logits = jnp.array([[3.0], [0.0]])
    huber, _ = make_loss("huber")(lambda b, key=None: logits, None, batch, None)
    mse, _ = make_loss("regression")(lambda b, key=None: logits, None, batch, None)
    assert float(huber) == pytest.approx(1.25) and float(mse) == pytest.approx(4.5)


def test_baselines_of_a_kind_follow_its_entry():
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list(AA), size=30)) for _ in range(40)]
    y = np.arange(40) % 2
    task = Task(name="t", kind="binary", label_names=("n", "p"))
    out = baselines(task, (seqs[:30], y[:30]), (seqs[30:], y[30:]), n_draws=5, n_resamples=10)
    assert set(out) == {"coin_flip", "proportional", "majority", "composition"}
    assert out["majority"]["metrics"]["auroc"]["value"] == pytest.approx(0.5)
    text = prediction_table(task, ["a", "b"], np.array([0.2, 0.9]), threshold=0.5)
    assert text.splitlines() == ["id,prediction,p_n,p_p", "a,n,0.8,0.2", "b,p,0.1,0.9"]
