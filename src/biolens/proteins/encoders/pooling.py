"""Pooling per-token states into one vector per sequence, ignoring padding and special tokens."""

from __future__ import annotations

import numpy as np
from jaxtyping import Bool, Float

from ...core.errors import InputError
from .base import Encoder, TokenStates

__all__ = ["POOLINGS", "check_pooling", "pool", "pooled_width", "residue_states"]

#: Generic poolings. ``cls`` needs an encoder with a summary token; encoders may add their own.
POOLINGS = ("mean", "max", "cls", "mean+max")


def _masked_mean(states: Float[np.ndarray, "B T D"], mask: Bool[np.ndarray, "B T"]) -> Float[np.ndarray, "B D"]:
    m = mask[..., None].astype(states.dtype)
    return (states * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)


def _masked_max(states: Float[np.ndarray, "B T D"], mask: Bool[np.ndarray, "B T"]) -> Float[np.ndarray, "B D"]:
    return np.where(mask[..., None], states, -np.inf).max(axis=1)


def check_pooling(encoder: Encoder, pooling: str) -> None:
    """Raise a clear error if ``encoder`` cannot produce ``pooling``."""
    allowed = encoder.poolings + (("cls",) if encoder.has_cls else ())
    if pooling not in allowed:
        extra = "" if encoder.has_cls or pooling != "cls" else f" ({encoder.name} has no CLS token)"
        raise InputError(f"pooling {pooling!r} is not available for encoder {encoder.name}{extra}; choose from {list(allowed)}")


def pool(out: TokenStates, pooling: str) -> Float[np.ndarray, "B D"]:
    """Pool a batch of token states: ``mean``, ``max``, ``mean+max`` (concatenated), ``cls``,
    or an encoder-specific summary named in ``out.extra``. Padding rows give garbage-free zeros/-inf
    and are dropped by the caller."""
    if pooling in out.extra:
        return np.asarray(out.extra[pooling], dtype=np.float32)
    states = np.asarray(out.states, dtype=np.float32)
    mask = np.asarray(out.residue_mask, dtype=bool)
    if pooling == "mean":
        return _masked_mean(states, mask)
    if pooling == "max":
        return _masked_max(states, mask)
    if pooling == "mean+max":
        return np.concatenate([_masked_mean(states, mask), _masked_max(states, mask)], axis=-1)
    if pooling == "cls":
        if out.cls is None:
            raise InputError("this encoder has no CLS token; use mean or max pooling")
        return np.asarray(out.cls, dtype=np.float32)
    raise InputError(f"unknown pooling {pooling!r}; choose from {POOLINGS}")


def pool_residues(residues: Float[np.ndarray, "L D"], pooling: str) -> Float[np.ndarray, " D"]:
    """Pool one sequence's residue states (used for windowed, stitched sequences)."""
    if pooling == "mean":
        return residues.mean(axis=0)
    if pooling == "max":
        return residues.max(axis=0)
    if pooling == "mean+max":
        return np.concatenate([residues.mean(axis=0), residues.max(axis=0)])
    raise InputError(f"pooling {pooling!r} cannot be computed from residue states")


def pooled_width(encoder: Encoder, pooling: str) -> int:
    """Width of ``pooling``'s vectors: ``2 x width`` for ``mean+max``; an encoder's own summaries
    that are not ``width`` wide are listed in its optional ``pooling_widths`` mapping (UniRep's
    ``fusion`` is ``3 x width``)."""
    own = getattr(encoder, "pooling_widths", {})
    if pooling in own:
        return int(own[pooling])
    return 2 * encoder.width if pooling == "mean+max" else encoder.width


def residue_states(out: TokenStates, n: int) -> list[Float[np.ndarray, "L D"]]:
    """The per-residue states of the first ``n`` rows (special tokens and padding removed)."""
    states = np.asarray(out.states, dtype=np.float32)
    mask = np.asarray(out.residue_mask, dtype=bool)
    return [states[i][mask[i]] for i in range(n)]
