"""The training state is one atomic unit: a kill at any point of a save resumes to the very same run."""

import os

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.errors import TrainingError
from biolens.core.train import ArrayBatches, TrainConfig, fit

RNG = np.random.default_rng(0)
X = RNG.normal(size=(48, 4)).astype(np.float32)
Y = (X @ np.array([1.0, -2.0, 0.5, 0.0], np.float32) > 0).astype(np.float32)
XV, YV = X[:16] + 0.1, Y[:16]
# 3 batches an epoch, 3 epochs; saves at steps 2, 3 (epoch end + eval), 4, 6 (twice), 8 and 9 (the final one)
CFG = TrainConfig(learning_rate=0.1, batch_size=16, max_epochs=3, checkpoint_every=2, patience=None, log_every=2,
                  monitor="loss", mode="min", warmup=0.0)


def loss_fn(model, state, batch, key):
    logits = jax.vmap(model)(batch["x"])[:, 0]
    noise = 1e-3 * jax.random.normal(key, logits.shape)  # the step's key matters: resumed keys must match
    return jnp.mean(jax.nn.softplus(logits + noise) - batch["y"] * (logits + noise)), state


def evaluate(model, state):
    logits = jax.vmap(model)(jnp.asarray(XV))[:, 0]
    return {"loss": float(jnp.mean(jax.nn.softplus(logits) - jnp.asarray(YV) * logits))}


SEEN = [0]  # batches handed to the loop so far (tells which save a file operation belongs to)


class CountedBatches(ArrayBatches):
    def epoch(self, index):
        for batch in super().epoch(index):
            SEEN[0] += 1
            yield batch


def run(run_dir):
    model = eqx.nn.Linear(4, 1, key=jax.random.PRNGKey(0))
    return fit(model, loss_fn, CountedBatches({"x": X, "y": Y}, 16, seed=1), CFG, evaluate=evaluate, run_dir=run_dir)


class Killed(BaseException):
    """Stands for kill -9: nothing in the loop catches it."""


class FileOps:
    """Counts the file operations of a save (fsync, chmod, rename) and kills the process at one of them."""

    OPS = ("fsync", "chmod", "replace")

    def __init__(self, monkeypatch, kill_at=None, when="before"):
        self.count, self.kill_at, self.when = 0, kill_at, when
        self.at_batch: list[int] = []  # per operation: the batches seen when it ran
        SEEN[0] = 0
        for name in self.OPS:
            monkeypatch.setattr(os, name, self._wrap(getattr(os, name)))

    def _wrap(self, real):
        def op(*args, **kwargs):
            index, self.count = self.count, self.count + 1
            self.at_batch.append(SEEN[0])
            if index == self.kill_at and self.when == "before":
                raise Killed
            out = real(*args, **kwargs)
            if index == self.kill_at:
                raise Killed
            return out

        return op


def leaves(result):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter((result.model, result.best_metrics), eqx.is_array))]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    ops = FileOps(mp)
    result = run(tmp_path_factory.mktemp("straight"))
    mp.undo()
    return result, ops.at_batch


def test_a_save_is_one_rename_of_one_file(tmp_path, straight):
    _, at_batch = straight
    run(tmp_path / "run")
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert names == ["metrics.jsonl", "state.eqx"]
    assert len(at_batch) == 3 * 7  # fsync, chmod, rename per save; 7 saves


@pytest.mark.parametrize("which", ["after an epoch's end", "the final one"])
def test_a_kill_at_every_file_operation_of_a_save_resumes_to_the_same_run(tmp_path, straight, which):
    """Kill before each file operation of the saves at one step, and after the last one; resume."""
    want, at_batch = straight
    steps = sorted(set(at_batch))
    step = steps[1] if which == "after an epoch's end" else steps[-1]  # step 3 or step 9
    ops = [i for i, b in enumerate(at_batch) if b == step]
    points = [(i, "before") for i in ops] + [(ops[-1], "after")]
    for kill_at, when in points:
        folder = tmp_path / f"{when}-{kill_at}"
        mp = pytest.MonkeyPatch()
        FileOps(mp, kill_at=kill_at, when=when)
        with pytest.raises(Killed):
            run(folder)
        mp.undo()
        got = run(folder)  # resume
        where = f"killed {when} file operation {kill_at} (at step {step})"
        assert got.steps == want.steps, where
        assert all(np.array_equal(a, b) for a, b in zip(leaves(want), leaves(got), strict=True)), where
        assert got.history == want.history, where
        assert got.best_step == want.best_step, where


def test_a_state_from_an_older_biolens_is_refused(tmp_path):
    (tmp_path / "train_state.json").write_text("{}")
    (tmp_path / "train_state.eqx").write_bytes(b"")
    with pytest.raises(TrainingError, match=r"older biolens.*cannot be resumed safely"):
        run(tmp_path)
