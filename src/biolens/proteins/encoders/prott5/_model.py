"""The T5 encoder stack of ProtT5 (Elnaggar et al. 2021) as Equinox modules.

The architecture of Hugging Face's ``T5EncoderModel`` (``transformers/models/t5/modeling_t5.py``):
a token embedding (no positional table, no scaling), pre-norm blocks with T5's RMS LayerNorm
(no mean, no bias), multi-head attention without biases and *without* the ``1/sqrt(K)`` query
scaling, a relative-position bias added to the scores -- one ``(buckets, H)`` table, owned by the
first block in Hugging Face and shared by every block -- a feed-forward ``wo act(wi x)`` (ReLU for
ProtT5-XL-U50, ``feed_forward_proj: "relu"``; the gated form ``act(wi_0 x) * wi_1 x`` for
``"gated-gelu"`` configs such as Ankh), and a final RMS LayerNorm.

``ProtT5.__call__`` takes one unbatched token sequence; batch with ``jax.vmap``. Layers are stacked
(``eqx.filter_vmap``) and run with ``lax.scan``; heads run one at a time (``lax.map``) so one head's
``(T, T)`` scores stay in cache. The fields mirror :class:`~biolens.proteins.encoders.esm2.ESM2`
(``layers``, ``final_norm``, ``lm_head``, ``config.num_layers``/``hidden_size``,
``resolve_layer``) so the ESM2 encoder's batching and fine-tuning code runs it unchanged.

Hidden-state indices as for ESM2: 0 = embeddings, ``i`` = output of block ``i``, ``N`` = the final
normalised states (Hugging Face's ``last_hidden_state``). Padding keys are masked for every query,
as in Hugging Face, so padding rows match the reference too (they are never used).

Shapes: ``T`` tokens, ``D`` hidden size, ``H`` heads, ``K`` head size (``d_kv``; ``H * K`` need not
be ``D``: 32 x 128 = 4096 against D = 1024 for ProtT5-XL), ``F`` feed-forward size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ....core.errors import InputError
from ..esm2._model import ESM2Output, layer_index

__all__ = ["ACTIVATIONS", "ProtT5", "ProtT5Config", "RMSNorm", "T5Block", "distance_buckets"]

#: ``dense_act_fn`` names of Hugging Face's T5 configs (``ACT2FN``) that are implemented here.
ACTIVATIONS = {
    "relu": jax.nn.relu,
    "gelu_new": lambda x: jax.nn.gelu(x, approximate=True),
    "gelu": lambda x: jax.nn.gelu(x, approximate=False),
    "silu": jax.nn.silu,
}


@dataclass(frozen=True, kw_only=True)
class ProtT5Config:
    """Hyper-parameters of a T5 encoder (defaults: ProtT5-XL-UniRef50's encoder)."""

    hidden_size: int = 1024  # d_model
    num_layers: int = 24
    num_heads: int = 32
    head_size: int = 128  # d_kv
    intermediate_size: int = 16384  # d_ff
    vocab_size: int = 128
    num_buckets: int = 32  # relative_attention_num_buckets
    max_distance: int = 128  # relative_attention_max_distance
    layer_norm_eps: float = 1e-6
    activation: str = "relu"  # dense_act_fn
    gated: bool = False  # feed_forward_proj "gated-..."
    pad_token_id: int = 0
    eos_token_id: int = 1

    def __post_init__(self) -> None:
        if self.num_layers < 1:
            raise InputError(f"a T5 encoder needs at least one layer, got num_layers={self.num_layers}")
        if self.activation not in ACTIVATIONS:
            raise InputError(f"T5 feed-forward activation {self.activation!r} is not supported; use one of {sorted(ACTIVATIONS)}")
        if self.num_buckets < 4 or self.max_distance <= self.num_buckets // 4:
            raise InputError(f"relative buckets {self.num_buckets} / max distance {self.max_distance} are not a T5 setting")

    @property
    def inner_size(self) -> int:
        return self.num_heads * self.head_size

    def flops_per_sequence(self, tokens: int) -> int:
        """Matmul FLOPs (x2) of the encoder on one unpadded sequence."""
        d, e, f = self.hidden_size, self.inner_size, self.intermediate_size
        ffn = (3 if self.gated else 2) * d * f
        return 2 * self.num_layers * (tokens * (4 * d * e + ffn) + 2 * tokens * tokens * e)


@cache
def distance_buckets(length: int, num_buckets: int, max_distance: int) -> np.ndarray:
    """Bucket of each key-minus-query distance ``0..length-1`` for a key *before* its query
    (a key after it adds ``num_buckets // 2``), as Hugging Face's bidirectional
    ``_relative_position_bucket``, in the same float32 arithmetic (so a distance on a bucket
    boundary, e.g. 64, falls in the same bucket)."""
    half = num_buckets // 2
    max_exact = half // 2
    dist = np.arange(length)
    scaled = np.log(np.maximum(dist, 1).astype(np.float32) / np.float32(max_exact))
    scaled = scaled / np.float32(math.log(max_distance / max_exact)) * np.float32(half - max_exact)
    large = np.minimum(max_exact + scaled.astype(np.int64), half - 1)
    return np.where(dist < max_exact, dist, large).astype(np.int32)


def relative_buckets(length: int, num_buckets: int, max_distance: int) -> Int[Array, "T T"]:
    """The ``(query, key)`` bucket matrix of a sequence of ``length`` tokens."""
    table = jnp.asarray(distance_buckets(length, num_buckets, max_distance))
    pos = jnp.arange(length)
    rel = pos[None, :] - pos[:, None]
    return table[jnp.abs(rel)] + jnp.where(rel > 0, num_buckets // 2, 0)


class RMSNorm(eqx.Module):
    """T5's LayerNorm: ``weight * x / sqrt(mean(x^2) + eps)``, the mean of squares in float32."""

    weight: Float[Array, " D"]
    eps: float = eqx.field(static=True)

    def __call__(self, x: Float[Array, "*T D"]) -> Float[Array, "*T D"]:
        x32 = x.astype(jnp.float32)
        var = jnp.mean(x32 * x32, axis=-1, keepdims=True)
        return (x32 * jax.lax.rsqrt(var + self.eps)).astype(self.weight.dtype) * self.weight


def _head(
    q: Float[Array, "T K"], k: Float[Array, "T K"], v: Float[Array, "T K"], table: Float[Array, " B"],
    buckets: Int[Array, "T T"], key_bias: Float[Array, " T"],
) -> Float[Array, "T K"]:  # fmt: skip
    """One head: unscaled scores + its position bias + the padding bias; softmax normalised after
    the weighted sum, in float32."""
    scores = (q @ k.T).astype(jnp.float32) + table.astype(jnp.float32)[buckets] + key_bias[None, :]
    weights = jnp.exp(scores - scores.max(axis=-1, keepdims=True))
    out = (weights.astype(v.dtype) @ v).astype(jnp.float32) / weights.sum(axis=-1, keepdims=True)
    return out.astype(v.dtype)


def _matrix(key: PRNGKeyArray, n_in: int, n_out: int) -> Float[Array, "I O"]:
    return jax.random.normal(key, (n_in, n_out)) * n_in**-0.5


class T5Block(eqx.Module):
    """One encoder block on one sequence; matrices stored ``(in, out)``, no biases.

    ``qkv`` is Hugging Face's ``q | k | v`` side by side ``(D, 3HK)``; ``wi`` is ``wi`` (or
    ``wi_0 | wi_1`` when gated) ``(D, F)`` / ``(D, 2F)``."""

    attn_norm: RMSNorm
    qkv: Float[Array, "D QKV"]  # QKV = 3 E: queries, keys and values side by side
    out: Float[Array, "E D"]
    ffn_norm: RMSNorm
    wi: Float[Array, "D FI"]  # FI = F, or 2 F for the gated feed-forward (gate and up side by side)
    wo: Float[Array, "F D"]
    num_heads: int = eqx.field(static=True)
    activation: str = eqx.field(static=True)
    gated: bool = eqx.field(static=True)

    @classmethod
    def init(cls, config: ProtT5Config, *, key: PRNGKeyArray) -> T5Block:
        d, e, f, eps = config.hidden_size, config.inner_size, config.intermediate_size, config.layer_norm_eps
        k1, k2, k3, k4 = jax.random.split(key, 4)
        return cls(
            RMSNorm(jnp.ones(d), eps), _matrix(k1, d, 3 * e), _matrix(k2, e, d), RMSNorm(jnp.ones(d), eps),
            _matrix(k3, d, 2 * f if config.gated else f), _matrix(k4, f, d), config.num_heads, config.activation, config.gated,
        )  # fmt: skip

    def attention(
        self, x: Float[Array, "T D"], bias_table: Float[Array, "H B"], buckets: Int[Array, "T T"], key_bias: Float[Array, " T"]
    ) -> Float[Array, "T D"]:
        t = x.shape[0]
        size = self.qkv.shape[1] // (3 * self.num_heads)
        qkv = (x @ self.qkv).reshape(t, 3, self.num_heads, size).transpose(1, 2, 0, 3)  # (3, H, T, K)
        ctx = jax.lax.map(lambda a: _head(*a, buckets, key_bias), (qkv[0], qkv[1], qkv[2], bias_table))
        return ctx.transpose(1, 0, 2).reshape(t, self.num_heads * size) @ self.out

    def feed_forward(self, x: Float[Array, "T D"]) -> Float[Array, "T D"]:
        act = ACTIVATIONS[self.activation]
        h = x @ self.wi
        if self.gated:
            gate, up = jnp.split(h, 2, axis=-1)
            h = act(gate) * up
        else:
            h = act(h)
        return h @ self.wo

    def __call__(
        self, x: Float[Array, "T D"], bias_table: Float[Array, "H B"], buckets: Int[Array, "T T"], key_bias: Float[Array, " T"]
    ) -> Float[Array, "T D"]:
        x = x + self.attention(self.attn_norm(x), bias_table, buckets, key_bias)
        return x + self.feed_forward(self.ffn_norm(x))


class ProtT5(eqx.Module):
    """A T5 encoder on one unbatched token sequence (``jax.vmap`` for batches).

    ``position_bias`` is the shared relative-attention table, stored ``(H, buckets)`` (the
    transpose of Hugging Face's ``relative_attention_bias.weight``). ``lm_head`` is always ``None``
    (the encoder has no head; the field keeps the ESM2 encoder's fine-tuning code unchanged)."""

    embed: Float[Array, "V D"]
    position_bias: Float[Array, "H B"]
    layers: T5Block  # every leaf has a leading axis of size N
    final_norm: RMSNorm
    lm_head: None
    config: ProtT5Config = eqx.field(static=True)

    def __init__(self, config: ProtT5Config, *, key: PRNGKeyArray) -> None:
        """A random initialisation (unit-variance embeddings, ``1/sqrt(in)``-scaled matrices, unit norms)."""
        k_embed, k_bias, k_layers = jax.random.split(key, 3)
        self.embed = jax.random.normal(k_embed, (config.vocab_size, config.hidden_size))
        self.position_bias = 0.1 * jax.random.normal(k_bias, (config.num_heads, config.num_buckets))
        self.layers = eqx.filter_vmap(lambda k: T5Block.init(config, key=k))(jax.random.split(k_layers, config.num_layers))
        self.final_norm = RMSNorm(jnp.ones(config.hidden_size), config.layer_norm_eps)
        self.lm_head = None
        self.config = config

    def resolve_layer(self, layer: int | None) -> int:
        """A hidden-state index in ``0..N`` (``None`` -> ``N``; negatives count from the end)."""
        return layer_index(layer, self.config.num_layers, "ProtT5")

    def _run_layers(
        self, x: Float[Array, "T D"], key_mask: Bool[Array, " T"], stop: int, keep: bool
    ) -> tuple[Float[Array, "T D"], Float[Array, "n T D"] | None]:
        cfg = self.config
        buckets = relative_buckets(x.shape[0], cfg.num_buckets, cfg.max_distance)
        key_bias = jnp.where(key_mask, 0.0, jnp.finfo(jnp.float32).min)
        params, static = eqx.partition(self.layers, eqx.is_array)
        params = jax.tree.map(lambda a: a[:stop], params)

        def step(h, layer_params):
            h = eqx.combine(layer_params, static)(h, self.position_bias, buckets, key_bias)
            return h, (h if keep else None)

        return jax.lax.scan(step, x, params)

    def __call__(
        self, tokens: Int[Array, " T"], *, layer: int | None = None, all_hidden: bool = False, logits: bool = False
    ) -> ESM2Output:
        """Run the encoder on one token sequence (residues, ``</s>``, then ``<pad>``).

        Args:
            tokens: token ids ``(T,)``.
            layer: hidden-state index for ``hidden`` (0 = embeddings, ``N`` = final, the default).
                Without ``all_hidden`` only the first ``layer`` blocks run.
            all_hidden: also return every hidden state ``(N + 1, T, D)``.
            logits: must be ``False`` (an encoder has no LM head; the argument keeps ESM2's call).
        """
        if logits:
            raise InputError("the ProtT5 encoder has no language-model head; call with logits=False")
        n, layer = self.config.num_layers, self.resolve_layer(layer)
        x0 = self.embed[tokens]
        stop = n if all_hidden else layer
        x, ys = self._run_layers(x0, tokens != self.config.pad_token_id, stop, all_hidden)
        final = self.final_norm(x) if stop == n else None
        if all_hidden:
            states = jnp.concatenate([x0[None], ys[:-1], final[None]])
            return ESM2Output(hidden=states[layer], hidden_states=states)
        return ESM2Output(hidden=final if layer == n else x)
