"""Vector quantisation with an exponential-moving-average codebook and dead-code restarts.

The codebook is not trained by gradients: it lives in a :class:`Codebook` state that the
training loss returns updated (``core.train.fit`` threads it through every step), following
van den Oord et al. (2017), appendix A.1 (EMA updates, Laplace-smoothed counts). Encoder
outputs reach the decoder through the straight-through estimator, and a commitment loss pulls
them towards their codes. A code whose moving-average use falls below ``dead_threshold``
assignments per step is restarted at a random encoder output of the batch (as in Jukebox,
Dhariwal et al. 2020), so large codebooks stay in use.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

__all__ = ["Codebook", "codebook_stats", "ema_update", "init_codebook", "quantize"]


class Codebook(eqx.Module):
    """The codebook state: ``vectors (K, D)``, moving-average counts ``(K,)`` and sums ``(K, D)``."""

    vectors: Float[Array, "K D"]
    counts: Float[Array, " K"]
    sums: Float[Array, "K D"]

    @property
    def size(self) -> int:
        return self.vectors.shape[0]


def init_codebook(size: int, dim: int, *, key: jax.Array) -> Codebook:
    """Small random vectors with zero counts: every code is 'dead' at the first step, so the
    first batch restarts them at encoder outputs (a data-driven initialisation)."""
    vectors = 0.01 * jax.random.normal(key, (size, dim))
    return Codebook(vectors, jnp.zeros(size), jnp.zeros((size, dim)))


def quantize(
    vectors: Float[Array, "K D"], z: Float[Array, "*B D"]
) -> tuple[Int[Array, "*B"], Float[Array, "*B D"]]:
    """The nearest code (Euclidean) of each vector and that code's vector."""
    d = jnp.sum(z * z, -1, keepdims=True) - 2 * z @ vectors.T + jnp.sum(vectors * vectors, -1)
    idx = jnp.argmin(d, -1)
    return idx, vectors[idx]


def ema_update(
    book: Codebook, z: Float[Array, "N D"], idx: Int[Array, " N"], mask: Bool[Array, " N"],
    *, decay: float, dead_threshold: float, key: jax.Array, eps: float = 1e-5,
) -> Codebook:
    """One EMA step of the codebook on the (unmasked) encoder outputs ``z``, then dead-code
    restarts. Gradients never flow through this update."""
    z, w = jax.lax.stop_gradient(z), mask.astype(z.dtype)
    onehot = jax.nn.one_hot(idx, book.size, dtype=z.dtype) * w[:, None]
    counts = decay * book.counts + (1 - decay) * onehot.sum(0)
    sums = decay * book.sums + (1 - decay) * onehot.T @ z
    total = counts.sum()
    smoothed = (counts + eps) / (total + book.size * eps) * total
    vectors = jnp.where(counts[:, None] > 0, sums / jnp.maximum(smoothed, eps)[:, None], book.vectors)
    # restarts: dead codes jump to random (valid) encoder outputs, with a count that gives
    # them some steps to attract assignments before they could be judged dead again
    dead = counts < dead_threshold
    pick = jax.random.choice(key, z.shape[0], (book.size,), p=w / jnp.maximum(w.sum(), 1.0))
    fresh = z[pick] + 1e-3 * jax.random.normal(jax.random.fold_in(key, 1), z[pick].shape)
    restart_count = 2.0 * dead_threshold
    vectors = jnp.where(dead[:, None], fresh, vectors)
    sums = jnp.where(dead[:, None], fresh * restart_count, sums)
    counts = jnp.where(dead, restart_count, counts)
    return Codebook(vectors, counts, sums)


def codebook_stats(counts: Int[np.ndarray, " K"]) -> dict[str, float]:
    """Usage (fraction of codes used at least once) and perplexity (``exp`` of the entropy of
    code frequencies: ``K`` when every code is equally frequent, 1 when one code is used)."""
    counts = np.asarray(counts, np.float64)
    p = counts[counts > 0] / max(counts.sum(), 1.0)
    return {"codebook_usage": float(np.mean(counts > 0)), "perplexity": float(np.exp(-np.sum(p * np.log(p)))),
            "codes_used": int(np.sum(counts > 0)), "codebook_size": len(counts)}
