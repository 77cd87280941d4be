"""In-silico saturation mutagenesis (ISM), model-agnostic and memory-bounded.

For every sequence ``n``, position ``p`` and base ``a``, the effect of writing ``a`` at ``p``::

    delta[n, p, a] = predict(x with row p set to one-hot(a))[n] - predict(x)[n]

The base already present scores exactly zero (it is not re-scored). A row that is not one-hot
(an ``N`` = 0.25 row) has no unchanged base: all four substitutions are scored.

Memory: mutants are made ``batch_size`` at a time from index arithmetic, so peak memory is one
batch of mutants plus the ``(N, L, 4)`` result -- never the ``(N, 3L, L, 4)`` tensor of all
mutants at once (490 MB in float32 for just 1,000 sequences of 101 bp; it grows with ``N L^2``,
which is how the book's all-at-once version came to ask for 25 GB). Every call of ``predict`` gets exactly ``batch_size`` rows (the last batch is padded), so
a jitted model compiles once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from jaxtyping import Float

from ..core.batching import pad_apply
from ..core.progress import progress_bar

__all__ = ["ism_importance", "saturation_mutagenesis"]

Predict = Callable[[np.ndarray], np.ndarray]


def _call(predict: Predict, x: np.ndarray, batch_size: int) -> np.ndarray:
    """``predict`` over ``x`` in batches of exactly ``batch_size`` rows; outputs stacked as ``(N, ...)``."""
    return pad_apply(predict, x, batch_size=batch_size, fixed=True).astype(np.float32)


def _mutant_index(x: np.ndarray, start: int, end: int) -> np.ndarray:
    """Flat ``(n, p, a)`` indices (over the ``[start, end)`` window) whose base differs from ``x``."""
    window = x[:, start:end, :]
    return np.flatnonzero(~np.isclose(window, 1.0).ravel())


def saturation_mutagenesis(
    predict: Predict,
    x: Float[np.ndarray, "N L 4"],
    *,
    batch_size: int = 1024,
    start: int = 0,
    end: int | None = None,
    sequences_per_block: int = 1024,
    progress: bool = False,
) -> Float[np.ndarray, "N W 4 *T"]:
    """Effects of every single-base substitution, ``predict(mutant) - predict(reference)``.

    Args:
        predict: ``(B, L, 4) -> (B,)`` or ``(B, T)`` (numpy or JAX arrays; e.g. a trained model's
            logits). Called with exactly ``batch_size`` rows each time.
        x: one-hot sequences ``(N, L, 4)``.
        batch_size: mutants scored per call (bounds memory).
        start, end: the window of positions to mutate (default: all).
        sequences_per_block: sequences whose mutant indices are listed at once (bounds the index
            memory on very large inputs).

    Returns:
        ``(N, W, 4)`` effects for a ``(B,)`` predictor, ``(N, W, 4, T)`` for ``(B, T)``; ``W =
        end - start``. Unchanged bases are exactly 0.
    """
    x = np.asarray(x, dtype=np.float32)
    n, length, alphabet = x.shape
    end = length if end is None else end
    if not 0 <= start < end <= length:
        raise ValueError(f"window [{start}, {end}) is not inside sequences of length {length}")
    ref = _call(predict, x, batch_size)
    width = end - start
    out = np.zeros((n, width, alphabet, *ref.shape[1:]), dtype=np.float32)
    total = int((~np.isclose(x[:, start:end], 1.0)).sum())
    with progress_bar(total, "in-silico mutagenesis", enabled=progress) as advance:
        for s0 in range(0, n, sequences_per_block):
            block = x[s0 : s0 + sequences_per_block]
            flat = _mutant_index(block, start, end)
            for b0 in range(0, len(flat), batch_size):
                idx = flat[b0 : b0 + batch_size]
                seq, rest = np.divmod(idx, width * alphabet)
                pos, base = np.divmod(rest, alphabet)
                mutants = block[seq].copy()
                mutants[np.arange(len(idx)), start + pos] = np.eye(alphabet, dtype=np.float32)[base]
                scores = _call(predict, mutants, batch_size)
                out[s0 + seq, pos, base] = scores - ref[s0 + seq]
                advance(len(idx))
    return out


def ism_importance(delta: Float[np.ndarray, "N L 4"], x: Float[np.ndarray, "N L 4"]) -> Float[np.ndarray, "N L"]:
    """Per-position importance: minus the mean effect of the substitutions made at each position
    (positive where changing the base lowers the prediction, i.e. the base supports binding)."""
    changed = (~np.isclose(np.asarray(x), 1.0)).sum(-1)
    return -np.asarray(delta).sum(-1) / np.maximum(changed, 1)
