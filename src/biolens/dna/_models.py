"""Transcription-factor binding models (Equinox), after the book's chapter 2.

One configurable family covers the book's three models and its ablations:

==================  =======================================================================
preset              what it is
==================  =======================================================================
``cnn``             the simple CNN: 2 x (conv 64x10, GELU, max-pool 2), MLP 128 -> 64, logit
``cnn-bn``          the same with batch norm after each conv and dropout 0.2 in the MLP
                    (train it with the cosine schedule of :class:`biolens.core.train.TrainConfig`)
``conv-transformer`` ``cnn-bn`` + one transformer block (pre-norm multi-head self-attention and
                    a GELU feed-forward, each with a residual) between the convs and the MLP
``conv-gru``        ``cnn-bn`` + a bidirectional GRU (``recurrent_units`` per direction, scanned
                    with ``lax.scan``) between the convs and the MLP: deepRAM's (Trabelsi et al.
                    2019) best family on the ENCODE ChIP-seq sets was convolution + recurrent
==================  =======================================================================

``strands="both"`` makes any of them reverse-complement aware, as DeepBind (Alipanahi et al.
2015) scored both strands: in training each example is read on a random strand (augmentation,
no extra cost per step); at inference the logits of the sequence and of its reverse complement
are averaged, so a prediction is the same for either strand (``f(x) == f(revcomp(x))``).

Ablations are one setting each: fewer channels (``conv_filters=32``), no MLP (``mlp_blocks=0``),
+1/+2 transformer blocks (``transformer_blocks=2|3``). Like the book, there is no positional
encoding: the convolutions see order locally and the flattened MLP input keeps positions.
Transformer blocks are stacked and run with ``lax.scan`` (one compiled block, any depth).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ._encoding import reverse_complement_one_hot

__all__ = ["MODELS", "ModelConfig", "SeedEnsemble", "TFBindingModel", "model_config"]

#: running-statistics momentum of batch norm: 0.9 (not 0.99) so the inference statistics keep up
#: with the weights in runs of a few hundred steps (0.99 left validation accuracy at 0.5 after 200).
BN_MOMENTUM = 0.9
STRANDS = ("forward", "both")


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Hyper-parameters of :class:`TFBindingModel` (saved beside every checkpoint)."""

    seq_len: int = 101
    n_outputs: int = 1
    conv_blocks: int = 2
    conv_filters: int = 64
    kernel_size: int = 10
    pool_size: int = 2
    batch_norm: bool = False
    transformer_blocks: int = 0
    heads: int = 8
    transformer_hidden: int = 64
    mlp_blocks: int = 2
    dense_units: int = 128
    dropout: float = 0.0
    recurrent_units: int = 0
    strands: str = "forward"

    def __post_init__(self) -> None:
        if self.strands not in STRANDS:
            raise ValueError(f"strands must be one of {STRANDS}, got {self.strands!r}")
        if self.transformer_blocks and self.recurrent_units:
            raise ValueError("choose a transformer (transformer_blocks) or a recurrent layer (recurrent_units), not both")
        if self.transformer_blocks and self.conv_filters % self.heads:
            raise ValueError(f"conv_filters ({self.conv_filters}) must be divisible by heads ({self.heads})")
        if self.seq_len // self.pool_size**self.conv_blocks < 1:
            raise ValueError(f"seq_len {self.seq_len} is too short for {self.conv_blocks} pooling blocks")


#: the model families by name (what ``--model`` chooses); training presets are :data:`biolens.dna.PRESETS`
MODELS: dict[str, ModelConfig] = {
    "cnn": ModelConfig(),
    "cnn-bn": ModelConfig(batch_norm=True, dropout=0.2),
    "conv-transformer": ModelConfig(batch_norm=True, dropout=0.2, transformer_blocks=1),
    "conv-gru": ModelConfig(batch_norm=True, dropout=0.2, recurrent_units=32),
}


def model_config(name: str, **overrides) -> ModelConfig:
    """A model family with some fields replaced, e.g. ``model_config("cnn", conv_filters=32)``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    return dataclasses.replace(MODELS[name], **overrides)


class ConvBlock(eqx.Module):
    """Conv1d ('SAME') -> optional batch norm -> GELU -> max-pool; channels-first ``(C, L)``."""

    conv: eqx.nn.Conv1d
    norm: eqx.nn.BatchNorm | None
    pool: eqx.nn.MaxPool1d

    def __init__(self, in_channels: int, config: ModelConfig, *, key: PRNGKeyArray) -> None:
        self.conv = eqx.nn.Conv1d(in_channels, config.conv_filters, config.kernel_size, padding="SAME", key=key)
        self.norm = eqx.nn.BatchNorm(
            config.conv_filters, axis_name="batch", mode="batch", momentum=BN_MOMENTUM) if config.batch_norm else None
        self.pool = eqx.nn.MaxPool1d(config.pool_size, config.pool_size)

    def __call__(self, h: Float[Array, "C L"], state: eqx.nn.State) -> tuple[Float[Array, "F L2"], eqx.nn.State]:
        h = self.conv(h)
        if self.norm is not None:
            h, state = self.norm(h, state)
        return self.pool(jax.nn.gelu(h)), state


class TransformerBlock(eqx.Module):
    """Pre-norm self-attention and feed-forward, each added back to its input; ``(L, C)``."""

    norm1: eqx.nn.LayerNorm
    attention: eqx.nn.MultiheadAttention
    norm2: eqx.nn.LayerNorm
    up: eqx.nn.Linear
    down: eqx.nn.Linear
    dropout: eqx.nn.Dropout

    def __init__(self, config: ModelConfig, *, key: PRNGKeyArray) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        c = config.conv_filters
        self.norm1, self.norm2 = eqx.nn.LayerNorm(c), eqx.nn.LayerNorm(c)
        self.attention = eqx.nn.MultiheadAttention(
            config.heads, c, use_query_bias=True, use_key_bias=True, use_value_bias=True, use_output_bias=True, key=k1)
        self.up = eqx.nn.Linear(c, config.transformer_hidden, key=k2)
        self.down = eqx.nn.Linear(config.transformer_hidden, c, key=k3)
        self.dropout = eqx.nn.Dropout(config.dropout)

    def __call__(self, h: Float[Array, "L C"], *, key: PRNGKeyArray | None = None) -> Float[Array, "L C"]:
        a = jax.vmap(self.norm1)(h)
        h = h + self.attention(a, a, a)
        f = jax.nn.gelu(jax.vmap(self.up)(jax.vmap(self.norm2)(h)))
        return h + jax.vmap(self.down)(self.dropout(f, key=key))


class BiGRU(eqx.Module):
    """A bidirectional GRU over ``(L, C)``: per-position outputs of both directions, ``(L, 2H)``."""

    forward: eqx.nn.GRUCell
    backward: eqx.nn.GRUCell

    def __init__(self, in_size: int, units: int, *, key: PRNGKeyArray) -> None:
        kf, kb = jax.random.split(key)
        self.forward = eqx.nn.GRUCell(in_size, units, key=kf)
        self.backward = eqx.nn.GRUCell(in_size, units, key=kb)

    @staticmethod
    def _run(cell: eqx.nn.GRUCell, h: Float[Array, "L C"]) -> Float[Array, "L H"]:
        def body(carry, x):
            carry = cell(x, carry)
            return carry, carry

        return jax.lax.scan(body, jnp.zeros(cell.hidden_size, h.dtype), h)[1]

    def __call__(self, h: Float[Array, "L C"]) -> Float[Array, "L H2"]:
        return jnp.concatenate([self._run(self.forward, h), self._run(self.backward, h[::-1])[::-1]], axis=-1)


class TFBindingModel(eqx.Module):
    """Conv blocks -> scanned transformer blocks or a BiGRU -> flatten -> MLP -> ``n_outputs`` logits.

    ``__call__`` takes one one-hot sequence ``(L, 4)`` and the batch-norm ``state`` (unused
    without batch norm) and returns logits ``(T,)``; ``jax.vmap`` it with ``axis_name="batch"``.
    With ``strands="both"`` a training call (``key`` given) reads a random strand and an inference
    call averages the logits of both strands.
    """

    convs: tuple[ConvBlock, ...]
    blocks: TransformerBlock | None  # stacked: every array has a leading block axis
    recurrent: BiGRU | None
    mlp: tuple[eqx.nn.Linear, ...]
    out: eqx.nn.Linear
    dropout: eqx.nn.Dropout
    n_blocks: int = eqx.field(static=True)
    strands: str = eqx.field(static=True)

    def __init__(self, config: ModelConfig, *, key: PRNGKeyArray) -> None:
        kc, kt, km, ko = jax.random.split(key, 4)
        kr = jax.random.fold_in(kt, 1)
        conv_keys = jax.random.split(kc, config.conv_blocks)
        self.convs = tuple(ConvBlock(4 if i == 0 else config.conv_filters, config, key=k) for i, k in enumerate(conv_keys))
        self.n_blocks = config.transformer_blocks
        self.blocks = (eqx.filter_vmap(lambda k: TransformerBlock(config, key=k))(jax.random.split(kt, self.n_blocks))
                       if self.n_blocks else None)
        self.recurrent = BiGRU(config.conv_filters, config.recurrent_units, key=kr) if config.recurrent_units else None
        self.strands = config.strands
        channels = 2 * config.recurrent_units if config.recurrent_units else config.conv_filters
        width = channels * (config.seq_len // config.pool_size**config.conv_blocks)
        layers = []
        for i, k in enumerate(jax.random.split(km, config.mlp_blocks)):
            units = config.dense_units // (i + 1)
            layers.append(eqx.nn.Linear(width, units, key=k))
            width = units
        self.mlp = tuple(layers)
        self.out = eqx.nn.Linear(width, config.n_outputs, key=ko)
        self.dropout = eqx.nn.Dropout(config.dropout)

    def _transformer(self, h: Float[Array, "L C"], key: PRNGKeyArray | None) -> Float[Array, "L C"]:
        params, static = eqx.partition(self.blocks, eqx.is_array)
        keys = jax.random.split(key, self.n_blocks) if key is not None else None

        def body(h, xs):
            p, k = xs
            return eqx.combine(p, static)(h, key=k), None

        return jax.lax.scan(body, h, (params, keys))[0]

    def __call__(self, x: Float[Array, "L 4"], state: eqx.nn.State, *,
                 key: PRNGKeyArray | None = None) -> tuple[Float[Array, " T"], eqx.nn.State]:
        if self.strands == "forward":
            return self._one_strand(x, state, key)
        if key is not None:  # training: a random strand per example
            key, flip = jax.random.split(key)
            return self._one_strand(jnp.where(jax.random.bernoulli(flip), reverse_complement_one_hot(x), x), state, key)
        plus, state = self._one_strand(x, state, None)
        minus, state = self._one_strand(reverse_complement_one_hot(x), state, None)
        return (plus + minus) / 2, state

    def _one_strand(self, x: Float[Array, "L 4"], state: eqx.nn.State,
                    key: PRNGKeyArray | None) -> tuple[Float[Array, " T"], eqx.nn.State]:
        h = x.T
        for block in self.convs:
            h, state = block(h, state)
        keys = jax.random.split(key, 2 + len(self.mlp)) if key is not None else [None] * (2 + len(self.mlp))
        if self.blocks is not None:
            h = self._transformer(h.T, keys[0]).T
        if self.recurrent is not None:
            h = self.recurrent(h.T).T
        h = jnp.ravel(h.T)
        for layer, k in zip(self.mlp, keys[2:], strict=True):
            h = self.dropout(jax.nn.gelu(layer(h)), key=k)
        return self.out(h), state


class SeedEnsemble(eqx.Module):
    """Models of one config trained from different seeds, read as one: their logits are averaged.

    It takes the same ``(x, state)`` as :class:`TFBindingModel`, with ``state`` the tuple of the
    members' batch-norm states, so prediction, ISM and saliency work on it unchanged. It is only
    read, never trained as one: each member is trained on its own (``biolens dna train --seeds N``).
    """

    members: tuple[TFBindingModel, ...]

    def __call__(self, x: Float[Array, "L 4"], state: tuple[eqx.nn.State, ...], *,
                 key: PRNGKeyArray | None = None) -> tuple[Float[Array, " T"], tuple[eqx.nn.State, ...]]:
        if key is not None:
            raise ValueError("a SeedEnsemble is not trained as one model: train each member on its own")
        if len(state) != len(self.members):
            raise ValueError(f"{len(self.members)} members but {len(state)} batch-norm states")
        logits = [member(x, s)[0] for member, s in zip(self.members, state, strict=True)]
        return sum(logits) / len(logits), state
