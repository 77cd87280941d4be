"""ProtT5 (Rostlab's T5 protein encoder): the Equinox port, its Hugging Face files, the encoder."""

from ._encoder import HUB_REPOS as HUB_REPOS
from ._encoder import LICENSE as LICENSE
from ._encoder import ProtT5Encoder as ProtT5Encoder
from ._encoder import availability as availability
from ._encoder import build as build
from ._encoder import find_weights as find_weights
from ._io import EOS as EOS
from ._io import PAD as PAD
from ._io import UNK as UNK
from ._io import Vocabulary as Vocabulary
from ._io import config_from_hf as config_from_hf
from ._io import load_prott5 as load_prott5
from ._io import read_spiece_pieces as read_spiece_pieces
from ._io import read_vocabulary as read_vocabulary
from ._io import tokenize as tokenize
from ._io import weights_digest as weights_digest
from ._model import ProtT5 as ProtT5
from ._model import ProtT5Config as ProtT5Config
from ._model import distance_buckets as distance_buckets

__all__ = [
    "EOS", "HUB_REPOS", "LICENSE", "PAD", "UNK", "ProtT5", "ProtT5Config", "ProtT5Encoder", "Vocabulary",
    "availability", "build", "config_from_hf", "distance_buckets", "find_weights", "load_prott5",
    "read_spiece_pieces", "read_vocabulary", "tokenize", "weights_digest",
]  # fmt: skip
