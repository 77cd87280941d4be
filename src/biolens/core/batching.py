"""Length-bucketed, token-budget batches.

Sequences are sorted by length, each length is rounded up to a bucket, and every bucket is
cut into batches of ``max(1, token_budget // bucket_length)`` rows. All batches of one
bucket share one shape, so a jitted model compiles once per bucket, not once per length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Batch", "bucket_length", "default_buckets", "iterate_minibatches", "plan_batches"]


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
            rows = 1 << (len(members) - 1).bit_length()
        for start in range(0, len(members), rows):
            batches.append(Batch(tuple(members[start : start + rows]), rows, padded))
    return batches


def iterate_minibatches(n: int, batch_size: int, *, rng: np.random.Generator | None = None, drop_last: bool = False):
    """Yield index arrays covering ``range(n)`` in batches; shuffled when ``rng`` is given."""
    idx = rng.permutation(n) if rng is not None else np.arange(n)
    stop = n - (n % batch_size) if drop_last and n >= batch_size else n
    for start in range(0, stop, batch_size):
        yield idx[start : start + batch_size]
