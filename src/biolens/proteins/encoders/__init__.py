"""Protein encoders: one contract (:class:`Encoder`), many families, looked up by name."""

from .base import DifferentiableEncoder as DifferentiableEncoder
from .base import Encoder as Encoder
from .base import TokenStates as TokenStates
from .onehot import CompositionEncoder as CompositionEncoder
from .onehot import OneHotEncoder as OneHotEncoder
from .pooling import POOLINGS as POOLINGS
from .pooling import pool as pool
from .registry import ENCODERS as ENCODERS
from .registry import get_encoder as get_encoder
from .registry import list_encoders as list_encoders
