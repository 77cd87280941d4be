"""Training, prediction and evaluation of TF-binding models through the shared core loop.

A run folder holds::

    checkpoint/       model + batch-norm state (``model.eqx``) and ``meta.json`` (model config,
                      train config, tasks, encoding, data summary; ``members`` for a seed ensemble)
    train/            the core loop's resumable state and ``metrics.jsonl`` (learning curves)
    members/seed-S/   a seed ensemble's members, each with its own ``train/`` and ``checkpoint/``
    validation.json   validation metrics of the restored best model
    report.html       learning curves and validation metrics
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..core.bootstrap import bootstrap
from ..core.checkpoint import load_checkpoint, save_checkpoint
from ..core.config import config_from_dict, config_to_dict
from ..core.errors import CheckpointMismatchError
from ..core.losses import binary_cross_entropy
from ..core.metrics import accuracy, auprc, auroc
from ..core.train import ArrayBatches, FitResult, TrainConfig, batched_apply, fit
from ._encoding import N_VALUE
from ._models import ModelConfig, SeedEnsemble, TFBindingModel
from ._prepare import LabelledArrays

__all__ = [
    "TrainedModel", "ensemble_of", "evaluate_arrays", "forward", "init_model", "load_model", "make_predict",
    "metric_intervals", "predict_proba", "save_model", "task_metrics", "train_model",
]

#: a trained model: one network or a seed ensemble of them, and its batch-norm state(s)
DnaModel = TFBindingModel | SeedEnsemble
ModelState = eqx.nn.State | tuple[eqx.nn.State, ...]

CHECKPOINT_DIR = "checkpoint"
TRAIN_DIR = "train"


@dataclass
class TrainedModel:
    """A model with its batch-norm state and metadata (``meta["tasks"]``, ``meta["model_config"]``).

    For a seed ensemble ``model`` is a :class:`SeedEnsemble`, ``state`` the tuple of its members'
    states and ``meta["members"]`` one entry per member (seed, steps, best step, validation).
    """

    model: DnaModel
    state: ModelState
    meta: dict[str, Any]

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self.meta["tasks"])

    @property
    def config(self) -> ModelConfig:
        return config_from_dict(ModelConfig, self.meta["model_config"])


def init_model(config: ModelConfig, seed: int = 0) -> tuple[TFBindingModel, eqx.nn.State]:
    """A freshly initialised model and its batch-norm state."""
    return eqx.nn.make_with_state(TFBindingModel)(config, key=jax.random.PRNGKey(seed))


def forward(model: DnaModel, state: ModelState, x: Float[Array, "B L 4"],
            key: jax.Array | None = None) -> tuple[Float[Array, "B T"], ModelState]:
    """Logits of a batch; with ``key`` (training) every example gets its own dropout key."""
    if key is None:
        return jax.vmap(model, in_axes=(0, None), out_axes=(0, None), axis_name="batch")(x, state)
    keys = jax.random.split(key, x.shape[0])
    call = lambda xi, ki, s: model(xi, s, key=ki)  # noqa: E731
    return jax.vmap(call, in_axes=(0, 0, None), out_axes=(0, None), axis_name="batch")(x, keys, state)


def _loss(model, state, batch, key):
    logits, state = forward(model, state, batch["x"], key)
    return binary_cross_entropy(logits, batch["y"], mask=batch["mask"]), state


def make_predict(model: DnaModel, state: ModelState, *, output: str = "prob") -> Callable[[Array], Array]:
    """A pure, jit-able ``predict(x: (B, L, 4)) -> (B, T)`` of probabilities (``output="prob"``) or
    logits (``"logit"``), in inference mode -- the callable :mod:`biolens.interpret` takes."""
    if output not in ("prob", "logit"):
        raise ValueError(f"output must be 'prob' or 'logit', got {output!r}")
    model = eqx.nn.inference_mode(model)

    def predict(x):
        logits, _ = forward(model, state, x)
        return jax.nn.sigmoid(logits) if output == "prob" else logits

    return predict


@eqx.filter_jit
def _predict_batch(model: DnaModel, state: ModelState, x: Array, output: str) -> Array:
    return make_predict(model, state, output=output)(x)


def predict_proba(model: DnaModel, state: ModelState, x: Float[np.ndarray, "N L 4"], *,
                  output: str = "prob", batch_size: int = 512) -> Float[np.ndarray, "N T"]:
    """Batched predictions (one compiled shape; the last batch is padded). The weights are
    arguments of the compiled function, not constants in it: models of one architecture share it."""
    return batched_apply(lambda b: _predict_batch(model, state, jnp.asarray(b["x"]), output),
                         {"x": np.asarray(x, np.float32)}, batch_size)


def task_metrics(y: np.ndarray, mask: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """Loss, auROC, auPRC and accuracy (threshold 0.5) of one task's labelled items."""
    keep = mask > 0
    y, logits = y[keep], logits[keep]
    prob = 1.0 / (1.0 + np.exp(-logits))
    loss = float(binary_cross_entropy(jnp.asarray(logits), jnp.asarray(y)))
    return {"loss": loss, "auroc": auroc(y, prob), "auprc": auprc(y, prob), "accuracy": accuracy(y, prob >= 0.5)}


def evaluate_arrays(model, state, data: LabelledArrays, tasks: tuple[str, ...]) -> dict[str, float]:
    """Validation metrics: per task (``auroc/CTCF``...) and their means (``auroc``, ``loss``...)."""
    logits = predict_proba(model, state, data.x, output="logit")
    per = {t: task_metrics(data.y[:, i], data.mask[:, i], logits[:, i]) for i, t in enumerate(tasks)}
    out = {k: float(np.nanmean([m[k] for m in per.values()])) for k in ("loss", "auroc", "auprc", "accuracy")}
    if len(tasks) > 1:
        out.update({f"{k}/{t}": v for t, m in per.items() for k, v in m.items()})
    return out


def save_model(path: str | Path, trained: TrainedModel) -> Path:
    return save_checkpoint(Path(path), (trained.model, trained.state), trained.meta)


def load_model(run: str | Path) -> TrainedModel:
    """Load a run folder (or its ``checkpoint/`` folder)."""
    run = Path(run)
    path = run / CHECKPOINT_DIR if (run / CHECKPOINT_DIR).is_dir() else run

    def skeleton(meta):
        config = config_from_dict(ModelConfig, meta["model_config"])
        if "members" not in meta:
            return init_model(config)
        models, states = zip(*(init_model(config) for _ in meta["members"]), strict=True)
        return SeedEnsemble(tuple(models)), tuple(states)

    (model, state), meta = load_checkpoint(path, skeleton)
    n_value = meta.get("encoding", {}).get("n_value", N_VALUE)
    if n_value != N_VALUE:
        raise CheckpointMismatchError(f"{path}: the model was trained with N encoded as {n_value}, "
                                      f"this biolens encodes N as {N_VALUE}")
    return TrainedModel(model, state, meta)


def train_model(train: LabelledArrays, val: LabelledArrays, tasks: tuple[str, ...], model_config: ModelConfig,
                train_config: TrainConfig, *, run_dir: str | Path | None = None, progress: bool = False,
                data_summary: dict[str, Any] | None = None) -> tuple[TrainedModel, FitResult]:
    """Train with :func:`biolens.core.train.fit` (early stopping on ``train_config.monitor``, best
    model restored, resumable in ``run_dir/train``) and save ``run_dir/checkpoint``."""
    if train.x.shape[1] != model_config.seq_len:
        raise ValueError(f"sequences have length {train.x.shape[1]}, the model config says {model_config.seq_len}")
    model, state = init_model(model_config, train_config.seed)
    result = fit(
        model, _loss, ArrayBatches(train.as_batches_dict(), train_config.batch_size, seed=train_config.seed),
        train_config, state=state, evaluate=lambda m, s: evaluate_arrays(m, s, val, tasks),
        run_dir=None if run_dir is None else Path(run_dir) / TRAIN_DIR, progress=progress,
        description=f"training {'+'.join(tasks)}",
    )
    meta = {"tasks": list(tasks), "model_config": config_to_dict(model_config),
            "train_config": config_to_dict(train_config), "encoding": {"alphabet": "ACGT", "n_value": N_VALUE},
            "data": data_summary or {}, "best_step": result.best_step, "steps": result.steps,
            "validation": result.best_metrics}
    trained = TrainedModel(eqx.nn.inference_mode(result.model), result.state, meta)
    if run_dir is not None:
        save_model(Path(run_dir) / CHECKPOINT_DIR, trained)
    return trained, result


def ensemble_of(members: list[TrainedModel], val: LabelledArrays) -> TrainedModel:
    """One :class:`TrainedModel` that averages the logits of ``members`` (same tasks and model
    config, other seeds); ``meta["validation"]`` is the ensemble's score on ``val``."""
    first = members[0].meta
    if any(m.meta["model_config"] != first["model_config"] or m.meta["tasks"] != first["tasks"] for m in members):
        raise ValueError("ensemble members must share the model config and the tasks")
    model = SeedEnsemble(tuple(m.model for m in members))
    state = tuple(m.state for m in members)
    meta = {k: first[k] for k in ("tasks", "model_config", "train_config", "encoding", "data")}
    meta["members"] = [{"seed": m.meta["train_config"]["seed"], "steps": m.meta["steps"],
                        "best_step": m.meta["best_step"], "validation": m.meta["validation"]} for m in members]
    meta["validation"] = evaluate_arrays(model, state, val, tuple(first["tasks"]))
    meta["steps"] = sum(m.meta["steps"] for m in members)
    meta["best_step"] = None
    return TrainedModel(model, state, meta)


def metric_intervals(y: np.ndarray, prob: np.ndarray, *, n_resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """auROC, auPRC and accuracy with percentile-bootstrap 95% intervals (items resampled)."""
    acc = lambda t, p: accuracy(t, p >= 0.5)  # noqa: E731
    return {name: bootstrap(fn, y, prob, n_resamples=n_resamples, seed=seed).as_dict()
            for name, fn in (("auroc", auroc), ("auprc", auprc), ("accuracy", acc))}
