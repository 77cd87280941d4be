"""Alignment-free baselines: one-hot residues, composition and dipeptide composition."""

from ._encoder import CompositionEncoder as CompositionEncoder
from ._encoder import OneHotEncoder as OneHotEncoder
from ._encoder import availability as availability
from ._encoder import build as build
from ._encoder import residue_profile as residue_profile

__all__ = [
    "CompositionEncoder", "OneHotEncoder", "availability", "build", "residue_profile",
]  # fmt: skip
