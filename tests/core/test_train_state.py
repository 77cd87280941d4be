"""The training state is one atomic unit: a kill at any point of a save resumes to the very same run."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.errors import TrainingError
from biolens.core.train import ArrayBatches, TrainConfig, fit
from faults import FileOps, Killed

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
SAVE = ("fsync", "chmod", "replace")  # a save's operations after its temporary is made


class CountedBatches(ArrayBatches):
    def epoch(self, index):
        for batch in super().epoch(index):
            SEEN[0] += 1
            yield batch


def run(run_dir):
    model = eqx.nn.Linear(4, 1, key=jax.random.PRNGKey(0))
    return fit(model, loss_fn, CountedBatches({"x": X, "y": Y}, 16, seed=1), CFG, evaluate=evaluate, run_dir=run_dir)


def leaves(result):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter((result.model, result.best_metrics), eqx.is_array))]


def counted(folder, **faults):
    """``FileOps`` on ``folder`` that notes the batches seen at each operation (tests/faults.py)."""
    SEEN[0] = 0
    return FileOps(folder, note=lambda: SEEN[0], **faults)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    with counted(tmp_path_factory.mktemp("straight")) as ops:
        result = run(ops.root)
    return result, ops


def test_a_save_is_one_rename_of_one_file(tmp_path, straight):
    _, ops = straight
    run(tmp_path / "run")
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert names == ["metrics.jsonl", "state.eqx"]
    saves = [op for op in ops.ops if op.name in SAVE]
    assert len(saves) == 3 * 7 and {op.target for op in saves} == {"state.eqx"}  # fsync, chmod, rename per save; 7 saves
    assert [op.name for op in ops.ops].count("create") == 7  # one temporary per save


@pytest.mark.parametrize("which", ["after an epoch's end", "the final one"])
def test_a_kill_at_every_file_operation_of_a_save_resumes_to_the_same_run(tmp_path, straight, which):
    """Kill before each file operation of the saves at one step (log rows, temporary, fsync, chmod,
    rename), and after the last one; resume."""
    want, straight_ops = straight
    at_batch = straight_ops.notes
    steps = sorted(set(at_batch))
    step = steps[1] if which == "after an epoch's end" else steps[-1]  # step 3 or step 9
    ops = [i for i, b in enumerate(at_batch) if b == step]
    points = [(i, "before") for i in ops] + [(ops[-1], "after")]
    for kill_at, when in points:
        folder = tmp_path / f"{when}-{kill_at}"
        with counted(folder, kill=(kill_at, when)), pytest.raises(Killed):
            run(folder)
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
