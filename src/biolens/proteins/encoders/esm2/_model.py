"""ESM2 (Lin et al., *Science* 2023) as Equinox modules.

The architecture of Hugging Face's ``EsmForMaskedLM`` for the ``facebook/esm2_*`` checkpoints:
token embedding with ESM's *token-dropout* rescaling, rotary position embeddings, pre-LayerNorm
transformer layers (self-attention with a key-padding mask, exact-erf GELU feed-forward), a final
``emb_layer_norm_after`` and the masked-LM head whose decoder is tied to the token embedding.

``ESM2.__call__`` takes one unbatched token sequence; batch with ``jax.vmap``. The layers are
stacked along a leading axis (built with ``eqx.filter_vmap``) and run with ``lax.scan``, so a
model compiles once, not once per layer. :class:`ESM2Config` is the one place that maps to and
from a Hugging Face ``config.json``. Tokens and Hugging Face checkpoints: :mod:`biolens.proteins.encoders.esm2`.

Shapes: ``T`` tokens (``<cls>`` + residues + ``<eos>`` + padding), ``D`` hidden size, ``H`` heads,
``K = D / H`` head size, ``V`` vocabulary, ``N`` layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ....core.errors import InputError
from ._layers import Dense, LayerNorm, TransformerLayer, rotary_tables

__all__ = ["ESM2", "MASK_RATIO_TRAIN", "ESM2Config", "ESM2Output", "rotary_inv_freq"]

#: The fraction of tokens masked (and so "dropped") in every ESM pretraining run: 15% x 80%.
MASK_RATIO_TRAIN = 0.15 * 0.8


@dataclass(frozen=True, kw_only=True)
class ESM2Config:
    """Hyper-parameters of an ESM2 model (defaults: ``facebook/esm2_t6_8M_UR50D``)."""

    vocab_size: int = 33
    hidden_size: int = 320
    num_layers: int = 6
    num_heads: int = 20
    intermediate_size: int = 1280
    layer_norm_eps: float = 1e-5
    token_dropout: bool = True
    mask_token_id: int = 32
    pad_token_id: int = 1
    rope_theta: float = 10000.0
    max_position_embeddings: int = 1026

    def __post_init__(self) -> None:
        if self.num_layers < 1:
            raise InputError(f"ESM2 needs at least one layer, got num_layers={self.num_layers}")
        if self.hidden_size % self.num_heads or (self.hidden_size // self.num_heads) % 2:
            raise InputError(
                f"ESM2 hidden_size {self.hidden_size} must split into {self.num_heads} heads of even size"
            )

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_heads

    @classmethod
    def from_hf(cls, hf: Mapping[str, Any]) -> ESM2Config:
        """Read a Hugging Face ``EsmConfig`` dict (``config.json``); absent keys take HF's defaults."""
        checks = {
            "position_embedding_type": (hf.get("position_embedding_type", "absolute"), "rotary"),
            "emb_layer_norm_before": (bool(hf.get("emb_layer_norm_before")), False),
            "is_decoder": (bool(hf.get("is_decoder")), False),
            "is_folding_model": (bool(hf.get("is_folding_model")), False),
            "hidden_act": (hf.get("hidden_act", "gelu"), "gelu"),
        }
        for key, (got, want) in checks.items():
            if got != want:
                raise InputError(f"not an ESM2 config: {key} is {got!r}, ESM2 needs {want!r}")
        return cls(
            vocab_size=int(hf["vocab_size"]),
            hidden_size=int(hf.get("hidden_size", 768)),
            num_layers=int(hf.get("num_hidden_layers", 12)),
            num_heads=int(hf.get("num_attention_heads", 12)),
            intermediate_size=int(hf.get("intermediate_size", 3072)),
            layer_norm_eps=float(hf.get("layer_norm_eps") or 1e-12),
            token_dropout=bool(hf.get("token_dropout", False)),
            mask_token_id=int(hf["mask_token_id"]),
            pad_token_id=int(hf["pad_token_id"]),
            rope_theta=float(hf.get("rope_theta", 10000.0)),
            max_position_embeddings=int(hf.get("max_position_embeddings", 1026)),
        )

    def to_hf(self) -> dict[str, Any]:
        """The Hugging Face ``config.json`` dict of this config (``EsmForMaskedLM``)."""
        return {
            "architectures": ["EsmForMaskedLM"],
            "model_type": "esm",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.num_layers,
            "num_attention_heads": self.num_heads,
            "intermediate_size": self.intermediate_size,
            "layer_norm_eps": self.layer_norm_eps,
            "token_dropout": self.token_dropout,
            "mask_token_id": self.mask_token_id,
            "pad_token_id": self.pad_token_id,
            "rope_theta": self.rope_theta,
            "max_position_embeddings": self.max_position_embeddings,
            "position_embedding_type": "rotary",
            "emb_layer_norm_before": False,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0,
            "tie_word_embeddings": True,
        }

    def flops_per_sequence(self, tokens: int) -> int:
        """Multiply-add FLOPs (x2) of the trunk on one unpadded sequence of ``tokens`` tokens
        (matmuls only: projections, feed-forward, scores and weighted sums; no LM head)."""
        d, f = self.hidden_size, self.intermediate_size
        per_layer = tokens * (8 * d * d + 4 * d * f) + 4 * tokens * tokens * d
        return self.num_layers * per_layer


def rotary_inv_freq(config: ESM2Config) -> tuple[float, ...]:
    """Rotary frequencies ``theta ** (-2i / K)`` for ``i < K/2``, in float32 as Hugging Face computes them."""
    k = config.head_size
    exponents = np.arange(0, k, 2, dtype=np.float32) / np.float32(k)
    return tuple(float(f) for f in np.float32(1.0) / np.float32(config.rope_theta) ** exponents)


class ESM2Output(eqx.Module):
    """One sequence's outputs.

    Attributes:
        hidden: the states at the requested hidden-state index, ``(T, D)``.
        hidden_states: every hidden state, ``(N + 1, T, D)`` (index 0 = embeddings, ``N`` = final,
            after ``emb_layer_norm_after``), or ``None`` unless asked for.
        logits: masked-LM logits ``(T, V)``, or ``None`` unless asked for.
    """

    hidden: Float[Array, "T D"]
    hidden_states: Float[Array, "L T D"] | None = None
    logits: Float[Array, "T V"] | None = None


class LMHead(eqx.Module):
    """dense -> GELU -> LayerNorm -> (tied decoder, in :class:`ESM2`) + bias."""

    dense: Dense
    norm: LayerNorm
    bias: Float[Array, " V"]

    def __call__(self, x: Float[Array, "T D"], embed: Float[Array, "V D"]) -> Float[Array, "T V"]:
        h = self.norm(jax.nn.gelu(self.dense(x), approximate=False))
        return h @ embed.T + self.bias


def layer_index(layer: int | None, num_layers: int, model: str) -> int:
    """A hidden-state index in ``0..N`` of a stack of ``N`` layers (``None`` -> ``N``; negatives count
    from the end), shared by the transformer encoders (ESM2, ESM C, ProtT5)."""
    n = num_layers
    if layer is None:
        return n
    if not -(n + 1) <= layer <= n:
        raise InputError(f"layer {layer} is out of range for {model} with {n} layers (use -{n + 1}..{n})")
    return layer % (n + 1)


class ESM2(eqx.Module):
    """ESM2 masked language model on one unbatched token sequence (``jax.vmap`` for batches)."""

    embed: Float[Array, "V D"]
    layers: TransformerLayer  # every leaf has a leading axis of size N
    final_norm: LayerNorm
    lm_head: LMHead | None
    config: ESM2Config = eqx.field(static=True)
    #: rotary frequencies (float32 values): a constant, not a parameter an optimiser would see
    inv_freq: tuple[float, ...] = eqx.field(static=True)

    def __init__(
        self,
        config: ESM2Config,
        *,
        key: PRNGKeyArray,
        lm_head: bool = True,
        inv_freq: tuple[float, ...] | None = None,
    ) -> None:
        """A random initialisation (normal(0, 0.02) weights, zero biases, unit LayerNorms).

        ``inv_freq`` overrides the rotary frequencies (checkpoints that store them are read
        with the stored values, as Hugging Face does); ``lm_head=False`` leaves out the LM head.
        """
        d, eps = config.hidden_size, config.layer_norm_eps
        k_embed, k_layers, k_head = jax.random.split(key, 3)
        embed = 0.02 * jax.random.normal(k_embed, (config.vocab_size, d))
        self.embed = embed.at[config.pad_token_id].set(0.0)

        def make_layer(k: PRNGKeyArray) -> TransformerLayer:
            return TransformerLayer.init(d, config.num_heads, config.intermediate_size, eps, key=k)

        self.layers = eqx.filter_vmap(make_layer)(jax.random.split(k_layers, config.num_layers))
        self.final_norm = LayerNorm.init(d, eps)
        self.lm_head = (
            LMHead(Dense.init(d, d, key=k_head), LayerNorm.init(d, eps), jnp.zeros(config.vocab_size))
            if lm_head
            else None
        )
        self.inv_freq = rotary_inv_freq(config) if inv_freq is None else tuple(map(float, inv_freq))
        self.config = config

    def embed_tokens(self, tokens: Int[Array, " T"]) -> Float[Array, "T D"]:
        """Token embeddings with ESM's token-dropout rescaling; padding positions are zero.

        With ``token_dropout``, ``<mask>`` embeddings are zeroed and all embeddings scaled by
        ``(1 - 0.15 * 0.8) / (1 - observed mask ratio over non-padding tokens)``, as at training.
        """
        cfg = self.config
        x = self.embed[tokens]
        not_pad = tokens != cfg.pad_token_id
        if cfg.token_dropout:
            is_mask = tokens == cfg.mask_token_id
            x = jnp.where(is_mask[:, None], 0.0, x)
            ratio = is_mask.sum() / jnp.maximum(not_pad.sum(), 1)
            x = x * ((1.0 - MASK_RATIO_TRAIN) / (1.0 - ratio)).astype(x.dtype)
        return jnp.where(not_pad[:, None], x, 0.0)

    def _rotary(self, x: Float[Array, "T D"]) -> tuple[Float[Array, "T K"], Float[Array, "T K"]]:
        """The rotary tables for ``x``'s length, computed in float32, in ``x``'s dtype."""
        tables = rotary_tables(jnp.asarray(self.inv_freq, dtype=jnp.float32), x.shape[0])
        return tables[0].astype(x.dtype), tables[1].astype(x.dtype)

    def _run_layers(
        self, x: Float[Array, "T D"], key_mask: Bool[Array, " T"], stop: int, keep: bool
    ) -> tuple[Float[Array, "T D"], Float[Array, "n T D"] | None]:
        """Run layers ``0..stop-1`` with ``lax.scan``; ``keep`` returns every layer's output."""
        cos, sin = self._rotary(x)
        params, static = eqx.partition(self.layers, eqx.is_array)
        params = jax.tree.map(lambda a: a[:stop], params)

        def step(h, layer_params):
            h = eqx.combine(layer_params, static)(h, cos, sin, key_mask)
            return h, (h if keep else None)

        x, ys = jax.lax.scan(step, x, params)
        return x, ys

    def run_stacks(self, tokens: Int[Array, " T"], stacks: list[tuple[TransformerLayer, int]], *, final: bool,
                   remat: bool = False) -> Float[Array, "T D"]:
        """Hidden states after running the first ``n`` layers of each ``(stack, n)`` (stacked layers,
        e.g. a frozen and a fine-tuned part of :attr:`layers`) one after the other, then
        ``final_norm`` when ``final``. A stack longer than ``n`` is indexed layer by layer, not sliced
        (no copy of its weights).

        ``remat`` (training) keeps only each layer's input for the backward pass and recomputes the
        rest (``jax.checkpoint`` around a layer, and around each attention head's scores), so memory
        grows with the batch's tokens, not with layers x heads x ``T^2``.
        """
        key_mask = tokens != self.config.pad_token_id
        x = self.embed_tokens(tokens)
        cos, sin = self._rotary(x)
        for stack, n in stacks:
            params, static = eqx.partition(stack, eqx.is_array)
            whole = jax.tree.leaves(params)[0].shape[0] == n

            def layer(h, p, params=params, static=static, whole=whole):
                p = p if whole else jax.tree.map(lambda a: a[p], params)  # p: the layer's index
                return eqx.combine(p, static)(h, cos, sin, key_mask, remat=remat)

            run = jax.checkpoint(layer) if remat else layer
            xs = params if whole else jnp.arange(n)
            x, _ = jax.lax.scan(lambda h, p, run=run: (run(h, p), None), x, xs)
        return self.final_norm(x) if final else x

    def resolve_layer(self, layer: int | None) -> int:
        """A hidden-state index in ``0..N`` (``None`` -> ``N``; negatives count from the end)."""
        return layer_index(layer, self.config.num_layers, "ESM2")

    def __call__(
        self,
        tokens: Int[Array, " T"],
        *,
        layer: int | None = None,
        all_hidden: bool = False,
        logits: bool = True,
    ) -> ESM2Output:
        """Run the model on one token sequence.

        Args:
            tokens: token ids ``(T,)`` (``<cls>``, residues, ``<eos>``, then ``<pad>``).
            layer: hidden-state index for ``hidden`` (0 = embeddings, ``N`` = final; default ``N``).
                Without ``logits`` or ``all_hidden`` only the first ``layer`` layers run.
            all_hidden: also return every hidden state ``(N + 1, T, D)``.
            logits: also return masked-LM logits ``(T, V)`` (needs the LM head).
        """
        n, layer = self.config.num_layers, self.resolve_layer(layer)
        if logits and self.lm_head is None:
            raise InputError("these ESM2 weights have no masked-LM head; call with logits=False")
        key_mask = tokens != self.config.pad_token_id
        x0 = self.embed_tokens(tokens)
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
        out_logits = self.lm_head(final, self.embed) if logits else None
        return ESM2Output(hidden=hidden, hidden_states=states if all_hidden else None, logits=out_logits)


#: Rows of a batch that run together (``vmap``) inside :func:`batch_hidden`: at most about this
#: many tokens at a time keeps one head's ``(T, T)`` scores per row in cache for long proteins
#: (a 1,024-token protein runs alone) and still gives short ones large matmuls.
CHUNK_TOKENS = 1024


def _chunk_rows(rows: int, length: int) -> int:
    """The largest divisor of ``rows`` with at most ``CHUNK_TOKENS`` tokens (at least 1 row): a
    divisor, so that ``lax.map`` needs no remainder step (which would double the compile)."""
    limit = max(1, CHUNK_TOKENS // length)
    return max(d for d in range(1, min(rows, limit) + 1) if rows % d == 0)


@eqx.filter_jit
def _batch_hidden(model: eqx.Module, tokens: Int[Array, "B T"], layer: int) -> Float[Array, "B T D"]:
    rows = _chunk_rows(*tokens.shape)
    return jax.lax.map(lambda t: model(t, layer=layer, logits=False).hidden, tokens, batch_size=rows)


def batch_hidden(model: eqx.Module, tokens: Int[Array, "B T"] | Int[np.ndarray, "B T"], layer: int | None = None) -> Float[Array, "B T D"]:
    """Hidden states at ``layer`` of a padded batch of token rows (jitted once per shape).

    ``model``: ESM2 or any model with its interface (``resolve_layer`` and
    ``model(tokens, layer=, logits=False).hidden``), as ProtT5.

    Rows run in chunks of at most about :data:`CHUNK_TOKENS` tokens (``lax.map`` over ``vmap``-ed
    chunks); a batch within that budget is a single ``vmap``.
    """
    return _batch_hidden(model, jnp.asarray(tokens), model.resolve_layer(layer))
