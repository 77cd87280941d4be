"""Prediction heads on top of protein embeddings (Equinox modules, one example per call).

Shape contract (``D`` input width, ``T`` padded residues, ``K`` outputs):

===============  =======================  ==========================  =========================
head             input                    ``__call__`` returns        after
===============  =======================  ==========================  =========================
``linear``       pooled ``(D,)``          ``(K,)``                    logistic / linear regression
``mlp``          pooled ``(D,)``          ``(K,)``                    the book: dense-GELU-dense-GELU-out
``cnn``          residues ``(T, D)``      ``(K,)``                    the solubility blog: conv-conv-max-linear
``attention``    residues ``(T, D)``      ``(K,)``                    attention pooling + linear
``per_residue``  residues ``(T, D)``      ``(T, K)``                  per-residue states (secondary structure)
``knn``          pooled ``(D,)``          ``(K,)``                    annotation transfer (:mod:`.knn`): no weights
===============  =======================  ==========================  =========================

Without a ``key`` a head runs in inference mode (no dropout). Residue heads take a ``mask`` ``(T,)`` (``True`` on residues) and ignore padding exactly: padded
positions are zeroed before each convolution, excluded from max pooling and from attention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from ...core.errors import InputError
from ._knn import KNNHead

__all__ = ["HEADS", "AttentionHead", "CNNHead", "HeadConfig", "KNNHead", "LinearHead", "MLPHead", "PerResidueHead",
           "build_head"]


@dataclass(frozen=True, kw_only=True)
class HeadConfig:
    """Head hyper-parameters (saved beside every checkpoint).

    ``hidden``: MLP/attention width. ``channels``/``kernel``: convolution width and size.
    ``max_length``: the longest protein a residue head accepts (longer ones are refused or
    skipped, see the run's ``too_long`` setting), bounding the memory of one batch.
    ``k``/``metric``: neighbours and distance (``cosine``, ``euclidean``) of the ``knn`` head.
    """

    kind: str = "mlp"
    hidden: int = 256
    dropout: float = 0.2
    channels: int = 64
    kernel: int = 9
    max_length: int = 2000
    k: int = 5
    metric: str = "cosine"


class LinearHead(eqx.Module):
    """Logistic (classification) or linear (regression) model on a pooled embedding."""

    linear: eqx.nn.Linear
    input: ClassVar[str] = "pooled"

    def __init__(self, width: int, outputs: int, config: HeadConfig, *, key: PRNGKeyArray) -> None:
        self.linear = eqx.nn.Linear(width, outputs, key=key)

    def __call__(self, x: Float[Array, " D"], mask=None, *, key: PRNGKeyArray | None = None) -> Float[Array, " K"]:
        return self.linear(x)


class MLPHead(eqx.Module):
    """dense -> GELU -> dropout -> dense -> GELU -> dropout -> out (the book's chapter-1 model)."""

    first: eqx.nn.Linear
    second: eqx.nn.Linear
    out: eqx.nn.Linear
    dropout: eqx.nn.Dropout
    input: ClassVar[str] = "pooled"

    def __init__(self, width: int, outputs: int, config: HeadConfig, *, key: PRNGKeyArray) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        self.first = eqx.nn.Linear(width, config.hidden, key=k1)
        self.second = eqx.nn.Linear(config.hidden, config.hidden, key=k2)
        self.out = eqx.nn.Linear(config.hidden, outputs, key=k3)
        self.dropout = eqx.nn.Dropout(config.dropout)

    def __call__(self, x: Float[Array, " D"], mask=None, *, key: PRNGKeyArray | None = None) -> Float[Array, " K"]:
        k1, k2 = jax.random.split(key) if key is not None else (None, None)
        h = self.dropout(jax.nn.gelu(self.first(x)), key=k1, inference=key is None)
        h = self.dropout(jax.nn.gelu(self.second(h)), key=k2, inference=key is None)
        return self.out(h)


def _masked(x: Float[Array, "C T"], mask: Bool[Array, " T"]) -> Float[Array, "C T"]:
    return jnp.where(mask[None, :], x, 0.0)


class _Convs(eqx.Module):
    """Two same-padded 1-D convolutions with ReLU, blind to padding."""

    conv1: eqx.nn.Conv1d
    conv2: eqx.nn.Conv1d

    def __init__(self, width: int, config: HeadConfig, *, key: PRNGKeyArray) -> None:
        if config.kernel % 2 == 0:
            raise InputError(f"the convolution kernel must be odd (got {config.kernel})")
        k1, k2 = jax.random.split(key)
        self.conv1 = eqx.nn.Conv1d(width, config.channels, config.kernel, padding="SAME", key=k1)
        self.conv2 = eqx.nn.Conv1d(config.channels, config.channels, config.kernel, padding="SAME", key=k2)

    def __call__(self, x: Float[Array, "T D"], mask: Bool[Array, " T"]) -> Float[Array, "C T"]:
        h = jax.nn.relu(self.conv1(_masked(x.T, mask)))
        return _masked(jax.nn.relu(self.conv2(_masked(h, mask))), mask)


class CNNHead(eqx.Module):
    """conv -> conv -> global max pool over residues -> dropout -> linear (the solubility blog)."""

    convs: _Convs
    out: eqx.nn.Linear
    dropout: eqx.nn.Dropout
    input: ClassVar[str] = "residues"

    def __init__(self, width: int, outputs: int, config: HeadConfig, *, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.convs = _Convs(width, config, key=k1)
        self.out = eqx.nn.Linear(config.channels, outputs, key=k2)
        self.dropout = eqx.nn.Dropout(config.dropout)

    def __call__(self, x: Float[Array, "T D"], mask: Bool[Array, " T"], *, key: PRNGKeyArray | None = None) -> Float[Array, " K"]:
        h = self.convs(x, mask)
        pooled = jnp.max(jnp.where(mask[None, :], h, -jnp.inf), axis=1)
        pooled = jnp.where(jnp.any(mask), pooled, 0.0)  # an all-padding row stays finite
        return self.out(self.dropout(pooled, key=key, inference=key is None))


class AttentionHead(eqx.Module):
    """Attention pooling: ``a = softmax_t(v . tanh(W x_t))`` over residues, then linear on ``sum_t a_t x_t``."""

    score_hidden: eqx.nn.Linear
    score_out: eqx.nn.Linear
    out: eqx.nn.Linear
    dropout: eqx.nn.Dropout
    input: ClassVar[str] = "residues"

    def __init__(self, width: int, outputs: int, config: HeadConfig, *, key: PRNGKeyArray) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        self.score_hidden = eqx.nn.Linear(width, config.hidden, key=k1)
        self.score_out = eqx.nn.Linear(config.hidden, 1, key=k2)
        self.out = eqx.nn.Linear(width, outputs, key=k3)
        self.dropout = eqx.nn.Dropout(config.dropout)

    def weights(self, x: Float[Array, "T D"], mask: Bool[Array, " T"]) -> Float[Array, " T"]:
        """The attention weights over residues (zero on padding, summing to one)."""
        scores = jax.vmap(lambda h: self.score_out(jnp.tanh(self.score_hidden(h)))[0])(x)
        return jnp.where(mask, jax.nn.softmax(jnp.where(mask, scores, -1e30)), 0.0)

    def __call__(self, x: Float[Array, "T D"], mask: Bool[Array, " T"], *, key: PRNGKeyArray | None = None) -> Float[Array, " K"]:
        pooled = self.weights(x, mask) @ jnp.where(mask[:, None], x, 0.0)
        return self.out(self.dropout(pooled, key=key, inference=key is None))


class PerResidueHead(eqx.Module):
    """conv -> conv -> dropout -> per-residue linear: one prediction per residue."""

    convs: _Convs
    out: eqx.nn.Linear
    dropout: eqx.nn.Dropout
    input: ClassVar[str] = "residues"

    def __init__(self, width: int, outputs: int, config: HeadConfig, *, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.convs = _Convs(width, config, key=k1)
        self.out = eqx.nn.Linear(config.channels, outputs, key=k2)
        self.dropout = eqx.nn.Dropout(config.dropout)

    def __call__(self, x: Float[Array, "T D"], mask: Bool[Array, " T"], *, key: PRNGKeyArray | None = None) -> Float[Array, "T K"]:
        h = self.dropout(self.convs(x, mask).T, key=key, inference=key is None)
        return jax.vmap(self.out)(h)


HEADS: dict[str, type[eqx.Module]] = {
    "linear": LinearHead, "mlp": MLPHead, "cnn": CNNHead, "attention": AttentionHead, "per_residue": PerResidueHead,
    "knn": KNNHead,
}


def build_head(config: HeadConfig, width: int, outputs: int, *, key: PRNGKeyArray) -> eqx.Module:
    """The head named ``config.kind`` for inputs of ``width`` and ``outputs`` outputs."""
    if config.kind not in HEADS:
        raise InputError(f"unknown head {config.kind!r}; choose from {list(HEADS)}")
    return HEADS[config.kind](width, outputs, config, key=key)
