"""Annotation transfer: label proteins by their nearest labelled neighbours in embedding space.

:func:`nearest_neighbours` finds the ``k`` closest references of each query (``cosine``
distance ``1 - cos`` or ``euclidean``) and returns their indices and distances;
:func:`transfer_annotations` adds the labels and the vote. :class:`KNNHead` is the same rule
as a head of the task machinery (``--head knn``): it stores the training proteins' embeddings
and targets instead of learning weights, and outputs what the other heads output (class
probabilities = the neighbours' vote, smoothed; regression = the neighbours' mean), so it is
evaluated with the same metrics, baselines and bootstrap intervals.

Shapes: ``N`` references, ``Q`` queries, ``D`` width, ``K`` outputs, ``k`` neighbours.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ..core.errors import InputError
from .tasks import task_kind

__all__ = ["METRICS", "KNNHead", "knn_targets", "nearest_neighbours", "transfer_annotations"]

METRICS = ("cosine", "euclidean")
#: Vote fractions are kept inside ``[EPS, 1 - EPS]`` so that log-odds stay finite.
EPS = 1e-3


def _distances(x: Float[Array, "Q D"], refs: Float[Array, "N D"], metric: str) -> Float[Array, "Q N"]:
    if metric == "cosine":
        unit = lambda a: a / jnp.maximum(jnp.linalg.norm(a, axis=-1, keepdims=True), 1e-12)  # noqa: E731
        return 1.0 - unit(x) @ unit(refs).T
    sq = jnp.sum(x * x, -1)[:, None] - 2.0 * x @ refs.T + jnp.sum(refs * refs, -1)[None, :]
    return jnp.sqrt(jnp.maximum(sq, 0.0))


def _check(metric: str, k: int, n: int) -> None:
    if metric not in METRICS:
        raise InputError(f"unknown distance {metric!r}; use {' or '.join(METRICS)}")
    if not 1 <= k <= n:
        raise InputError(f"k must be between 1 and the number of labelled references ({n}), got {k}")


def nearest_neighbours(queries: Float[np.ndarray, "Q D"], references: Float[np.ndarray, "N D"], *, k: int = 5,
                       metric: str = "cosine") -> tuple[Int[np.ndarray, "Q k"], Float[np.ndarray, "Q k"]]:
    """Indices and distances of the ``k`` nearest references of every query, nearest first
    (ties: the lower reference index first)."""
    refs = jnp.asarray(references, jnp.float32)
    _check(metric, k, len(refs))
    idx, dist = [], []
    for start in range(0, len(queries), 1024):
        d = _distances(jnp.asarray(queries[start : start + 1024], jnp.float32), refs, metric)
        neg, i = jax.lax.top_k(-d, k)
        idx.append(np.asarray(i))
        dist.append(-np.asarray(neg))
    return np.concatenate(idx), np.concatenate(dist)


def transfer_annotations(queries: Float[np.ndarray, "Q D"], references: Float[np.ndarray, "N D"],
                         labels: Sequence[str], *, k: int = 5, metric: str = "cosine") -> list[dict[str, Any]]:
    """For each query: the majority label of its ``k`` nearest references (ties: the nearer
    neighbour's label), the share of votes it got, and every neighbour with its label and distance."""
    idx, dist = nearest_neighbours(queries, references, k=k, metric=metric)
    out = []
    for row, drow in zip(idx, dist, strict=True):
        votes = Counter(labels[j] for j in row)
        top = max(votes.values())
        label = next(labels[j] for j in row if votes[labels[j]] == top)
        out.append({"prediction": label, "support": top / k,
                    "neighbours": [(int(j), labels[j], float(d)) for j, d in zip(row, drow, strict=True)]})
    return out


class KNNHead(eqx.Module):
    """k-nearest-neighbour head on pooled embeddings (no trained weights).

    ``references`` ``(N, D)`` and ``targets`` ``(N, K)`` are the training set's features and
    targets (one-hot classes, 0/1 labels, or standardised values). ``__call__`` returns logits
    (binary, multi-label: log-odds of the vote; multiclass: log of the vote) or the neighbours'
    mean (regression), so the usual output transform gives probabilities or values.
    """

    references: Float[Array, "N D"]
    targets: Float[Array, "N K"]
    k: int = eqx.field(static=True)
    metric: str = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    input: ClassVar[str] = "pooled"

    def __init__(self, width: int, outputs: int, config: Any, *, key: PRNGKeyArray | None = None,
                 references: int = 0, kind: str = "multiclass") -> None:
        """An empty head of ``references`` rows (filled by :meth:`fit` or by loading a checkpoint).
        ``k`` is capped at the number of references (a small training subset votes with all it has)."""
        self.references = jnp.zeros((references, width), jnp.float32)
        self.targets = jnp.zeros((references, outputs), jnp.float32)
        k = int(getattr(config, "k", 5))
        self.k = min(k, references) if references else k
        self.metric, self.kind = str(getattr(config, "metric", "cosine")), kind

    @classmethod
    def fit(cls, x: Float[np.ndarray, "N D"], targets: Float[np.ndarray, "N K"], config: Any, kind: str) -> KNNHead:
        """A head holding the references ``x`` and their ``targets``."""
        metric, k = str(getattr(config, "metric", "cosine")), int(getattr(config, "k", 5))
        _check(metric, k, max(len(x), k))  # a known metric and k >= 1 (a k above len(x) is capped)
        head = cls(x.shape[1], targets.shape[1], config, references=len(x), kind=kind)
        return eqx.tree_at(lambda h: (h.references, h.targets), head,
                           (jnp.asarray(x, jnp.float32), jnp.asarray(targets, jnp.float32)))

    def __call__(self, x: Float[Array, " D"] | Float[np.ndarray, " D"], mask=None, *, key: PRNGKeyArray | None = None) -> Float[Array, " K"]:
        d = _distances(jnp.asarray(x)[None], self.references, self.metric)[0]
        _, idx = jax.lax.top_k(-d, self.k)
        return task_kind(self.kind).from_probabilities(self.targets[idx].mean(0), EPS)


def knn_targets(kind: str, y: np.ndarray, n_outputs: int) -> Float[np.ndarray, "N K"]:
    """Training labels as the head's target rows: one-hot classes, 0/1 columns or values."""
    y, spec = np.asarray(y), task_kind(kind)
    if spec.per_residue:
        raise InputError(f"the knn head takes one vector per protein; it cannot predict a {kind} task")
    if spec.single_output:
        return y.reshape(-1, 1).astype(np.float32)
    if spec.class_indices:
        return np.eye(n_outputs, dtype=np.float32)[y.astype(int)]
    return y.astype(np.float32)
