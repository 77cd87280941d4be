"""Structure tokens: read protein backbones (PDB/mmCIF), featurise their local geometry, and
learn a discrete vocabulary (VQ-VAE) or continuous latents (Gaussian VAE) that decode back to
backbone coordinates; measured by superposed RMSD and lDDT, next to Foldseek's 3Di.

Reading needs the ``structure`` extra (gemmi; mini3di for 3Di): ``pip install 'biolens[structure]'``.
"""

from .dataset import Chain as Chain
from .dataset import load_folder as load_folder
from .features import feature_width as feature_width
from .features import residue_features as residue_features
from .geometry import kabsch as kabsch
from .geometry import lddt as lddt
from .geometry import rmsd as rmsd
from .geometry import superposed_rmsd as superposed_rmsd
from .models import VQVAE as VQVAE
from .models import GaussianVAE as GaussianVAE
from .models import ModelConfig as ModelConfig
from .models import build_model as build_model
from .pipeline import StructureResult as StructureResult
from .pipeline import train_structure_model as train_structure_model
from .quantize import codebook_stats as codebook_stats
from .read import Backbone as Backbone
from .read import ReadReport as ReadReport
from .read import read_backbones as read_backbones
from .run import decode_text as decode_text
from .run import evaluate_folder as evaluate_folder
from .run import tokenize_file as tokenize_file
from .tokenizer import decode_tokens as decode_tokens
from .tokenizer import format_tokens as format_tokens
from .tokenizer import parse_tokens as parse_tokens
from .tokenizer import tokenize as tokenize
from .training import PRESETS as PRESETS
from .training import StructureConfig as StructureConfig
from .training import load_run as load_run
