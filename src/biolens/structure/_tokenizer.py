"""Use a trained structure model: chains -> tokens (or latents) -> backbones, and the
token-string format.

Chains are run one segment at a time, padded at the end to a few bucket lengths so a jitted
model compiles once per bucket (padding changes nothing: convolutions see zeros past the end
and frames are chained forwards).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Float, Int

from ..core.batching import octave_bucket
from ..core.errors import InputError
from ._models import VQVAE, GaussianVAE, ThreeDiDecoder
from ._quantize import quantize

__all__ = ["Reconstruction", "bucket", "decode_tokens", "format_tokens", "parse_tokens", "reconstruct", "tokenize"]

BREAK = "/"


def bucket(n: int, minimum: int = 64) -> int:
    """The padded length for ``n`` residues: ``minimum`` or the next of 2^k and 1.5 × 2^k."""
    return octave_bucket(n, minimum=minimum, half_steps=True)


def _pad(x: np.ndarray, size: int) -> np.ndarray:
    return np.concatenate([x, np.zeros((size - len(x), *x.shape[1:]), x.dtype)])


@eqx.filter_jit
def _encode(model: Any, book: Any, feats: jax.Array, mask: jax.Array) -> jax.Array:
    if isinstance(model, GaussianVAE):
        return model.encode(feats, mask)[0]
    return quantize(book.vectors, model.encode(feats, mask))[0]


@eqx.filter_jit
def _decode(model: Any, z: jax.Array, mask: jax.Array) -> jax.Array:
    return model.decoder(z, mask)[2]


def _codes(model: Any, book: Any, tokens: jax.Array) -> jax.Array:
    if isinstance(model, ThreeDiDecoder):
        return model.encode(tokens)
    return book.vectors[tokens]


@dataclass
class Reconstruction:
    """Per chain: the tokens (VQ, 3Di) or latent means (VAE) and the decoded ``(L, 4, 3)`` backbone."""

    codes: np.ndarray
    coords: Float[np.ndarray, "L 4 3"]


def _run_segment(model: Any, book: Any, feats: np.ndarray | None, states: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    n = len(feats) if feats is not None else len(states)
    size = bucket(n)
    mask = jnp.asarray(np.arange(size) < n)
    if isinstance(model, ThreeDiDecoder):
        codes = np.asarray(states)
        z = _codes(model, book, jnp.asarray(_pad(codes, size)))
    else:
        out = _encode(model, book, jnp.asarray(_pad(feats, size)), mask)
        codes = np.asarray(out)[:n]
        z = out if isinstance(model, GaussianVAE) else _codes(model, book, out)
    return codes, np.asarray(_decode(model, z, mask))[:n]


def reconstruct(model: Any, book: Any, chain: Any) -> Reconstruction:
    """Encode and decode one :class:`.dataset.Chain`, segment by segment."""
    codes, coords = [], []
    for sl in chain.backbone.segments():
        feats = chain.features[sl]
        states = chain.states3di[sl] if chain.states3di is not None else None
        c, x = _run_segment(model, book, feats, states)
        codes.append(c)
        coords.append(x)
    return Reconstruction(np.concatenate(codes), np.concatenate(coords))


def tokenize(model: VQVAE | GaussianVAE | ThreeDiDecoder, book: Any, chain: Any) -> Int[np.ndarray, " L"]:
    """The token of every residue of a chain (segments encoded separately)."""
    if not isinstance(model, VQVAE):
        raise InputError("only a VQ-VAE run has tokens; this run's model is "
                         f"{'a Gaussian VAE (continuous latents)' if isinstance(model, GaussianVAE) else 'the 3Di decoder'}")
    return np.concatenate([_run_segment(model, book, chain.features[sl], None)[0] for sl in chain.backbone.segments()])


def decode_tokens(model: Any, book: Any, tokens: np.ndarray, segment: np.ndarray) -> Float[np.ndarray, "L 4 3"]:
    """Backbone coordinates (N, CA, C, O) for tokens; each segment is decoded on its own and
    placed one peptide step beyond the previous segment's end (their relative placement is not
    encoded: a gap has no coordinates)."""
    out = []
    for s in np.unique(segment):
        toks = tokens[segment == s]
        size = bucket(len(toks))
        mask = jnp.asarray(np.arange(size) < len(toks))
        z = _codes(model, book, jnp.asarray(_pad(toks.astype(np.int32), size)))
        x = np.asarray(_decode(model, z, mask))[: len(toks)]
        if out:
            prev = out[-1][:, 1]
            direction = prev[-1] - prev.mean(0)
            direction /= max(np.linalg.norm(direction), 1e-6)
            x = x - x[0, 1] + prev[-1] + 3.8 * direction
        out.append(x)
    return np.concatenate(out)


def format_tokens(tokens: Int[np.ndarray, " L"], segment: Int[np.ndarray, " L"]) -> str:
    """Space-separated token ids, ``/`` between segments: ``"12 7 7 / 40 3"``."""
    parts = [" ".join(str(int(t)) for t in tokens[segment == s]) for s in np.unique(segment)]
    return f" {BREAK} ".join(parts)


def parse_tokens(text: str, codebook_size: int, *, source: str = "tokens") -> tuple[np.ndarray, np.ndarray]:
    """The inverse of :func:`format_tokens`, with errors naming the bad item."""
    items = text.replace(BREAK, f" {BREAK} ").split()
    tokens, segment, seg = [], [], 0
    for pos, item in enumerate(items, 1):
        if item == BREAK:
            seg += 1 if tokens and segment[-1] == seg else 0
            continue
        if not re.fullmatch(r"[0-9]+", item) or int(item) >= codebook_size:  # ASCII digits only
            raise InputError(f"item {pos} ({item!r}) is not a token id 0..{codebook_size - 1}", source=source)
        tokens.append(int(item))
        segment.append(seg)
    if not tokens:
        raise InputError("no tokens", source=source)
    return np.array(tokens, np.int32), np.array(segment, np.int32)

