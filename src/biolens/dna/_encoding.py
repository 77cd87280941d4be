"""DNA one-hot encoding and reverse complements.

Column order is ``A, C, G, T`` (:data:`biolens.core.alphabets.DNA`'s ``standard`` letters).
An ``N`` (unknown base) is the row ``[0.25, 0.25, 0.25, 0.25]``: the expected one-hot under a
uniform base, the convention DeepBind used for padding. It keeps every row summing to one, so a
convolution sees an N as "the average base" rather than as "no base at all" (an all-zero row
would look like a strong, unnatural signal to filters trained only on one-hot rows). This is a
stated choice, pinned by the tests, and saved in every run's config (``n_value``).

Sequences fed to one model together must share one length: the models flatten a fixed-length
window, so there is no padding; :func:`one_hot` refuses mixed lengths with the record named.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from jaxtyping import Array, Float

from ..core.alphabets import DNA
from ..core.errors import InputError

__all__ = [
    "BASES",
    "N_VALUE",
    "check_equal_lengths",
    "decode_one_hot",
    "one_hot",
    "reverse_complement",
    "reverse_complement_one_hot",
]

BASES: str = DNA.standard  # "ACGT"
#: the value of each column of an N row
N_VALUE: float = 0.25
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
_LOOKUP = np.full(256, -1, dtype=np.int8)
for _i, _b in enumerate(BASES):
    _LOOKUP[ord(_b)] = _i
_LOOKUP[ord("N")] = 4


def check_equal_lengths(sequences: Sequence[str], ids: Sequence[str] | None = None, *, source: str | None = None) -> int:
    """The common length of ``sequences``; an :class:`InputError` naming the first record whose
    length differs from the first record's (these models take fixed-length windows, no padding)."""
    if not sequences:
        raise InputError("no sequences", source=source)
    length = len(sequences[0])
    for i, seq in enumerate(sequences):
        if len(seq) != length:
            name = ids[i] if ids is not None else f"#{i + 1}"
            first = ids[0] if ids is not None else "#1"
            raise InputError(
                f"has length {len(seq)}, but {first!r} has length {length}: sequences given to one "
                "model together must share one length (no padding; trim or window them first)",
                source=source, record=str(name),
            )
    return length


def one_hot(sequences: Sequence[str] | str, *, ids: Sequence[str] | None = None, source: str | None = None,
            n_value: float = N_VALUE) -> Float[np.ndarray, "N L 4"] | Float[np.ndarray, "L 4"]:
    """One-hot encode upper-case DNA (``ACGTN``) of one shared length.

    Args:
        sequences: validated sequences (see :func:`biolens.core.alphabets.validate_records`:
            lowercase is upper-cased and counted there), or one sequence.
        ids: record ids, used in error messages.
        n_value: the value of each of the four columns of an ``N`` row (default 0.25).

    Returns:
        ``float32`` array of shape ``(N, L, 4)`` (``(L, 4)`` for a single string).

    Raises:
        InputError: mixed lengths, or a letter other than ``ACGTN`` (lowercase included:
            validate first, so that the change is counted).
    """
    if isinstance(sequences, str):
        return one_hot([sequences], ids=ids, source=source, n_value=n_value)[0]
    length = check_equal_lengths(sequences, ids, source=source)
    raw = np.frombuffer("".join(sequences).encode("ascii", errors="replace"), dtype=np.uint8)
    codes = _LOOKUP[raw].reshape(len(sequences), length)
    if (codes < 0).any():
        row, col = (int(v) for v in np.argwhere(codes < 0)[0])
        name = ids[row] if ids is not None else f"#{row + 1}"
        raise InputError(
            f"letter {sequences[row][col]!r} at position {col + 1} is not one of A, C, G, T, N "
            "(validate records first: lowercase is upper-cased and counted there)",
            source=source, record=str(name),
        )
    table = np.zeros((5, 4), dtype=np.float32)
    table[:4] = np.eye(4, dtype=np.float32)
    table[4] = n_value
    return table[codes]


def decode_one_hot(x: Float[np.ndarray, "L 4"]) -> str:
    """The sequence of a one-hot ``(L, 4)`` array: the base of each one-hot row, ``N`` for others."""
    x = np.asarray(x)
    is_hot = (np.isclose(x, 1.0).sum(-1) == 1) & (np.isclose(x, 0.0).sum(-1) == 3)
    return "".join(BASES[i] if hot else "N" for i, hot in zip(x.argmax(-1), is_hot, strict=True))


def reverse_complement(sequence: str) -> str:
    """Reverse complement of an ``ACGTN`` string (``N`` stays ``N``)."""
    return sequence.translate(_COMPLEMENT)[::-1]


def reverse_complement_one_hot(x: Float[np.ndarray | Array, "... L 4"]) -> Float[np.ndarray | Array, "... L 4"]:
    """Reverse complement of one-hot arrays: with columns ``A, C, G, T`` the complement is the
    reversed column order, so both the length and base axes are flipped (numpy or JAX arrays, jit-able;
    ``N`` rows stay ``N``)."""
    return (x if hasattr(x, "ndim") else np.asarray(x))[..., ::-1, ::-1]
