"""ESM2 (Lin et al. 2023) in Equinox: the model, its layers, Hugging Face checkpoints and tokens, and
the ``esm2-*`` / ``esm2:DIR`` encoders."""

from ._encoder import HUB_REPOS as HUB_REPOS
from ._encoder import ESM2Encoder as ESM2Encoder
from ._encoder import availability as availability
from ._encoder import build as build
from ._encoder import find_weights as find_weights
from ._io import CLS as CLS
from ._io import EOS as EOS
from ._io import ESM_TOKENS as ESM_TOKENS
from ._io import MASK as MASK
from ._io import PAD as PAD
from ._io import UNK as UNK
from ._io import load_esm2 as load_esm2
from ._io import read_config as read_config
from ._io import save_esm2 as save_esm2
from ._io import save_tokenizer as save_tokenizer
from ._io import tokenize as tokenize
from ._io import weight_files as weight_files
from ._io import weights_digest as weights_digest
from ._layers import Dense as Dense
from ._layers import LayerNorm as LayerNorm
from ._layers import SelfAttention as SelfAttention
from ._layers import TransformerLayer as TransformerLayer
from ._layers import apply_rotary as apply_rotary
from ._layers import head_attention as head_attention
from ._layers import rotary_tables as rotary_tables
from ._model import ESM2 as ESM2
from ._model import MASK_RATIO_TRAIN as MASK_RATIO_TRAIN
from ._model import ESM2Config as ESM2Config
from ._model import ESM2Output as ESM2Output
from ._model import batch_hidden as batch_hidden
from ._model import rotary_inv_freq as rotary_inv_freq

__all__ = [
    "CLS", "EOS", "ESM2", "ESM_TOKENS", "HUB_REPOS", "MASK", "MASK_RATIO_TRAIN", "PAD", "UNK", "Dense",
    "ESM2Config", "ESM2Encoder", "ESM2Output", "LayerNorm", "SelfAttention", "TransformerLayer",
    "apply_rotary", "availability", "batch_hidden", "build", "find_weights", "head_attention",
    "load_esm2", "read_config", "rotary_inv_freq", "rotary_tables", "save_esm2", "save_tokenizer",
    "tokenize", "weight_files", "weights_digest",
]  # fmt: skip
