"""Weight-free encoders: one-hot residues and amino-acid / dipeptide composition.

Ambiguous letters are spread over the residues they may stand for, so no information is
invented: X is uniform over the 20 amino acids, B = (D + N) / 2, Z = (E + Q) / 2,
J = (I + L) / 2; the rare residues map to their closest standard one, U (selenocysteine) to C
and O (pyrrolysine) to K.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from jaxtyping import Float

from ....core.alphabets import PROTEIN
from .._base import Encoder, TokenStates

__all__ = ["CompositionEncoder", "OneHotEncoder", "residue_profile"]

_AA = PROTEIN.standard
_SOFT = {"X": _AA, "B": "DN", "Z": "EQ", "J": "IL", "U": "C", "O": "K"}


def _table() -> Float[np.ndarray, "128 20"]:
    table = np.zeros((128, len(_AA)), dtype=np.float32)
    for i, aa in enumerate(_AA):
        table[ord(aa), i] = 1.0
    for letter, spread in _SOFT.items():
        for aa in spread:
            table[ord(letter), _AA.index(aa)] = 1.0 / len(spread)
    return table


_TABLE = _table()


def residue_profile(sequence: str) -> Float[np.ndarray, "L 20"]:
    """One row per residue: one-hot for standard residues, a distribution for ambiguous ones."""
    codes = np.frombuffer(sequence.encode("ascii"), dtype=np.uint8)
    return _TABLE[codes]


class OneHotEncoder(Encoder):
    """20 columns per residue in the order ``ACDEFGHIKLMNPQRSTVWY``; no weights, no special tokens."""

    name = "onehot"
    width = len(_AA)
    token_budget = 1 << 16

    def settings(self) -> dict[str, Any]:
        return {"alphabet": _AA, "ambiguous": "soft-v1"}

    def weights_digest(self) -> str:
        return "none"

    def encode_batch(self, sequences: Sequence[str], rows: int, length: int) -> TokenStates:
        states = np.zeros((rows, length, self.width), dtype=np.float32)
        mask = np.zeros((rows, length), dtype=bool)
        for i, seq in enumerate(sequences):
            states[i, : len(seq)] = residue_profile(seq)
            mask[i, : len(seq)] = True
        return TokenStates(states, mask)


class CompositionEncoder(Encoder):
    """Amino-acid frequencies (20), optionally followed by dipeptide frequencies (400).

    A global encoder: it has no per-residue output and one pooling, ``mean`` -- the mean of the
    one-hot rows is exactly the composition. Dipeptide frequencies are over the ``L - 1``
    consecutive pairs (zero for a single residue), row-major ``AA, AC, ..., YY``.
    """

    per_residue = False
    poolings = ("mean",)
    token_budget = 1 << 16

    def __init__(self, *, dipeptides: bool = False) -> None:
        self.dipeptides = dipeptides
        self.name = "dipeptide" if dipeptides else "composition"
        self.width = len(_AA) + (len(_AA) ** 2 if dipeptides else 0)

    def settings(self) -> dict[str, Any]:
        return {"alphabet": _AA, "dipeptides": self.dipeptides, "ambiguous": "soft-v1"}

    def weights_digest(self) -> str:
        return "none"

    def features(self, sequence: str) -> Float[np.ndarray, " D"]:
        profile = residue_profile(sequence)
        parts = [profile.mean(axis=0)]
        if self.dipeptides:
            if len(sequence) > 1:
                pairs = np.einsum("li,lj->ij", profile[:-1], profile[1:]) / (len(sequence) - 1)
            else:
                pairs = np.zeros((len(_AA), len(_AA)), dtype=np.float32)
            parts.append(pairs.reshape(-1))
        return np.concatenate(parts).astype(np.float32)

    def encode_batch(self, sequences: Sequence[str], rows: int, length: int) -> TokenStates:
        states = np.zeros((rows, 1, self.width), dtype=np.float32)
        mask = np.zeros((rows, 1), dtype=bool)
        for i, seq in enumerate(sequences):
            states[i, 0] = self.features(seq)
            mask[i, 0] = True
        return TokenStates(states, mask)


def build(name: str, arg: str | None, **options: Any) -> Encoder:
    """Registry hook: ``onehot``, ``composition`` or ``dipeptide`` (no options)."""
    if options:
        from ....core.errors import InputError

        raise InputError(f"encoder {name} takes no options (got {sorted(options)})")
    if name == "onehot":
        return OneHotEncoder()
    return CompositionEncoder(dipeptides=name == "dipeptide")


def availability(name: str) -> tuple[bool, str]:
    return True, "built in"
