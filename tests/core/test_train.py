import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.checkpoint import check_encoder, load_checkpoint, read_meta, save_checkpoint
from biolens.core.errors import CheckpointMismatchError, InputError, TrainingError
from biolens.core.losses import binary_cross_entropy
from biolens.core.metrics import auroc
from biolens.core.train import ArrayBatches, TrainConfig, batched_apply, fit


def data(n=512, d=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    w = np.random.default_rng(42).normal(size=d)  # one true model for every split
    y = (x @ w + 0.5 * rng.normal(size=n) > 0).astype(np.float32)
    return x, y


class MLP(eqx.Module):
    first: eqx.nn.Linear
    norm: eqx.nn.BatchNorm | None
    drop: eqx.nn.Dropout
    out: eqx.nn.Linear

    def __init__(self, d, *, key, norm=False):
        k1, k2 = jax.random.split(key)
        self.first = eqx.nn.Linear(d, 16, key=k1)
        self.norm = eqx.nn.BatchNorm(16, axis_name="batch", mode="batch") if norm else None
        self.drop = eqx.nn.Dropout(0.1)
        self.out = eqx.nn.Linear(16, 1, key=k2)

    def __call__(self, x, state, key=None):
        h = jax.nn.gelu(self.first(x))
        if self.norm is not None:
            h, state = self.norm(h, state)
        return self.out(self.drop(h, key=key))[0], state


def loss_fn(model, state, batch, key):
    keys = jax.random.split(key, len(batch["x"]))
    logits, state = jax.vmap(model, in_axes=(0, None, 0), out_axes=(0, None), axis_name="batch")(batch["x"], state, keys)
    return binary_cross_entropy(logits, batch["y"]), state


def make_eval(x, y):
    def evaluate(model, state):
        logits, _ = jax.vmap(model, in_axes=(0, None), out_axes=(0, None), axis_name="batch")(jnp.asarray(x), state)
        return {"loss": float(binary_cross_entropy(logits, jnp.asarray(y))), "auroc": auroc(y, np.asarray(logits))}

    return evaluate


def setup(norm=False):
    x, y = data()
    model, state = eqx.nn.make_with_state(MLP)(8, key=jax.random.PRNGKey(0), norm=norm)
    return x, y, model, state


CFG = TrainConfig(learning_rate=3e-2, batch_size=32, max_epochs=6, monitor="auroc", mode="max", patience=None, log_every=5)


def test_training_learns_and_logs(tmp_path):
    x, y, model, state = setup()
    xv, yv = data(256, seed=1)
    before = make_eval(xv, yv)(eqx.nn.inference_mode(model), state)["auroc"]
    res = fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), CFG, state=state, evaluate=make_eval(xv, yv), run_dir=tmp_path)
    after = make_eval(xv, yv)(eqx.nn.inference_mode(res.model), res.state)["auroc"]
    assert res.steps == 6 * 16 and after > 0.9 > before
    vals = [r for r in res.history if r["split"] == "val"]
    trains = [r for r in res.history if r["split"] == "train"]
    assert len(vals) == 6 and trains[-1]["loss"] < trains[0]["loss"]
    assert res.best_metrics["auroc"] == max(r["auroc"] for r in vals)
    assert (tmp_path / "metrics.jsonl").exists()


def test_batch_norm_state_is_trained():
    x, y, model, state = setup(norm=True)
    res = fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), TrainConfig(max_epochs=1, patience=None), state=state)
    before = state.get(model.norm.batch_state_index)
    after = res.state.get(res.model.norm.batch_state_index)
    assert not np.allclose(before, after)


def test_early_stopping_restores_the_best_model():
    x, y, model, state = setup()
    calls = []

    def evaluate(model, state):  # the metric peaks at the 2nd evaluation, then falls
        calls.append(model)
        return {"score": [0.5, 0.9, 0.7, 0.6, 0.4][len(calls) - 1]}

    cfg = TrainConfig(max_epochs=10, monitor="score", mode="max", patience=2, batch_size=64)
    res = fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 64), cfg, state=state, evaluate=evaluate)
    assert res.stopped_early and len(calls) == 4 and res.best_step == 16
    assert eqx.tree_equal(eqx.nn.inference_mode(res.model), calls[1]) is True or np.allclose(
        res.model.out.weight, calls[1].out.weight
    )


class Crash(Exception):
    pass


class CrashingBatches(ArrayBatches):
    def __init__(self, *a, crash_at, **k):
        super().__init__(*a, **k)
        self.crash_at, self.seen = crash_at, 0

    def epoch(self, index):
        for batch in super().epoch(index):
            if self.seen == self.crash_at:
                raise Crash
            self.seen += 1
            yield batch


@pytest.mark.parametrize("crash_at", [37, 48])
def test_resume_after_crash_ends_in_the_same_state(tmp_path, crash_at):
    x, y, model, state = setup()
    xv, yv = data(128, seed=2)
    cfg = TrainConfig(learning_rate=1e-2, batch_size=32, max_epochs=4, checkpoint_every=10, monitor="auroc", mode="max", patience=None)
    straight = fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), cfg, state=state, evaluate=make_eval(xv, yv), run_dir=tmp_path / "a")
    with pytest.raises(Crash):
        fit(model, loss_fn, CrashingBatches({"x": x, "y": y}, 32, crash_at=crash_at), cfg, state=state,
            evaluate=make_eval(xv, yv), run_dir=tmp_path / "b")
    resumed = fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), cfg, state=state, evaluate=make_eval(xv, yv), run_dir=tmp_path / "b")
    assert resumed.resumed_from is not None and resumed.resumed_from <= crash_at
    assert resumed.steps == straight.steps == 64
    for a, b in zip(jax.tree.leaves(eqx.filter(straight.model, eqx.is_array)), jax.tree.leaves(eqx.filter(resumed.model, eqx.is_array))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert [r["step"] for r in straight.history] == [r["step"] for r in resumed.history]
    # a finished run resumes to its result without training again
    again = fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), cfg, state=state, evaluate=make_eval(xv, yv), run_dir=tmp_path / "b")
    assert again.steps == 64 and again.best_step == resumed.best_step


def test_resume_refuses_changed_settings(tmp_path):
    x, y, model, state = setup()
    fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), TrainConfig(max_epochs=1, patience=None), state=state, run_dir=tmp_path)
    with pytest.raises(TrainingError, match=r"cannot resume.*learning_rate"):
        fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), TrainConfig(max_epochs=1, learning_rate=0.5), state=state, run_dir=tmp_path)


def test_trainable_filter_freezes_the_rest():
    x, y, model, state = setup()
    only_out = jax.tree.map(lambda _: False, model)
    only_out = eqx.tree_at(lambda m: (m.out.weight, m.out.bias), only_out, (True, True))
    res = fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), TrainConfig(max_epochs=1, patience=None), state=state, trainable=only_out)
    assert np.array_equal(res.model.first.weight, model.first.weight)
    assert not np.array_equal(res.model.out.weight, model.out.weight)


def test_diverging_loss_is_reported():
    x, y, model, state = setup()
    x[0, 0] = np.nan
    with pytest.raises(TrainingError, match="loss became nan"):
        fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 512), TrainConfig(max_epochs=1, log_every=1), state=state)


def test_empty_training_data_is_clear():
    with pytest.raises(TrainingError, match="no training examples"):
        ArrayBatches({"x": np.zeros((0, 3))}, 8)


def test_batched_apply_pads_the_last_batch():
    shapes = []

    def fn(batch):
        shapes.append(batch["x"].shape)
        return batch["x"].sum(1)

    out = batched_apply(fn, {"x": np.arange(20.0).reshape(10, 2)}, batch_size=4)
    assert out.tolist() == [1, 5, 9, 13, 17, 21, 25, 29, 33, 37] and set(shapes) == {(4, 2)}


def test_checkpoint_roundtrip_and_encoder_check(tmp_path):
    _, _, model, _ = setup()
    save_checkpoint(tmp_path / "ck", model, {"d": 8, "encoder": "unirep-64", "encoder_fingerprint": "abc"})
    save_checkpoint(tmp_path / "ck", model, {"d": 8, "encoder": "unirep-64", "encoder_fingerprint": "abc"})  # replace
    loaded, meta = load_checkpoint(tmp_path / "ck", lambda m: eqx.nn.make_with_state(MLP)(m["d"], key=jax.random.PRNGKey(9))[0])
    assert np.array_equal(loaded.first.weight, model.first.weight) and meta["d"] == 8 and "biolens_version" in meta
    check_encoder(meta, "unirep-64", "abc")
    with pytest.raises(CheckpointMismatchError, match="trained on 'unirep-64' embeddings, not 'esm2-8m'"):
        check_encoder(meta, "esm2-8m", "zzz")
    with pytest.raises(CheckpointMismatchError, match="other weights, layer or settings"):
        check_encoder(meta, "unirep-64", "zzz")
    with pytest.raises(InputError, match="not a biolens checkpoint"):
        read_meta(tmp_path)


def _weights(model):
    return [np.asarray(a) for a in jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))]


def test_ema_is_the_hand_computed_average_and_is_what_evaluation_sees():
    x, y, model, state = setup()
    batches = ArrayBatches({"x": x, "y": y}, 32)
    cfg = TrainConfig(learning_rate=5e-2, batch_size=32, max_epochs=1, schedule="constant", warmup=0,
                      patience=None, monitor="score", mode="max")
    # the raw weights after each of the first 6 steps (a constant learning rate: the same trajectory)
    path = [_weights(fit(model, loss_fn, batches, dataclasses.replace(cfg, max_steps=k), state=state).model)
            for k in range(1, 7)]
    avg = _weights(model)
    for t, w in enumerate(path):
        d = min(0.8, (1 + t) / (10 + t))
        avg = [d * a + (1 - d) * b for a, b in zip(avg, w, strict=True)]
    seen = []

    def evaluate(m, s):
        seen.append(_weights(m))
        return {"score": 0.0}

    res = fit(model, loss_fn, batches, dataclasses.replace(cfg, max_steps=6, ema=0.8), state=state, evaluate=evaluate)
    assert len(seen) == 1
    for got, evaluated, want in zip(_weights(res.model), seen[0], avg, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(evaluated, want, rtol=1e-5, atol=1e-6)
    assert not all(np.allclose(a, b) for a, b in zip(avg, path[-1], strict=True))  # the average is not the last weights
    with pytest.raises(TrainingError, match="ema must be"):
        TrainConfig(ema=1.0)


def test_resume_with_ema_ends_in_the_same_state(tmp_path):
    x, y, model, state = setup()
    xv, yv = data(128, seed=2)
    cfg = TrainConfig(learning_rate=1e-2, batch_size=32, max_epochs=3, checkpoint_every=10, monitor="auroc", mode="max",
                      patience=None, ema=0.9)
    straight = fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), cfg, state=state, evaluate=make_eval(xv, yv),
                   run_dir=tmp_path / "a")
    with pytest.raises(Crash):
        fit(model, loss_fn, CrashingBatches({"x": x, "y": y}, 32, crash_at=27), cfg, state=state,
            evaluate=make_eval(xv, yv), run_dir=tmp_path / "b")
    resumed = fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), cfg, state=state, evaluate=make_eval(xv, yv),
                  run_dir=tmp_path / "b")
    assert resumed.resumed_from == 20
    for a, b in zip(_weights(straight.model), _weights(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert [r.get("auroc") for r in straight.history] == [r.get("auroc") for r in resumed.history]
    # a run without the average cannot be resumed with it
    with pytest.raises(TrainingError, match=r"cannot resume.*ema"):
        fit(model, loss_fn, ArrayBatches({"x": x, "y": y}, 32), dataclasses.replace(cfg, ema=0.5), state=state,
            evaluate=make_eval(xv, yv), run_dir=tmp_path / "b")


def test_runs_of_one_setting_share_a_compiled_step_and_other_settings_do_not():
    """The step compiles once for two seeds of one setting (seed ensembles, --seeds N); a run with
    another learning rate gets its own step, and the shared step trains exactly as a private one."""
    traces = []

    def counted_loss(model, state, batch, key):
        traces.append(1)  # Python runs only while the step is traced (compiled)
        return loss_fn(model, state, batch, key)

    x, y, model, state = setup()
    batches = ArrayBatches({"x": x, "y": y}, 32)
    cfg = dataclasses.replace(CFG, max_epochs=1)
    seed0 = fit(model, counted_loss, batches, cfg, state=state)
    seed1 = fit(model, counted_loss, batches, dataclasses.replace(cfg, seed=1), state=state)
    assert len(traces) == 1
    assert not np.array_equal(seed0.model.first.weight, seed1.model.first.weight)  # the seed still counts
    slower = fit(model, counted_loss, batches, dataclasses.replace(cfg, learning_rate=1e-3), state=state)
    assert len(traces) == 2
    private = fit(model, counted_loss, batches, dataclasses.replace(cfg, learning_rate=1e-3), state=state,
                  rescale_updates=lambda updates: updates)  # a rescaling run builds its own step
    assert len(traces) == 3
    for a, b in zip(jax.tree.leaves(slower.model), jax.tree.leaves(private.model), strict=True):
        assert np.array_equal(a, b)
    # a trainable tree of bools is matched by value: an equal tree built again shares the step
    def only_out():
        tree = jax.tree.map(lambda _: False, model)
        return eqx.tree_at(lambda m: (m.out.weight, m.out.bias), tree, (True, True))

    frozen = [fit(model, counted_loss, batches, cfg, state=state, trainable=only_out()) for _ in range(2)]
    assert len(traces) == 4
    assert np.array_equal(frozen[0].model.first.weight, model.first.weight)
