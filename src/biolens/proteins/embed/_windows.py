"""Overlapping windows for proteins longer than an encoder's limit, and stitching them back.

Windows are all exactly ``size`` long (the last one is aligned to the protein's end), start
every ``size - overlap`` residues, and each residue takes its state from the window in which
it is farthest from an edge: the boundary between two windows is the middle of their overlap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from jaxtyping import Float

__all__ = ["plan_windows", "stitch"]


def plan_windows(length: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Half-open ``(start, end)`` windows covering ``range(length)``."""
    if size <= 0:
        raise ValueError("window size must be positive")
    if not 0 <= overlap < size:
        raise ValueError(f"window overlap must be in [0, {size}), got {overlap}")
    if length <= size:
        return [(0, length)]
    step = size - overlap
    starts = list(range(0, length - size, step)) + [length - size]
    return [(s, s + size) for s in starts]


def stitch(
    windows: Sequence[tuple[int, int]], states: Sequence[Float[np.ndarray, "W D"]]
) -> Float[np.ndarray, "L D"]:
    """Join per-window residue states into one ``(L, D)`` array (see module docstring)."""
    length = windows[-1][1]
    out = np.empty((length, states[0].shape[-1]), dtype=states[0].dtype)
    for k, ((start, end), window_states) in enumerate(zip(windows, states, strict=True)):
        lo = start if k == 0 else (windows[k - 1][1] + start) // 2
        hi = end if k == len(windows) - 1 else (end + windows[k + 1][0]) // 2
        out[lo:hi] = window_states[lo - start : hi - start]
    return out
