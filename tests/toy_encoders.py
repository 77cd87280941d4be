"""Small deterministic encoders for tests of the embedding driver."""

from __future__ import annotations

import time

import numpy as np

from biolens.proteins.encoders import Encoder, TokenStates
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


def _toy_module(width: int, depth: int, key):
    import equinox as eqx
    import jax

    class Layer(eqx.Module):
        linear: eqx.nn.Linear

        def __call__(self, h):
            return h + jax.nn.gelu(self.linear(h))

    class ToyModule(eqx.Module):
        embedding: eqx.nn.Embedding
        layers: tuple

        def __call__(self, tokens):
            h = jax.vmap(self.embedding)(tokens)
            for layer in self.layers:
                h = jax.vmap(layer)(h)
            return h

    keys = jax.random.split(key, depth + 1)
    return ToyModule(eqx.nn.Embedding(22, width, key=keys[0]),
                     tuple(Layer(eqx.nn.Linear(width, width, key=k)) for k in keys[1:]))


class DifferentiableToy(Encoder):
    """A tiny JAX encoder (embedding + residual layers) with a BOS token, implementing both the
    numpy ``encode_batch`` contract and the :class:`DifferentiableEncoder` protocol."""

    name = "toy-diff"
    width = 8

    def __init__(self, depth: int = 3, seed: int = 0):
        import jax

        self.depth = depth
        self.module = _toy_module(self.width, depth, jax.random.PRNGKey(seed))

    def settings(self):
        return {"depth": self.depth}

    def weights_digest(self):
        import jax

        return str(round(float(sum(float(abs(x).sum()) for x in jax.tree.leaves(self.module))), 4))

    def tokenize(self, sequences, rows, length):
        tokens = np.zeros((rows, length + 1), np.int32)  # 0 = padding, 1 = BOS, 2.. residues
        for i, seq in enumerate(sequences):
            tokens[i, 0] = 1
            tokens[i, 1 : len(seq) + 1] = [2 + "ACDEFGHIKLMNPQRSTVWY".find(c) % 20 for c in seq]
        return {"tokens": tokens}

    @staticmethod
    def apply(module, batch, *, key=None):
        import jax

        tokens = batch["tokens"]
        return jax.vmap(module)(tokens), tokens >= 2

    def finetune(self, module, last):
        import equinox as eqx
        import jax

        flags = [last is None or i >= self.depth - last for i in range(self.depth)]
        filt = jax.tree.map(lambda _: False, module)
        filt = eqx.tree_at(lambda m: m.layers, filt,
                           tuple(jax.tree.map(lambda _, f=f: f, layer) for layer, f in zip(module.layers, flags)))
        if last is None:
            filt = eqx.tree_at(lambda m: m.embedding, filt, jax.tree.map(lambda _: True, module.embedding))
        return module, filt

    def encode_batch(self, sequences, rows, length):
        states, mask = self.apply(self.module, self.tokenize(sequences, rows, length))
        return TokenStates(np.asarray(states), np.asarray(mask))
