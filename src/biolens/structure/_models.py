"""Structure autoencoders in Equinox: a convolutional encoder over the chain, a Gaussian VAE
and a VQ-VAE bottleneck, and a decoder that rebuilds backbone coordinates.

The decoder predicts, per residue, the rigid transform to the next residue's frame (a 6D
rotation and a translation) and the local positions of N, C and O; frames are chained along
the segment (:func:`.rigid.chain_frames`), so the output is a full backbone (N, CA, C, O)
whose RMSD to the input can be measured after superposition. All modules take one unbatched
chain ``(L, ...)`` with a residue mask; callers ``jax.vmap``.
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

__all__ = ["VQVAE", "ConvStack", "Decoder", "Encoder", "GaussianVAE", "ModelConfig", "ThreeDiDecoder", "build_model"]

KINDS = ("vqvae", "vae", "3di")
# Starting points of the decoder's outputs (its last layer starts at zero): identity rotation,
# the mean step to the next CA and mean N, C, O positions in the residue frame (from PDB chains).
_BASE = np.array(
    [1, 0, 0, 0, 1, 0, 3.56, 0.0, 0.2, -0.52, 1.36, 0.0, 1.52, 0.0, 0.0, 2.15, 0.0, 0.0], np.float32
)
OUTPUTS = len(_BASE)
THREEDI_STATES = 21  # 20 states + Foldseek's invalid state


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Architecture of a structure autoencoder (saved beside every checkpoint).

    ``kind``: ``vqvae`` (discrete tokens), ``vae`` (Gaussian latents) or ``3di`` (the decoder
    alone, reading Foldseek 3Di states: a reference for how much backbone 3Di tokens carry).
    ``code_dim`` is the code (VQ) or latent (VAE) width per residue. ``fape_frames``: residue
    frames per crop the training loss looks from (``None``: all); ``step_weight``: weight of the
    residue-to-residue step loss beside FAPE.
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
    step_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
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


class ConvStack(eqx.Module):
    """Residual pre-norm 1D convolution blocks, stacked and run with ``lax.scan``."""

    blocks: _Block

    def __init__(self, width: int, layers: int, kernel: int, *, key: jax.Array) -> None:
        self.blocks = eqx.filter_vmap(lambda k: _Block(width, kernel, key=k))(jax.random.split(key, layers))

    def __call__(self, h: Float[Array, "L d"], mask: Bool[Array, " L"]) -> Float[Array, "L d"]:
        dynamic, static = eqx.partition(self.blocks, eqx.is_array)

        def body(h, params):
            return eqx.combine(params, static)(h, mask), None

        return jax.lax.scan(body, h, dynamic)[0]


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
    """Codes ``(L, D)`` -> backbone: global frames ``(L, 3, 3)``, ``(L, 3)`` and atoms
    ``(L, 4, 3)`` (N, CA, C, O) in the frame of the segment's first residue."""

    embed: eqx.nn.Linear
    stack: ConvStack
    norm: eqx.nn.LayerNorm
    head: eqx.nn.Linear

    def __init__(self, code_dim: int, width: int, layers: int, kernel: int, *, key: jax.Array) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        self.embed = eqx.nn.Linear(code_dim, width, key=k1)
        self.stack = ConvStack(width, layers, kernel, key=k2)
        self.norm = eqx.nn.LayerNorm(width)
        head = eqx.nn.Linear(width, OUTPUTS, key=k3)
        self.head = eqx.tree_at(lambda m: (m.weight, m.bias), head, (jnp.zeros_like(head.weight), jnp.asarray(_BASE)))

    def __call__(
        self, z: Float[Array, "L D"], mask: Bool[Array, " L"]
    ) -> tuple[Float[Array, "L 3 3"], Float[Array, "L 3"], Float[Array, "L 4 3"]]:
        h = self.stack(jax.vmap(self.embed)(z), mask)
        out = jax.vmap(self.head)(jax.vmap(self.norm)(h))
        rot, trans = chain_frames(rotation_6d(out[:, :6]), out[:, 6:9])
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
    decoder = Decoder(config.code_dim, config.width, config.decoder_layers, config.kernel, key=k2)
    if config.kind == "3di":
        return ThreeDiDecoder(eqx.nn.Embedding(THREEDI_STATES, config.code_dim, key=k1), decoder)
    out = config.code_dim * (2 if config.kind == "vae" else 1)
    encoder = Encoder(feature_width(config.neighbours), config.width, config.encoder_layers, config.kernel, out, key=k1)
    return GaussianVAE(encoder, decoder) if config.kind == "vae" else VQVAE(encoder, decoder)
