"""Protein encoders: one contract (:class:`Encoder`), many families (one subpackage each),
looked up by name (:func:`get_encoder`); the one pooling implementation."""

from ._base import DifferentiableEncoder as DifferentiableEncoder
from ._base import Encoder as Encoder
from ._base import TokenStates as TokenStates
from ._finetune import LoRAConfig as LoRAConfig
from ._pooling import POOLINGS as POOLINGS
from ._pooling import check_finetune_pooling as check_finetune_pooling
from ._pooling import check_pooling as check_pooling
from ._pooling import pool as pool
from ._pooling import pool_residues as pool_residues
from ._pooling import pool_states as pool_states
from ._pooling import pooled_width as pooled_width
from ._pooling import residue_states as residue_states
from ._registry import ENCODERS as ENCODERS
from ._registry import HF_IDS as HF_IDS
from ._registry import EncoderEntry as EncoderEntry
from ._registry import availability as availability
from ._registry import canonical_name as canonical_name
from ._registry import get_encoder as get_encoder
from ._registry import hf_aliases as hf_aliases
from ._registry import list_encoders as list_encoders
from .onehot import CompositionEncoder as CompositionEncoder
from .onehot import OneHotEncoder as OneHotEncoder

__all__ = [
    "ENCODERS",
    "HF_IDS",
    "POOLINGS",
    "CompositionEncoder",
    "DifferentiableEncoder",
    "Encoder",
    "EncoderEntry",
    "LoRAConfig",
    "OneHotEncoder",
    "TokenStates",
    "availability",
    "canonical_name",
    "check_finetune_pooling",
    "check_pooling",
    "get_encoder",
    "hf_aliases",
    "list_encoders",
    "pool",
    "pool_residues",
    "pool_states",
    "pooled_width",
    "residue_states",
]  # fmt: skip
