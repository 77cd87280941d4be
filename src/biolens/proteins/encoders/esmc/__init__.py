"""ESM C (EvolutionaryScale 2024) in Equinox: the model, .pth / safetensors loading, and the
``esmc-*`` / ``esmc:DIR`` encoders."""

from ._encoder import HUB_REPOS as HUB_REPOS
from ._encoder import LICENSES as LICENSES
from ._encoder import ESMCEncoder as ESMCEncoder
from ._encoder import availability as availability
from ._encoder import build as build
from ._encoder import find_weights as find_weights
from ._io import PTH_FILES as PTH_FILES
from ._io import find_weight_file as find_weight_file
from ._io import load_esmc as load_esmc
from ._io import read_state_dict as read_state_dict
from ._io import state_dict_of as state_dict_of
from ._io import weights_digest as weights_digest
from ._model import ESMC as ESMC
from ._model import ESMCBlock as ESMCBlock
from ._model import ESMCConfig as ESMCConfig
from ._model import NormNoBias as NormNoBias

__all__ = [
    "ESMC", "HUB_REPOS", "LICENSES", "PTH_FILES", "ESMCBlock", "ESMCConfig", "ESMCEncoder",
    "NormNoBias", "availability", "build", "find_weight_file", "find_weights", "load_esmc",
    "read_state_dict", "state_dict_of", "weights_digest",
]  # fmt: skip
