"""Pooling per-token states into one vector per sequence, ignoring padding and special tokens.

The one pooling implementation: :func:`pool_states` works on numpy arrays (the embedding
driver) and on JAX arrays inside a jitted, differentiated loss (fine-tuning), batched
``(B, T, D)`` or one row ``(T, D)``; :func:`pooled_width` is the one width rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jaxtyping import Bool, Float

from ...core.errors import InputError
from .base import Encoder, TokenStates

__all__ = ["POOLINGS", "check_finetune_pooling", "check_pooling", "pool", "pool_states", "pooled_width",
           "residue_states"]

#: Generic poolings. ``cls`` needs an encoder with a summary token; encoders may add their own.
POOLINGS = ("mean", "max", "cls", "mean+max")


def _xp(states: Any) -> Any:
    if isinstance(states, np.ndarray):
        return np
    import jax.numpy as jnp

    return jnp


def _masked_mean(states: Float[Any, "*B T D"], mask: Bool[Any, "*B T"]) -> Float[Any, "*B D"]:
    m = mask[..., None].astype(states.dtype)
    return (states * m).sum(axis=-2) / _xp(states).maximum(m.sum(axis=-2), 1.0)


def _masked_max(states: Float[Any, "*B T D"], mask: Bool[Any, "*B T"]) -> Float[Any, "*B D"]:
    return _xp(states).where(mask[..., None], states, -np.inf).max(axis=-2)


def pool_states(states: Float[Any, "*B T D"], mask: Bool[Any, "*B T"], pooling: str,
                cls: Float[Any, "*B D"] | None = None) -> Float[Any, "*B P"]:
    """Pool token states over the residue positions ``mask``: ``mean``, ``max``, ``mean+max``
    (concatenated, ``P = 2 D``) or ``cls`` (the summary token's state, ``cls``).

    numpy in, numpy out; JAX in (traced or not), JAX out. Padding and special tokens never count.
    """
    if pooling == "mean":
        return _masked_mean(states, mask)
    if pooling == "max":
        return _masked_max(states, mask)
    if pooling == "mean+max":
        return _xp(states).concatenate([_masked_mean(states, mask), _masked_max(states, mask)], axis=-1)
    if pooling == "cls":
        if cls is None:
            raise InputError("this encoder has no CLS token; use mean or max pooling")
        return cls
    raise InputError(f"unknown pooling {pooling!r}; choose from {POOLINGS}")


def check_pooling(encoder: Encoder, pooling: str) -> None:
    """Raise a clear error if ``encoder`` cannot produce ``pooling``."""
    allowed = encoder.poolings + (("cls",) if encoder.has_cls else ())
    if pooling not in allowed:
        extra = "" if encoder.has_cls or pooling != "cls" else f" ({encoder.name} has no CLS token)"
        raise InputError(f"pooling {pooling!r} is not available for encoder {encoder.name}{extra}; choose from {list(allowed)}")


def check_finetune_pooling(encoder: Encoder, pooling: str) -> None:
    """Raise a clear error if ``pooling`` cannot be computed from a differentiable encoder's
    states (:func:`pool_states`): encoder-specific summaries (UniRep's ``fusion``) are not."""
    check_pooling(encoder, pooling)
    allowed = [p for p in POOLINGS if p != "cls" or encoder.has_cls]
    if pooling not in allowed:
        raise InputError(f"pooling {pooling!r} of {encoder.name} cannot be fine-tuned; with --finetune choose from {allowed}")


def pool(out: TokenStates, pooling: str) -> Float[np.ndarray, "B D"]:
    """Pool a batch of token states: ``mean``, ``max``, ``mean+max`` (concatenated), ``cls``,
    or an encoder-specific summary named in ``out.extra``. Padding rows give garbage-free zeros/-inf
    and are dropped by the caller."""
    if pooling in out.extra:
        return np.asarray(out.extra[pooling], dtype=np.float32)
    cls = None if out.cls is None else np.asarray(out.cls, dtype=np.float32)
    return pool_states(np.asarray(out.states, dtype=np.float32), np.asarray(out.residue_mask, dtype=bool), pooling, cls)


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
