"""Length-bucketed, token-budget batches, and padded fixed-shape batched inference.

Sequences are sorted by length, each length is rounded up to a bucket, and every bucket is
cut into batches of ``max(1, token_budget // bucket_length)`` rows. All batches of one
bucket share one shape, so a jitted model compiles once per bucket, not once per length.

The bucket ladders live here and nowhere else: :func:`default_buckets` (geometric lengths,
multiples of 8, for sequences under a token budget) and :func:`octave_bucket` (powers of two,
optionally with the 1.5x steps between them, for batch rows, graph blocks and structure
segments). :func:`pad_apply` runs a jitted function over rows in fixed-size, padded batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

__all__ = ["Batch", "bucket_length", "default_buckets", "octave_bucket", "pad_apply", "plan_batches"]


def default_buckets(max_length: int, *, minimum: int = 32, growth: float = 1.5) -> tuple[int, ...]:
    """Bucket lengths from ``minimum`` up to ``max_length``, each ``growth`` times the last.

    Rounded up to multiples of 8 (vector-friendly); padding waste is below ``1 - 1/growth``.
    """
    if max_length <= 0:
        raise ValueError("max_length must be positive")
    out = []
    length = float(minimum)
    while True:
        value = int(math.ceil(length / 8) * 8)
        if value >= max_length:
            out.append(int(math.ceil(max_length / 8) * 8))
            break
        if not out or value > out[-1]:
            out.append(value)
        length *= growth
    return tuple(out)


def bucket_length(length: int, buckets: Sequence[int]) -> int:
    """The smallest bucket not shorter than ``length`` (or ``length`` rounded up to 8 past the last)."""
    for b in buckets:
        if length <= b:
            return int(b)
    return int(math.ceil(length / 8) * 8)


def octave_bucket(n: int, *, minimum: int = 1, half_steps: bool = False) -> int:
    """The smallest size ``>= n`` on the ladder ``minimum * 2^k`` (``minimum`` a power of two);
    with ``half_steps`` also ``1.5 * minimum * 2^k`` (64, 96, 128, 192, ...: waste below 1/3).

    ``minimum=1`` rounds a row count up to a power of two (bounded waste, few shapes).
    """
    if minimum < 1 or minimum & (minimum - 1):
        raise ValueError(f"minimum must be a power of two, got {minimum}")
    size = minimum
    while size < n:
        half = size * 3 // 2 if half_steps and size > 1 else size * 2
        size = half if half >= n else size * 2
    return size


@dataclass(frozen=True)
class Batch:
    """One padded batch.

    Attributes:
        indices: positions of the batch's sequences in the caller's list (length <= rows).
        rows: the padded number of rows (shared by all batches of the bucket).
        length: the padded sequence length.
    """

    indices: tuple[int, ...]
    rows: int
    length: int


def plan_batches(
    lengths: Sequence[int],
    *,
    token_budget: int = 8192,
    buckets: Sequence[int] | None = None,
    max_rows: int = 512,
) -> list[Batch]:
    """Plan batches: sort by length, bucket, and fill each batch up to ``token_budget`` tokens.

    A sequence longer than ``token_budget`` gets a batch of its own (one row). The last batch of
    a bucket keeps the bucket's row count (padding rows) so its shape matches the others,
    except when the bucket has fewer sequences than one batch: then rows are rounded up to
    a power of two, bounding both waste and the number of shapes.
    """
    lengths = [int(n) for n in lengths]
    if not lengths:
        return []
    if buckets is None:
        buckets = default_buckets(max(lengths))
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    groups: dict[int, list[int]] = {}
    for i in order:
        groups.setdefault(bucket_length(lengths[i], buckets), []).append(i)
    batches = []
    for padded, members in sorted(groups.items()):
        rows = max(1, min(max_rows, token_budget // padded))
        if len(members) < rows:
            rows = octave_bucket(len(members))
        for start in range(0, len(members), rows):
            batches.append(Batch(tuple(members[start : start + rows]), rows, padded))
    return batches


def pad_apply(fn: Callable[[Any], Any], arrays: Any, *, batch_size: int, pad: Any = "edge", fixed: bool = False) -> Any:
    """Apply a (jitted) ``fn`` over the rows of ``arrays`` in batches of one shape; unpad and
    concatenate its outputs along the first axis.

    Args:
        fn: called with a batch shaped like ``arrays`` (an array or a pytree of arrays sharing the
            first axis); returns an array or a pytree of arrays whose first axis is the batch's rows.
        batch_size: rows per call. The last batch is padded up to it, so ``fn`` compiles once.
        pad: ``"edge"`` repeats the last row (always a valid input); a number fills with it
            (a padding token, an index that exists).
        fixed: every call gets exactly ``batch_size`` rows, even when there are fewer rows in all
            (one shape across inputs); otherwise ``min(batch_size, rows)``.

    Returns:
        ``fn``'s outputs for the real rows, as numpy arrays (same pytree structure).
    """
    leaves = jax.tree_util.tree_leaves(arrays)
    n = len(leaves[0]) if leaves else 0
    if n == 0:
        raise ValueError("pad_apply: zero rows")
    size = batch_size if fixed else min(batch_size, n)
    outs = []
    for start in range(0, n, size):
        chunk = jax.tree_util.tree_map(lambda v, s=start: v[s : s + size], arrays)
        real = min(size, n - start)
        if real < size:
            chunk = jax.tree_util.tree_map(lambda v, r=real: _pad_rows(v, size - r, pad), chunk)
        outs.append(jax.tree_util.tree_map(lambda x, r=real: np.asarray(x)[:r], fn(chunk)))
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs), *outs)


def _pad_rows(v: np.ndarray, extra: int, pad: Any) -> np.ndarray:
    v = np.asarray(v)
    if isinstance(pad, str):
        if pad != "edge":
            raise ValueError(f"pad must be 'edge' or a number, got {pad!r}")
        fill = np.repeat(v[-1:], extra, axis=0)
    else:
        fill = np.full((extra, *v.shape[1:]), pad, v.dtype)
    return np.concatenate([v, fill])
