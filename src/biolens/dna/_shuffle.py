"""Dinucleotide-preserving shuffles (DeepBind's negatives).

A sequence is an Eulerian path through the multigraph whose vertices are letters and whose edges
are its dinucleotides. Altschul & Erickson (1985) draw a random Eulerian path with the same
edges: choose for every letter except the last one a "last exit" edge such that those edges form
a tree pointing at the final letter, shuffle each letter's other exits, and walk. The tree is drawn
with Wilson's loop-erased random walk (as in Kandel et al.'s ``ushuffle``), so every arborescence
is as likely as its edge multiplicities make it. The result keeps the first and last letters and
the exact count of every dinucleotide (hence of every letter).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

__all__ = ["dinucleotide_counts", "dinucleotide_shuffle", "shuffle_many"]


def dinucleotide_counts(sequence: str) -> Counter[str]:
    """Counts of overlapping dinucleotides (``"AAA"`` has two ``"AA"``)."""
    return Counter(sequence[i : i + 2] for i in range(len(sequence) - 1))


def _last_exits(exits: dict[str, list[str]], root: str, rng: np.random.Generator) -> dict[str, str]:
    """A random arborescence towards ``root``: for each other letter, the letter its last exit goes to."""
    in_tree, step = {root}, {}
    for start in sorted(exits):
        u = start
        while u not in in_tree:  # loop-erased random walk: a revisit overwrites the exit
            step[u] = exits[u][int(rng.integers(len(exits[u])))]
            u = step[u]
        u = start
        while u not in in_tree:
            in_tree.add(u)
            u = step[u]
    return step


def dinucleotide_shuffle(sequence: str, rng: np.random.Generator | int | None = None) -> str:
    """A random sequence with exactly the dinucleotide counts of ``sequence``.

    Args:
        sequence: any string (``N`` and other letters are just more vertices).
        rng: a numpy ``Generator`` or a seed.

    Returns:
        A string of the same length, first and last letter, and dinucleotide counts.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if len(sequence) <= 2:
        return sequence
    exits: dict[str, list[str]] = {}
    for a, b in zip(sequence[:-1], sequence[1:], strict=True):
        exits.setdefault(a, []).append(b)
    root = sequence[-1]
    last = _last_exits(exits, root, rng)
    order: dict[str, list[str]] = {}
    for letter, targets in exits.items():
        targets = list(targets)
        if letter != root:
            targets.remove(last[letter])
        rng.shuffle(targets)
        if letter != root:
            targets.append(last[letter])
        order[letter] = targets[::-1]  # pop() from the end takes them in order
    out, u = [sequence[0]], sequence[0]
    for _ in range(len(sequence) - 1):
        u = order[u].pop()
        out.append(u)
    return "".join(out)


def shuffle_many(sequences: Sequence[str], seed: int = 0) -> list[str]:
    """One dinucleotide shuffle of each sequence, from one generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    return [dinucleotide_shuffle(s, rng) for s in sequences]
