"""The task model (encoder + head), its batches, loss, training and prediction.

Two ways to feed the head:

* frozen encoder (the default): embeddings are computed once through the embedding driver and
  cached in the store; the head trains on them (pooled vectors or per-residue states);
* fine-tuning: a :class:`~biolens.proteins.encoders.DifferentiableEncoder` runs inside the
  loss, so gradients reach all of its layers or the last ``k`` (``finetune_last``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ...core.batching import bucket_length, default_buckets
from ...core.train import ArrayBatches
from ..encoders._pooling import pool_states
from ..tasks import task_kind

__all__ = ["Batch", "ResidueBatches", "TaskModel", "compact_residues", "make_loss", "output_transform",
           "pooled_statistics", "predict_batches"]


def compact_residues(states: Float[Array, "T D"], mask: Bool[Array, " T"], length: int) -> tuple[Float[Array, "L D"], Bool[Array, " L"]]:
    """Move the residue positions (``mask``) of one row to the front, in order, and cut to ``length``:
    special tokens (BOS/EOS) and padding leave, so position ``i`` is residue ``i``."""
    order = jnp.argsort(~mask, stable=True)[:length]
    return states[order], jnp.arange(length) < jnp.sum(mask)


#: One padded batch of a task: arrays by name; fine-tuning puts the encoder's token arrays under ``inputs``.
Batch = dict[str, np.ndarray | dict[str, np.ndarray]]


class TaskModel(eqx.Module):
    """A head on a frozen encoder's embeddings, or on a differentiable encoder (fine-tuning).

    ``shift``/``scale`` standardise pooled features with training statistics (not trained); with a
    fine-tuned encoder they are the statistics of its pooled states before training
    (:func:`pooled_statistics`), so the head sees inputs on the scale a frozen head sees.
    ``__call__`` takes a batch dict: ``x`` ``(B, D)`` pooled or ``(B, T, D)`` + ``mask`` ``(B, T)``
    residue states (frozen), or ``inputs`` (the encoder's token arrays) when ``encoder`` is set.
    It returns logits ``(B, K)``, or ``(B, T, K)`` for per-residue heads.
    """

    head: eqx.Module
    encoder: Any = None
    shift: Array | None = None
    scale: Array | None = None
    apply: Callable | None = eqx.field(static=True, default=None)
    pooling: str = eqx.field(static=True, default="mean")
    length: int = eqx.field(static=True, default=0)

    def features(self, batch: dict[str, Any], key: Any = None) -> tuple[Any, Any]:
        if self.encoder is None:
            x = batch["x"]
            if self.shift is not None:  # standardised with the training set's statistics (frozen)
                x = (x - jax.lax.stop_gradient(self.shift)) / jax.lax.stop_gradient(self.scale)
            return x, batch.get("mask")
        states, mask = self.apply(self.encoder, batch["inputs"], key=key)
        if self.head.input == "pooled":  # a differentiable encoder with a CLS token keeps it at position 0
            cls = states[:, 0] if self.pooling == "cls" else None
            x = pool_states(states, mask, self.pooling, cls)
            if self.shift is not None:
                x = (x - jax.lax.stop_gradient(self.shift)) / jax.lax.stop_gradient(self.scale)
            return x, None
        length = batch["y_mask"].shape[1] if "y_mask" in batch else states.shape[1]
        return jax.vmap(compact_residues, in_axes=(0, 0, None))(states, mask, length)

    def __call__(self, batch: dict[str, Any], *, key: Any = None) -> Array:
        k_enc, k_head = jax.random.split(key) if key is not None else (None, None)
        x, mask = self.features(batch, k_enc)
        keys = jax.random.split(k_head, x.shape[0]) if k_head is not None else None
        if self.head.input == "pooled":
            return jax.vmap(lambda xi, ki: self.head(xi, key=ki))(x, keys) if keys is not None else jax.vmap(self.head)(x)
        if keys is None:
            return jax.vmap(lambda xi, mi: self.head(xi, mi))(x, mask)
        return jax.vmap(lambda xi, mi, ki: self.head(xi, mi, key=ki))(x, mask, keys)


def make_loss(kind: str, *, class_weights: np.ndarray | None = None, pos_weight: np.ndarray | None = None) -> Callable:
    """``loss_fn(model, state, batch, key)`` for :func:`biolens.core.train.fit`; ``w`` ``(B,)``
    weights rows (0 for padding rows), per-residue labels use ``y_mask``. One function per kind and
    weights (by value), so runs that agree on them share a compiled training step."""
    return _loss_for(kind, _weights_key(class_weights), _weights_key(pos_weight))


def _weights_key(weights: np.ndarray | None) -> tuple[tuple[int, ...], bytes] | None:
    if weights is None:
        return None
    weights = np.asarray(weights, np.float32)
    return weights.shape, weights.tobytes()


def _weights_of(key: tuple[tuple[int, ...], bytes] | None) -> Array | None:
    return None if key is None else jnp.asarray(np.frombuffer(key[1], np.float32).reshape(key[0]))


@functools.lru_cache(maxsize=32)
def _loss_for(kind: str, class_weights: tuple | None, pos_weight: tuple | None) -> Callable:
    cw, pw = _weights_of(class_weights), _weights_of(pos_weight)
    spec = task_kind(kind)

    def loss_fn(model, state, batch, key):
        return spec.loss(model(batch, key=key), batch, cw, pw), state

    return loss_fn


def output_transform(kind: str) -> Callable[[Array], Array]:
    """Logits -> what is reported: probabilities (classification) or the raw value (regression)."""
    return task_kind(kind).transform


class ResidueBatches:
    """Length-bucketed batches of variable-length records (for ``fit`` and prediction).

    Records are grouped by bucket length; every batch of a bucket has the same shape
    (``rows`` x ``length``), the last one filled with repeated rows of weight 0, so a jitted step
    compiles once per bucket. ``build(indices, length)`` makes a batch's arrays. Training
    order is shuffled per epoch with a generator seeded by ``(seed, epoch)``; ``on_epoch(i)``, when
    given, is called before epoch ``i``'s first batch is built (e.g. to draw crop windows).
    ``minimum``: the shortest bucket (a larger one gives fewer shapes, so fewer compiles).
    """

    def __init__(self, lengths: Sequence[int], build: Callable[[np.ndarray, int], Batch], *,
                 batch_size: int, token_budget: int = 1 << 15, shuffle: bool = True, seed: int = 0,
                 minimum: int = 64, on_epoch: Callable[[int], None] | None = None) -> None:
        lengths = np.asarray(lengths)
        buckets = default_buckets(int(lengths.max()), minimum=minimum, growth=2.0)
        padded = np.array([bucket_length(int(n), buckets) for n in lengths])
        self.groups = {int(b): np.flatnonzero(padded == b) for b in np.unique(padded)}
        self.rows = {b: max(1, min(batch_size, token_budget // b)) for b in self.groups}
        self.build, self.shuffle, self.seed, self.on_epoch = build, shuffle, seed, on_epoch

    def __len__(self) -> int:
        return sum(-(-len(m) // self.rows[b]) for b, m in self.groups.items())

    def _plan(self, index: int) -> list[tuple[int, np.ndarray]]:
        rng = np.random.default_rng((self.seed, index))
        plan = []
        for b, members in self.groups.items():
            members = rng.permutation(members) if self.shuffle else members
            rows = self.rows[b]
            plan += [(b, members[s : s + rows]) for s in range(0, len(members), rows)]
        if self.shuffle:
            plan = [plan[i] for i in rng.permutation(len(plan))]
        return plan

    def epoch(self, index: int) -> Iterator[Batch]:
        if self.on_epoch is not None:
            self.on_epoch(index)
        for length, idx in self._plan(index):
            yield self._batch(idx, self.rows[length], length)

    def ordered(self) -> Iterator[tuple[np.ndarray, Batch]]:
        """Every record once, in bucket order: ``(indices, batch)`` pairs for prediction."""
        for b, members in self.groups.items():
            for s in range(0, len(members), self.rows[b]):
                idx = members[s : s + self.rows[b]]
                yield idx, self._batch(idx, self.rows[b], b)

    def _batch(self, idx: np.ndarray, rows: int, length: int) -> Batch:
        full = np.concatenate([idx, np.repeat(idx[-1:], rows - len(idx))])
        batch = self.build(full, length)
        batch["w"] = (np.arange(rows) < len(idx)).astype(np.float32)
        return batch


def pooled_batches(arrays: dict[str, np.ndarray], batch_size: int, seed: int) -> ArrayBatches:
    """Shuffled mini-batches of pooled features, with unit row weights."""
    arrays = {**arrays, "w": np.ones(len(arrays["x"]), np.float32)}
    return ArrayBatches(arrays, batch_size, seed=seed)


@eqx.filter_jit
def _pooled(model: TaskModel, batch: dict[str, Any]) -> Array:
    return model.features(batch)[0]


def pooled_statistics(model: TaskModel, batches: ResidueBatches) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation (1 where it is ~0) of the pooled encoder states of
    every record of ``batches`` (a fine-tuning model without ``shift``/``scale`` yet)."""
    infer = eqx.nn.inference_mode(model)
    rows = []
    for idx, batch in batches.ordered():
        rows.append(np.asarray(_pooled(infer, batch))[: len(idx)])
    x = np.concatenate(rows).astype(np.float64)
    std = x.std(0)
    return x.mean(0).astype(np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32)


@eqx.filter_jit
def _forward(model: TaskModel, batch: dict[str, Any], kind: str) -> Array:
    return output_transform(kind)(model(batch))


def predict_batches(model: TaskModel, kind: str, batches: Any, n: int, lengths: Sequence[int] | None = None) -> np.ndarray | list[np.ndarray]:
    """Outputs for every record: ``(N, K)`` / ``(N,)`` arrays, or a list of ``(L_i, K)`` per residue.

    ``batches`` is a :class:`ResidueBatches` or a dict of pooled arrays (``x``).
    """
    infer = eqx.nn.inference_mode(model)
    run = lambda m, batch: _forward(m, batch, kind)  # noqa: E731
    if isinstance(batches, dict):
        from ...core.train import batched_apply

        out = batched_apply(lambda b: run(infer, b), batches, batch_size=512)
    else:
        out = [None] * n
        for idx, batch in batches.ordered():
            got = np.asarray(run(infer, batch))
            for j, i in enumerate(idx):
                out[i] = got[j]
        if task_kind(kind).per_residue:
            return [np.asarray(out[i][: lengths[i]]) for i in range(n)]
        out = np.stack(out)
    out = np.asarray(out, dtype=np.float64)
    return out[:, 0] if task_kind(kind).single_output else out
