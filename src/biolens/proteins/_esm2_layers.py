"""The building blocks of :class:`~biolens.proteins.esm2_model.ESM2`, each on one sequence.

Shapes: ``T`` tokens, ``D`` hidden size, ``H`` heads, ``K = D / H`` head size, ``F`` feed-forward size.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

__all__ = ["Dense", "LayerNorm", "SelfAttention", "TransformerLayer", "apply_rotary", "rotary_tables"]

_INIT_STD = 0.02


class Dense(eqx.Module):
    """``x @ weight + bias`` with ``weight`` stored ``(in, out)`` (the transpose of PyTorch's)."""

    weight: Float[Array, "I O"]
    bias: Float[Array, " O"]

    @classmethod
    def init(cls, n_in: int, n_out: int, *, key: PRNGKeyArray) -> Dense:
        return cls(_INIT_STD * jax.random.normal(key, (n_in, n_out)), jnp.zeros(n_out))

    def __call__(self, x: Float[Array, "*T I"]) -> Float[Array, "*T O"]:
        return x @ self.weight + self.bias


class LayerNorm(eqx.Module):
    """LayerNorm over the last axis (biased variance, as ``torch.nn.LayerNorm``)."""

    weight: Float[Array, " D"]
    bias: Float[Array, " D"]
    eps: float = eqx.field(static=True)

    @classmethod
    def init(cls, d: int, eps: float) -> LayerNorm:
        return cls(jnp.ones(d), jnp.zeros(d), eps)

    def __call__(self, x: Float[Array, "*T D"]) -> Float[Array, "*T D"]:
        mean = x.mean(-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(-1, keepdims=True)
        return centred * jax.lax.rsqrt(var + self.eps) * self.weight + self.bias


def rotary_tables(inv_freq: Float[Array, " K/2"], length: int) -> tuple[Float[Array, "T K"], Float[Array, "T K"]]:
    """``cos`` and ``sin`` of the rotary angles for positions ``0..length-1``."""
    angles = jnp.arange(length, dtype=jnp.float32)[:, None] * inv_freq[None, :]
    angles = jnp.concatenate([angles, angles], axis=-1)
    return jnp.cos(angles), jnp.sin(angles)


def apply_rotary(x: Float[Array, "T H K"], cos: Float[Array, "T K"], sin: Float[Array, "T K"]) -> Float[Array, "T H K"]:
    """Rotate pairs ``(x[i], x[i + K/2])`` by the position's angles (the "rotate half" layout)."""
    half = x.shape[-1] // 2
    rotated = jnp.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos[:, None, :] + rotated * sin[:, None, :]


def attention(
    q: Float[Array, "T H K"], k: Float[Array, "T H K"], v: Float[Array, "T H K"], key_mask: Bool[Array, " T"]
) -> Float[Array, "T H K"]:
    """Softmax attention of (pre-scaled) queries over the keys where ``key_mask`` is true."""
    scores = jnp.einsum("qhk,shk->hqs", q, k)
    scores = jnp.where(key_mask[None, None, :], scores, jnp.finfo(scores.dtype).min)
    weights = jax.nn.softmax(scores, axis=-1)
    return jnp.einsum("hqs,shk->qhk", weights, v)


class SelfAttention(eqx.Module):
    """Multi-head self-attention with rotary positions; one fused ``(D, 3D)`` Q|K|V projection."""

    qkv: Dense
    out: Dense
    num_heads: int = eqx.field(static=True)

    def __call__(
        self, x: Float[Array, "T D"], cos: Float[Array, "T K"], sin: Float[Array, "T K"], key_mask: Bool[Array, " T"]
    ) -> Float[Array, "T D"]:
        t, d = x.shape
        size = d // self.num_heads
        qkv = self.qkv(x).reshape(t, 3, self.num_heads, size)
        q = apply_rotary(qkv[:, 0] * size**-0.5, cos, sin)  # ESM scales queries before rotating
        k = apply_rotary(qkv[:, 1], cos, sin)
        return self.out(attention(q, k, qkv[:, 2], key_mask).reshape(t, d))


class TransformerLayer(eqx.Module):
    """Pre-LayerNorm block: ``x + attn(norm(x))``, then ``x + W2 gelu(W1 norm(x))``."""

    attn_norm: LayerNorm
    attn: SelfAttention
    ffn_norm: LayerNorm
    ffn_in: Dense
    ffn_out: Dense

    @classmethod
    def init(cls, d: int, heads: int, ffn: int, eps: float, *, key: PRNGKeyArray) -> TransformerLayer:
        k1, k2, k3, k4 = jax.random.split(key, 4)
        attn = SelfAttention(Dense.init(d, 3 * d, key=k1), Dense.init(d, d, key=k2), heads)
        return cls(LayerNorm.init(d, eps), attn, LayerNorm.init(d, eps), Dense.init(d, ffn, key=k3), Dense.init(ffn, d, key=k4))

    def __call__(
        self, x: Float[Array, "T D"], cos: Float[Array, "T K"], sin: Float[Array, "T K"], key_mask: Bool[Array, " T"]
    ) -> Float[Array, "T D"]:
        x = x + self.attn(self.attn_norm(x), cos, sin, key_mask)
        hidden = jax.nn.gelu(self.ffn_in(self.ffn_norm(x)), approximate=False)
        return x + self.ffn_out(hidden)
