"""The building blocks of :class:`~biolens.proteins.encoders.esm2.ESM2`, each on one sequence.

Shapes: ``T`` tokens, ``D`` hidden size, ``H`` heads, ``K = D / H`` head size, ``F`` feed-forward size.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

__all__ = ["Dense", "LayerNorm", "SelfAttention", "TransformerLayer", "apply_rotary", "head_attention", "rotary_tables"]

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
        """Statistics in float32 whatever ``x``'s dtype (bfloat16/float16 compute), result in ``x``'s."""
        x32 = x.astype(jnp.float32)
        centred = x32 - x32.mean(-1, keepdims=True)
        var = (centred * centred).mean(-1, keepdims=True)
        return (centred * jax.lax.rsqrt(var + self.eps) * self.weight + self.bias).astype(x.dtype)


def rotary_tables(inv_freq: Float[Array, " half"], length: int) -> tuple[Float[Array, "T K"], Float[Array, "T K"]]:
    """``cos`` and ``sin`` of the rotary angles for positions ``0..length-1``."""
    angles = jnp.arange(length, dtype=jnp.float32)[:, None] * inv_freq[None, :]
    angles = jnp.concatenate([angles, angles], axis=-1)
    return jnp.cos(angles), jnp.sin(angles)


def apply_rotary(x: Float[Array, "*H T K"], cos: Float[Array, "T K"], sin: Float[Array, "T K"]) -> Float[Array, "*H T K"]:
    """Rotate pairs ``(x[i], x[i + K/2])`` by the position's angles (the "rotate half" layout)."""
    half = x.shape[-1] // 2
    rotated = jnp.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def head_attention(
    q: Float[Array, "T K"], k: Float[Array, "T K"], v: Float[Array, "T K"], key_bias: Float[Array, " T"]
) -> Float[Array, "T K"]:
    """One head's softmax attention of (pre-scaled) queries; ``key_bias`` is 0 for real keys and
    the most negative float for padding (finite, so an all-padding row gives no NaN).

    The softmax is normalised after the weighted sum (``(P V) / rowsum(P)``), which saves a pass
    over the ``(T, T)`` weights; the bias is added in the same pass as the row maximum. In a
    reduced compute dtype the scores, their exponentials' sums and the normalisation are float32
    (the products stay in the compute dtype); in float32 every cast is a no-op.
    """
    scores = (q @ k.T).astype(jnp.float32) + key_bias.astype(jnp.float32)[None, :]
    weights = jnp.exp(scores - scores.max(axis=-1, keepdims=True))
    out = (weights.astype(v.dtype) @ v).astype(jnp.float32) / weights.sum(axis=-1, keepdims=True)
    return out.astype(v.dtype)


class SelfAttention(eqx.Module):
    """Multi-head self-attention with rotary positions; one fused ``(D, 3D)`` Q|K|V projection.

    Heads run one after another (``lax.map``): one head's ``(T, T)`` scores stay in cache, where
    all heads' scores at once (``H * T * T`` floats per sequence) would stream through memory.
    """

    qkv: Dense
    out: Dense
    num_heads: int = eqx.field(static=True)

    def __call__(
        self, x: Float[Array, "T D"], cos: Float[Array, "T K"], sin: Float[Array, "T K"], key_mask: Bool[Array, " T"],
        *, remat: bool = False,
    ) -> Float[Array, "T D"]:
        """``remat`` (training): each head's ``(T, T)`` scores are recomputed in the backward pass
        instead of kept, so a layer's saved activations grow with ``T``, not ``H * T * T``."""
        t, d = x.shape
        size = d // self.num_heads
        qkv = self.qkv(x).reshape(t, 3, self.num_heads, size).transpose(1, 2, 0, 3)  # (3, H, T, K)
        q = apply_rotary(qkv[0] * size**-0.5, cos, sin)  # ESM scales queries before rotating
        k = apply_rotary(qkv[1], cos, sin)
        key_bias = jnp.where(key_mask, 0.0, jnp.finfo(x.dtype).min)
        attend = jax.checkpoint(head_attention) if remat else head_attention
        heads = jax.lax.map(lambda qkv_h: attend(*qkv_h, key_bias), (q, k, qkv[2]))  # (H, T, K)
        return self.out(heads.transpose(1, 0, 2).reshape(t, d))


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
        self, x: Float[Array, "T D"], cos: Float[Array, "T K"], sin: Float[Array, "T K"], key_mask: Bool[Array, " T"],
        *, remat: bool = False,
    ) -> Float[Array, "T D"]:
        x = x + self.attn(self.attn_norm(x), cos, sin, key_mask, remat=remat)
        hidden = jax.nn.gelu(self.ffn_in(self.ffn_norm(x)), approximate=False)
        return x + self.ffn_out(hidden)
