"""Foldseek's 3Di alphabet on our chains, through ``mini3di`` (a NumPy port of Foldseek's
encoder, BSD-3-Clause), as the reference point for learned structure tokens.

3Di describes each residue by its backbone and its nearest neighbour in space in 20 states
(van Kempen et al., Nature Biotechnology 2024). It has no decoder; its statistics here are the
same usage and perplexity we report for our codebooks, and the ``3di`` model kind trains our
decoder on 3Di states to measure how much backbone they carry.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from jaxtyping import Int

from ..core.extras import require
from ._read import Backbone

__all__ = ["INVALID", "threedi_states", "threedi_string"]

INVALID = 20
"""Our index for residues 3Di leaves undefined (chain ends, missing atoms)."""


@lru_cache(maxsize=1)
def _encoder() -> Any:
    mini3di = require("mini3di", extra="structure", purpose="Foldseek 3Di states")
    return mini3di.Encoder()


def threedi_states(backbone: Backbone) -> Int[np.ndarray, " L"]:
    """3Di states 0..19 per residue (``INVALID`` where undefined), computed on the chain as
    Foldseek does: consecutive residues, real Cβ where present, ideal Cβ otherwise."""
    x = backbone.coords.astype(np.float32)
    cb = np.where(backbone.mask[:, 4:5], x[:, 4], np.nan).astype(np.float32)
    states = _encoder().encode_atoms(ca=x[:, 1], cb=cb, n=x[:, 0], c=x[:, 2])
    return np.where(np.ma.getmaskarray(states), INVALID, np.ma.getdata(states)).astype(np.int32)


def threedi_string(states: Int[np.ndarray, " L"]) -> str:
    """Foldseek's letters (invalid residues as ``D``, as Foldseek writes them)."""
    letters = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
    return "".join(letters[np.where(states == INVALID, 2, states)])
