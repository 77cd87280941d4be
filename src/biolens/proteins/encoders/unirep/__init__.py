"""UniRep (Alley et al. 2019): the mLSTM and the ``unirep-*`` encoders."""

from ._encoder import UNIREP_CODES as UNIREP_CODES
from ._encoder import UniRepEncoder as UniRepEncoder
from ._encoder import availability as availability
from ._encoder import build as build
from ._encoder import published_weights as published_weights
from ._encoder import token_ids as token_ids
from ._mlstm import MLSTM as MLSTM
from ._mlstm import Carry as Carry
from ._mlstm import CellWeights as CellWeights
from ._mlstm import MLSTMCell as MLSTMCell
from ._mlstm import MLSTMWeights as MLSTMWeights
from ._mlstm import encode as encode
from ._mlstm import mlstm_flops_per_token as mlstm_flops_per_token
from ._mlstm import pack as pack
from ._mlstm import plan_lanes as plan_lanes
from ._mlstm import run_tile as run_tile

__all__ = [
    "MLSTM", "UNIREP_CODES", "Carry", "CellWeights", "MLSTMCell", "MLSTMWeights", "UniRepEncoder",
    "availability", "build", "encode", "mlstm_flops_per_token", "pack", "plan_lanes",
    "published_weights", "run_tile", "token_ids",
]  # fmt: skip
