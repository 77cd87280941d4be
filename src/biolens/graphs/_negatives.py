"""Global negative sampling: uniformly random node pairs that are not known edges.

A negative is an unordered pair ``(u, v)`` with ``u != v`` that is not a known edge. Pairs are
drawn uniformly over all ordered pairs ``u != v`` and rejected when they hit an edge, so every
non-edge is equally likely; drawing repeats until enough are found. Deterministic for a given
generator. Edge lookups use a dense bit table for graphs up to 16,384 nodes (32 MiB) and a
sorted key array otherwise.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Int

from ..core.errors import InputError

__all__ = ["NegativeSampler", "sample_negatives"]

_DENSE_MAX_NODES = 16_384


class NegativeSampler:
    """Draws non-edges of a graph given by its pair keys (``min * N + max``, see ``pair_keys``)."""

    def __init__(self, positive_keys: Int[np.ndarray, " E"], num_nodes: int) -> None:
        n = int(num_nodes)
        keys = np.unique(np.asarray(positive_keys, dtype=np.int64))
        self.num_nodes = n
        self.free = n * (n - 1) // 2 - len(keys)
        self.accept = max(self.free / max(n * (n - 1) // 2, 1), 1e-3)
        if n <= _DENSE_MAX_NODES:
            table = np.zeros(n * n, dtype=bool)
            table[keys] = True
            self.bits, self.keys = np.packbits(table), None
        else:
            self.bits, self.keys = None, keys

    def is_edge(self, keys: Int[np.ndarray, " P"]) -> np.ndarray:
        """Whether each ``min * N + max`` key is a known edge."""
        if self.bits is not None:
            return ((self.bits[keys >> 3] >> (7 - (keys & 7))) & 1).astype(bool)
        if len(self.keys) == 0:
            return np.zeros(len(keys), dtype=bool)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return self.keys[pos] == keys

    def sample(self, count: int, rng: np.random.Generator) -> Int[np.ndarray, "count 2"]:
        """``count`` random non-edges (int64 ``(u, v)``, random orientation, repeats allowed)."""
        n = self.num_nodes
        if count > 0 and self.free <= 0:
            raise InputError(f"no negative pairs exist: all {n * (n - 1) // 2} node pairs are edges")
        out = np.empty((count, 2), dtype=np.int64)
        filled = 0
        while filled < count:
            want = count - filled
            draw = int(want / self.accept * 1.05) + 16
            u = rng.integers(0, n, draw, dtype=np.int64)
            v = rng.integers(0, n - 1, draw, dtype=np.int64)
            v += v >= u  # uniform over v != u
            bad = self.is_edge(np.minimum(u, v) * n + np.maximum(u, v))
            good = np.flatnonzero(~bad)[:want]
            out[filled : filled + len(good), 0] = u[good]
            out[filled : filled + len(good), 1] = v[good]
            filled += len(good)
        return out


def sample_negatives(positive_keys: Int[np.ndarray, " E"], num_nodes: int, count: int,
                     rng: np.random.Generator) -> Int[np.ndarray, "count 2"]:
    """``count`` random non-edges of the graph whose edges have ``positive_keys``."""
    return NegativeSampler(positive_keys, num_nodes).sample(count, rng)
