"""ESM C (EvolutionaryScale's "ESM Cambrian", 2024) as Equinox modules.

The architecture of the ``esm`` package's ``ESMC`` (``esm/models/esmc.py``, ``esm/layers``):
a token embedding (64 rows, no positional table), pre-LayerNorm blocks without biases in the
projections -- fused Q|K|V after a LayerNorm, LayerNorms (no bias) over the full width on Q and K,
rotary positions (base 10,000, "rotate half"), SwiGLU feed-forward of width ``8/3 * D`` rounded up
to a multiple of 256, both residual branches divided by ``sqrt(N / 36)`` -- a final LayerNorm
without bias, and the ``sequence_head`` (dense -> GELU -> LayerNorm -> dense to 64 logits).

``ESMC.__call__`` takes one unbatched token sequence; batch with ``jax.vmap``. Layers are stacked
(``eqx.filter_vmap``) and run with ``lax.scan``. The fields mirror :class:`~.esm2_model.ESM2`
(``layers``, ``final_norm``, ``lm_head``, ``config.num_layers``/``hidden_size``,
``resolve_layer``), so the ESM2 encoder's batching and fine-tuning code runs it unchanged.

Hidden-state indices as for ESM2: 0 = embeddings, ``i`` = output of block ``i``, ``N`` = the final
normalised states (``ESMCOutput.embeddings`` in the ``esm`` package; its ``hidden_states[i - 1]`` is
our index ``i`` for ``i < N``). Attention: a residue attends to the non-padding tokens only; the
reference lets padding attend padding, which changes only padding rows (never used).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ....core.errors import InputError
from ..esm2._layers import Dense, LayerNorm, apply_rotary, head_attention, rotary_tables
from ..esm2._model import ESM2Output, layer_index

__all__ = ["ESMC", "ESMCBlock", "ESMCConfig", "NormNoBias"]

_INIT_STD = 0.02


@dataclass(frozen=True, kw_only=True)
class ESMCConfig:
    """Hyper-parameters of an ESM C model (defaults: ``esmc_300m``)."""

    hidden_size: int = 960
    num_layers: int = 30
    num_heads: int = 15
    vocab_size: int = 64
    layer_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    pad_token_id: int = 1
    mask_token_id: int = 32

    def __post_init__(self) -> None:
        if self.num_layers < 1:
            raise InputError(f"ESM C needs at least one layer, got num_layers={self.num_layers}")
        if self.hidden_size % self.num_heads or (self.hidden_size // self.num_heads) % 2:
            raise InputError(f"ESM C hidden_size {self.hidden_size} must split into {self.num_heads} heads of even size")

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def intermediate_size(self) -> int:
        """The SwiGLU width: ``8/3 * D`` rounded up to a multiple of 256 (960 -> 2560, 1152 -> 3072)."""
        return int(((8 / 3) * self.hidden_size + 255) // 256 * 256)

    @property
    def residue_scale(self) -> float:
        return math.sqrt(self.num_layers / 36)

    def flops_per_sequence(self, tokens: int) -> int:
        """Matmul FLOPs (x2) of the trunk on one unpadded sequence (no LM head)."""
        d, f = self.hidden_size, self.intermediate_size
        return self.num_layers * (tokens * (8 * d * d + 6 * d * f) + 4 * tokens * tokens * d)


class NormNoBias(eqx.Module):
    """LayerNorm without bias (``torch.nn.LayerNorm(d, bias=False)``)."""

    weight: Float[Array, " D"]
    eps: float = eqx.field(static=True)

    def __call__(self, x: Float[Array, "*T D"]) -> Float[Array, "*T D"]:
        """Statistics in float32 whatever ``x``'s dtype, result in ``x``'s (as :class:`LayerNorm`)."""
        x32 = x.astype(jnp.float32)
        centred = x32 - x32.mean(-1, keepdims=True)
        var = (centred * centred).mean(-1, keepdims=True)
        return (centred * jax.lax.rsqrt(var + self.eps) * self.weight).astype(x.dtype)


def _matrix(key: PRNGKeyArray, n_in: int, n_out: int) -> Float[Array, "I O"]:
    return _INIT_STD * jax.random.normal(key, (n_in, n_out))


class ESMCBlock(eqx.Module):
    """One ESM C block on one sequence; matrices stored ``(in, out)``, no projection biases."""

    qkv_norm: LayerNorm
    qkv: Float[Array, "D QKV"]  # QKV = 3 D: queries, keys and values side by side
    q_norm: NormNoBias
    k_norm: NormNoBias
    out: Float[Array, "D D"]
    ffn_norm: LayerNorm
    ffn_in: Float[Array, "D FI"]  # FI = 2 F: the SwiGLU gate and up projections side by side
    ffn_out: Float[Array, "F D"]
    num_heads: int = eqx.field(static=True)
    scale: float = eqx.field(static=True)

    @classmethod
    def init(cls, config: ESMCConfig, *, key: PRNGKeyArray) -> ESMCBlock:
        d, f, eps = config.hidden_size, config.intermediate_size, config.layer_norm_eps
        k1, k2, k3, k4 = jax.random.split(key, 4)
        return cls(
            LayerNorm.init(d, eps), _matrix(k1, d, 3 * d), NormNoBias(jnp.ones(d), eps), NormNoBias(jnp.ones(d), eps),
            _matrix(k2, d, d), LayerNorm.init(d, eps), _matrix(k3, d, 2 * f), _matrix(k4, f, d),
            config.num_heads, config.residue_scale,
        )  # fmt: skip

    def attention(
        self, x: Float[Array, "T D"], cos: Float[Array, "T K"], sin: Float[Array, "T K"], key_mask: Bool[Array, " T"]
    ) -> Float[Array, "T D"]:
        t, d = x.shape
        size = d // self.num_heads
        q, k, v = jnp.split(self.qkv_norm(x) @ self.qkv, 3, axis=-1)
        q, k = self.q_norm(q), self.k_norm(k)

        def heads(a: Float[Array, "T D"]) -> Float[Array, "H T K"]:
            return a.reshape(t, self.num_heads, size).transpose(1, 0, 2)

        q = apply_rotary(heads(q), cos, sin) * jnp.asarray(size**-0.5, x.dtype)
        k = apply_rotary(heads(k), cos, sin)
        key_bias = jnp.where(key_mask, 0.0, jnp.finfo(x.dtype).min).astype(x.dtype)
        ctx = jax.lax.map(lambda qkv_h: head_attention(*qkv_h, key_bias), (q, k, heads(v)))  # (H, T, K)
        return ctx.transpose(1, 0, 2).reshape(t, d) @ self.out

    def __call__(
        self, x: Float[Array, "T D"], cos: Float[Array, "T K"], sin: Float[Array, "T K"], key_mask: Bool[Array, " T"]
    ) -> Float[Array, "T D"]:
        x = x + self.attention(x, cos, sin, key_mask) / self.scale
        gate, up = jnp.split(self.ffn_norm(x) @ self.ffn_in, 2, axis=-1)
        return x + ((jax.nn.silu(gate) * up) @ self.ffn_out) / self.scale


class SequenceHead(eqx.Module):
    """dense -> exact GELU -> LayerNorm -> dense (the ``esm`` package's ``RegressionHead``)."""

    dense: Dense
    norm: LayerNorm
    out: Dense

    def __call__(self, x: Float[Array, "T D"]) -> Float[Array, "T V"]:
        return self.out(self.norm(jax.nn.gelu(self.dense(x), approximate=False)))


class ESMC(eqx.Module):
    """ESM C masked language model on one unbatched token sequence (``jax.vmap`` for batches)."""

    embed: Float[Array, "V D"]
    layers: ESMCBlock  # every leaf has a leading axis of size N
    final_norm: NormNoBias
    lm_head: SequenceHead | None
    config: ESMCConfig = eqx.field(static=True)

    def __init__(self, config: ESMCConfig, *, key: PRNGKeyArray, lm_head: bool = True) -> None:
        """A random initialisation (normal(0, 0.02) matrices, zero biases, unit norms)."""
        d, eps = config.hidden_size, config.layer_norm_eps
        k_embed, k_layers, k1, k2 = jax.random.split(key, 4)
        self.embed = _INIT_STD * jax.random.normal(k_embed, (config.vocab_size, d))
        self.layers = eqx.filter_vmap(lambda k: ESMCBlock.init(config, key=k))(jax.random.split(k_layers, config.num_layers))
        self.final_norm = NormNoBias(jnp.ones(d), eps)
        self.lm_head = (
            SequenceHead(Dense.init(d, d, key=k1), LayerNorm.init(d, eps), Dense.init(d, config.vocab_size, key=k2))
            if lm_head
            else None
        )
        self.config = config

    def resolve_layer(self, layer: int | None) -> int:
        """A hidden-state index in ``0..N`` (``None`` -> ``N``; negatives count from the end)."""
        return layer_index(layer, self.config.num_layers, "ESM C")

    def _run_layers(
        self, x: Float[Array, "T D"], key_mask: Bool[Array, " T"], stop: int, keep: bool
    ) -> tuple[Float[Array, "T D"], Float[Array, "n T D"] | None]:
        cfg = self.config
        k = cfg.head_size
        inv_freq = 1.0 / (cfg.rope_theta ** (jnp.arange(0, k, 2, dtype=jnp.float32) / k))
        cos, sin = (a.astype(x.dtype) for a in rotary_tables(inv_freq, x.shape[0]))
        params, static = eqx.partition(self.layers, eqx.is_array)
        params = jax.tree.map(lambda a: a[:stop], params)

        def step(h, layer_params):
            h = eqx.combine(layer_params, static)(h, cos, sin, key_mask)
            return h, (h if keep else None)

        return jax.lax.scan(step, x, params)

    def __call__(
        self, tokens: Int[Array, " T"], *, layer: int | None = None, all_hidden: bool = False, logits: bool = True
    ) -> ESM2Output:
        """Run the model on one token sequence (``<cls>``, residues, ``<eos>``, then ``<pad>``);
        arguments as for :meth:`~biolens.proteins.encoders.esm2.ESM2.__call__`."""
        n, layer = self.config.num_layers, self.resolve_layer(layer)
        if logits and self.lm_head is None:
            raise InputError("these ESM C weights have no sequence head; call with logits=False")
        key_mask = tokens != self.config.pad_token_id
        x0 = self.embed[tokens]
        keep = all_hidden or (logits and layer < n)
        stop = n if (logits or all_hidden) else layer
        x, ys = self._run_layers(x0, key_mask, stop, keep)
        final = self.final_norm(x) if stop == n else None
        states = None
        if keep:
            states = jnp.concatenate([x0[None], ys[:-1], final[None]])
            hidden = states[layer]
        else:
            hidden = final if layer == n else x
        out_logits = self.lm_head(final) if logits else None
        return ESM2Output(hidden=hidden, hidden_states=states if all_hidden else None, logits=out_logits)
