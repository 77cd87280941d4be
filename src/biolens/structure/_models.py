"""Structure autoencoders in Equinox: a convolutional encoder over the chain, a Gaussian VAE
and a VQ-VAE bottleneck, and a decoder that rebuilds backbone coordinates.

Two decoders rebuild a full backbone (N, CA, C, O) whose RMSD to the input is measured after
superposition:

* ``chain``: convolutions predict, per residue, the rigid transform to the next residue's frame
  (a 6D rotation and a translation) and the local positions of N, C and O; frames are chained
  along the segment (:func:`.rigid.chain_frames`), so local errors add up along the chain.
* ``global``: convolutions, then transformer blocks with learned relative-position biases over
  the whole segment, predict every residue's frame at once (in a frame the decoder chooses; the
  FAPE loss is invariant to it), so nothing accumulates along the chain.

All modules take one unbatched chain ``(L, ...)`` with a residue mask; callers ``jax.vmap``.
"""

from __future__ import annotations

from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ._features import feature_width
from ._rigid import chain_frames, place_atoms, rotation_6d

__all__ = ["VQVAE", "AttentionStack", "ConvStack", "Decoder", "Encoder", "GaussianVAE", "ModelConfig", "ThreeDiDecoder", "build_model"]

KINDS = ("vqvae", "vae", "3di")
DECODERS = ("chain", "global")
# Starting points of the decoder's outputs (its last layer starts at zero): identity rotation,
# the mean step to the next CA and mean N, C, O positions in the residue frame (from PDB chains).
_BASE = np.array(
    [1, 0, 0, 0, 1, 0, 3.56, 0.0, 0.2, -0.52, 1.36, 0.0, 1.52, 0.0, 0.0, 2.15, 0.0, 0.0], np.float32
)
OUTPUTS = len(_BASE)
# The global decoder's starting point: every frame the identity at the origin, the same local atoms.
_BASE_GLOBAL = np.concatenate([_BASE[:6], np.zeros(3, np.float32), _BASE[9:]])
GLOBAL_SCALE = 10.0  # the global decoder's translations are in units of 10 Å
THREEDI_STATES = 21  # 20 states + Foldseek's invalid state


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Architecture of a structure autoencoder (saved beside every checkpoint).

    ``kind``: ``vqvae`` (discrete tokens), ``vae`` (Gaussian latents) or ``3di`` (the decoder
    alone, reading Foldseek 3Di states: a reference for how much backbone 3Di tokens carry).
    ``code_dim`` is the code (VQ) or latent (VAE) width per residue. ``fape_frames``: residue
    frames per crop the training loss looks from (``None``: all); ``fape_clamp``: FAPE's distance
    clamp in Å (errors beyond it give no gradient: drift along the chain past it is unseen); ``step_weight``: weight of the
    residue-to-residue step loss beside FAPE. ``attention_layers`` transformer blocks of
    ``heads`` heads (relative positions learned up to ``max_offset`` residues apart) follow the
    decoder's convolutions, so each residue's output sees the whole segment; ``decoder``:
    ``chain`` (relative steps, chained) or ``global`` (all frames predicted at once; needs
    attention layers).
    """

    kind: str = "vqvae"
    neighbours: int = 8
    width: int = 64
    encoder_layers: int = 2
    decoder_layers: int = 5
    kernel: int = 5
    code_dim: int = 16
    codebook_size: int = 64
    commitment: float = 0.25
    ema_decay: float = 0.99
    dead_threshold: float = 1.0
    kl_weight: float = 1e-3
    fape_frames: int | None = 32
    fape_clamp: float = 10.0
    step_weight: float = 1.0
    decoder: str = "chain"
    attention_layers: int = 0
    heads: int = 4
    max_offset: int = 32

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {self.decoder!r}")
        if self.decoder == "global" and not self.attention_layers:
            raise ValueError("the global decoder needs attention_layers > 0 (its only view of the whole segment)")
        if self.width % self.heads:
            raise ValueError(f"width ({self.width}) must be a multiple of heads ({self.heads})")
        if self.kernel % 2 == 0:
            raise ValueError(f"kernel must be odd (centred convolution), got {self.kernel}")


def _unfold(x: Float[Array, "L d"], kernel: int) -> Float[Array, "L kd"]:
    """Each position with its ``kernel`` centred neighbours side by side (zero beyond the ends),
    so a 1D convolution is one matrix product (faster than XLA's convolution on CPU)."""
    half = kernel // 2
    padded = jnp.pad(x, ((half, half), (0, 0)))
    return jnp.concatenate([padded[i : i + x.shape[0]] for i in range(kernel)], axis=-1)


class _Block(eqx.Module):
    norm: eqx.nn.LayerNorm
    conv: eqx.nn.Linear
    out: eqx.nn.Linear
    kernel: int = eqx.field(static=True)

    def __init__(self, width: int, kernel: int, *, key: jax.Array) -> None:
        k1, k2 = jax.random.split(key)
        self.norm = eqx.nn.LayerNorm(width)
        self.conv = eqx.nn.Linear(kernel * width, width, key=k1)
        self.out = eqx.nn.Linear(width, width, key=k2)
        self.kernel = kernel

    def __call__(self, h: Float[Array, "L d"], mask: Bool[Array, " L"]) -> Float[Array, "L d"]:
        x = jax.vmap(self.norm)(h) * mask[:, None]  # padding never leaks into the convolution
        x = jax.nn.gelu(_unfold(x, self.kernel) @ self.conv.weight.T + self.conv.bias)
        return h + x @ self.out.weight.T + self.out.bias


class _AttentionBlock(eqx.Module):
    """Pre-norm multi-head self-attention over the segment (padding masked out as keys) with a
    learned bias per head and relative offset (clipped at ``max_offset``), then a GELU MLP."""

    norm: eqx.nn.LayerNorm
    qkv: eqx.nn.Linear
    out: eqx.nn.Linear
    norm2: eqx.nn.LayerNorm
    up: eqx.nn.Linear
    down: eqx.nn.Linear
    offset_bias: Float[Array, "H R"]
    heads: int = eqx.field(static=True)
    max_offset: int = eqx.field(static=True)

    def __init__(self, width: int, heads: int, max_offset: int, *, key: jax.Array) -> None:
        k1, k2, k3, k4 = jax.random.split(key, 4)
        self.norm, self.norm2 = eqx.nn.LayerNorm(width), eqx.nn.LayerNorm(width)
        self.qkv = eqx.nn.Linear(width, 3 * width, key=k1)
        self.out = eqx.nn.Linear(width, width, key=k2)
        self.up = eqx.nn.Linear(width, 2 * width, key=k3)
        self.down = eqx.nn.Linear(2 * width, width, key=k4)
        self.offset_bias = jnp.zeros((heads, 2 * max_offset + 1))
        self.heads, self.max_offset = heads, max_offset

    def __call__(self, h: Float[Array, "L d"], mask: Bool[Array, " L"]) -> Float[Array, "L d"]:
        L, d = h.shape
        x = jax.vmap(self.norm)(h)
        q, k, v = jnp.split((x @ self.qkv.weight.T + self.qkv.bias).reshape(L, 3 * self.heads, d // self.heads), 3, 1)
        offset = jnp.clip(jnp.arange(L)[None] - jnp.arange(L)[:, None], -self.max_offset, self.max_offset)
        logits = jnp.einsum("qhc,khc->hqk", q, k) / np.sqrt(d // self.heads) + self.offset_bias[:, offset + self.max_offset]
        att = jax.nn.softmax(jnp.where(mask[None, None], logits, -1e9), -1)
        h = h + jnp.einsum("hqk,khc->qhc", att, v).reshape(L, d) @ self.out.weight.T + self.out.bias
        x = jax.nn.gelu(jax.vmap(self.norm2)(h) @ self.up.weight.T + self.up.bias)
        return h + x @ self.down.weight.T + self.down.bias


class _Stack(eqx.Module):
    """Residual blocks of one kind, their weights stacked and run with ``lax.scan``."""

    blocks: eqx.Module

    def __call__(self, h: Float[Array, "L d"], mask: Bool[Array, " L"]) -> Float[Array, "L d"]:
        dynamic, static = eqx.partition(self.blocks, eqx.is_array)

        def body(h, params):
            return eqx.combine(params, static)(h, mask), None

        return jax.lax.scan(body, h, dynamic)[0]


class ConvStack(_Stack):
    """Residual pre-norm 1D convolution blocks."""

    def __init__(self, width: int, layers: int, kernel: int, *, key: jax.Array) -> None:
        self.blocks = eqx.filter_vmap(lambda k: _Block(width, kernel, key=k))(jax.random.split(key, layers))


class AttentionStack(_Stack):
    """Residual pre-norm transformer blocks with relative-position biases."""

    def __init__(self, width: int, layers: int, heads: int, max_offset: int, *, key: jax.Array) -> None:
        self.blocks = eqx.filter_vmap(lambda k: _AttentionBlock(width, heads, max_offset, key=k))(
            jax.random.split(key, layers))


class Encoder(eqx.Module):
    """Residue features ``(L, F)`` -> per-residue vectors ``(L, out)``."""

    embed: eqx.nn.Linear
    stack: ConvStack
    norm: eqx.nn.LayerNorm
    head: eqx.nn.Linear

    def __init__(self, features: int, width: int, layers: int, kernel: int, out: int, *, key: jax.Array) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        self.embed = eqx.nn.Linear(features, width, key=k1)
        self.stack = ConvStack(width, layers, kernel, key=k2)
        self.norm = eqx.nn.LayerNorm(width)
        self.head = eqx.nn.Linear(width, out, key=k3)

    def __call__(self, feats: Float[Array, "L F"], mask: Bool[Array, " L"]) -> Float[Array, "L out"]:
        h = self.stack(jax.vmap(self.embed)(feats), mask)
        return jax.vmap(self.head)(jax.vmap(self.norm)(h))


class Decoder(eqx.Module):
    """Codes ``(L, D)`` -> backbone: frames ``(L, 3, 3)``, ``(L, 3)`` and atoms ``(L, 4, 3)``
    (N, CA, C, O); chained (in the frame of the segment's first residue) or all at once (in a
    frame of the decoder's choosing)."""

    embed: eqx.nn.Linear
    stack: ConvStack
    attention: AttentionStack | None
    norm: eqx.nn.LayerNorm
    head: eqx.nn.Linear
    chained: bool = eqx.field(static=True)

    def __init__(self, code_dim: int, width: int, layers: int, kernel: int, *,
                 attention: tuple[int, int, int] | None = None, chained: bool = True, key: jax.Array) -> None:
        """``attention``: ``(layers, heads, max_offset)`` of transformer blocks after the convolutions;
        ``chained``: relative steps chained along the segment, else every frame predicted directly."""
        k1, k2, k3 = jax.random.split(key, 3)
        k4 = jax.random.fold_in(key, 4)
        self.embed = eqx.nn.Linear(code_dim, width, key=k1)
        self.stack = ConvStack(width, layers, kernel, key=k2)
        self.attention = None if attention is None else AttentionStack(width, *attention, key=k4)
        self.norm = eqx.nn.LayerNorm(width)
        head = eqx.nn.Linear(width, OUTPUTS, key=k3)
        self.chained = chained
        base = _BASE if chained else _BASE_GLOBAL
        self.head = eqx.tree_at(lambda m: (m.weight, m.bias), head, (jnp.zeros_like(head.weight), jnp.asarray(base)))

    def __call__(
        self, z: Float[Array, "L D"], mask: Bool[Array, " L"]
    ) -> tuple[Float[Array, "L 3 3"], Float[Array, "L 3"], Float[Array, "L 4 3"]]:
        h = self.stack(jax.vmap(self.embed)(z), mask)
        if self.attention is not None:
            h = self.attention(h, mask)
        out = jax.vmap(self.head)(jax.vmap(self.norm)(h))
        if self.chained:
            rot, trans = chain_frames(rotation_6d(out[:, :6]), out[:, 6:9])
        else:
            rot, trans = rotation_6d(out[:, :6]), GLOBAL_SCALE * out[:, 6:9]
        n_c_o = out[:, 9:].reshape(-1, 3, 3)
        local = jnp.stack([n_c_o[:, 0], jnp.zeros_like(n_c_o[:, 0]), n_c_o[:, 1], n_c_o[:, 2]], 1)
        return rot, trans, place_atoms(rot, trans, local)


class VQVAE(eqx.Module):
    """Encoder -> nearest code of a :class:`.quantize.Codebook` (kept in the training state) -> decoder."""

    encoder: Encoder
    decoder: Decoder

    def encode(self, feats: Float[Array, "L F"], mask: Bool[Array, " L"]) -> Float[Array, "L D"]:
        return self.encoder(feats, mask)


class GaussianVAE(eqx.Module):
    """Encoder -> per-residue Gaussian (mean, log-variance) -> sample (or mean) -> decoder."""

    encoder: Encoder
    decoder: Decoder

    def encode(self, feats: Float[Array, "L F"], mask: Bool[Array, " L"]) -> tuple[Float[Array, "L D"], Float[Array, "L D"]]:
        out = self.encoder(feats, mask)
        mean, logvar = jnp.split(out, 2, axis=-1)
        return mean, jnp.clip(logvar, -10.0, 10.0)


class ThreeDiDecoder(eqx.Module):
    """A learned embedding of Foldseek's 3Di states -> the same decoder (a reference point)."""

    embed: eqx.nn.Embedding
    decoder: Decoder

    def encode(self, states: Int[Array, " L"]) -> Float[Array, "L D"]:
        return jax.vmap(self.embed)(states)


def build_model(config: ModelConfig, *, key: jax.Array) -> VQVAE | GaussianVAE | ThreeDiDecoder:
    """A freshly initialised model of ``config``'s kind (initialised in one compiled call:
    much faster on CPU than running each initialiser operation by operation)."""
    return _build(config, key)


@eqx.filter_jit
def _build(config: ModelConfig, key: jax.Array) -> VQVAE | GaussianVAE | ThreeDiDecoder:
    k1, k2 = jax.random.split(key)
    attention = (config.attention_layers, config.heads, config.max_offset) if config.attention_layers else None
    decoder = Decoder(config.code_dim, config.width, config.decoder_layers, config.kernel, attention=attention,
                      chained=config.decoder == "chain", key=k2)
    if config.kind == "3di":
        return ThreeDiDecoder(eqx.nn.Embedding(THREEDI_STATES, config.code_dim, key=k1), decoder)
    out = config.code_dim * (2 if config.kind == "vae" else 1)
    encoder = Encoder(feature_width(config.neighbours), config.width, config.encoder_layers, config.kernel, out, key=k1)
    return GaussianVAE(encoder, decoder) if config.kind == "vae" else VQVAE(encoder, decoder)
