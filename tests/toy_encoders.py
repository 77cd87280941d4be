"""Small deterministic encoders for tests of the embedding driver."""

from __future__ import annotations

import time

import numpy as np

from biolens.proteins.encoders.base import Encoder, TokenStates
from biolens.proteins.encoders.onehot import residue_profile


class ContextEncoder(Encoder):
    """State of residue i = sum of one-hot rows i-k..i+k (within the window it sees).

    With BOS/EOS-like specials and an optional limit, it mimics a transformer's locality
    closely enough to test windowing, pooling and padding.
    """

    name = "toy-context"
    width = 20
    has_cls = True

    def __init__(self, k: int = 3, max_residues: int | None = None, delay: float = 0.0, fail_after: int | None = None):
        self.k, self.max_residues, self.delay, self.fail_after = k, max_residues, delay, fail_after
        self.calls = 0
        self.shapes: list[tuple[int, int]] = []

    def settings(self):
        return {"k": self.k, "max": self.max_residues}

    def weights_digest(self):
        return "none"

    def residues(self, seq: str) -> np.ndarray:
        prof = residue_profile(seq)
        csum = np.concatenate([np.zeros((1, 20), np.float32), np.cumsum(prof, axis=0)])
        idx = np.arange(len(seq))
        lo, hi = np.maximum(idx - self.k, 0), np.minimum(idx + self.k + 1, len(seq))
        return csum[hi] - csum[lo]

    def encode_batch(self, sequences, rows, length):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("simulated crash")
        self.calls += 1
        self.shapes.append((rows, length))
        time.sleep(self.delay)
        states = np.full((rows, length + 2, 20), 99.0, np.float32)  # padding is loud on purpose
        mask = np.zeros((rows, length + 2), bool)
        for i, seq in enumerate(sequences):
            states[i, 0] = len(seq)  # "cls"
            states[i, 1 : len(seq) + 1] = self.residues(seq)
            mask[i, 1 : len(seq) + 1] = True
        return TokenStates(states, mask, cls=states[:, 0])
