"""Structure tokens: read protein backbones (PDB/mmCIF), featurise their local geometry, and
learn a discrete vocabulary (VQ-VAE) or continuous latents (Gaussian VAE) that decode back to
backbone coordinates; measured by superposed RMSD and lDDT, next to Foldseek's 3Di.

Reading needs the ``structure`` extra (gemmi; mini3di for 3Di): ``pip install 'biolens[structure]'``.
"""

from ._dataset import Chain as Chain
from ._dataset import folder_identity as folder_identity
from ._dataset import load_folder as load_folder
from ._features import feature_width as feature_width
from ._features import residue_features as residue_features
from ._geometry import kabsch as kabsch
from ._geometry import lddt as lddt
from ._geometry import rmsd as rmsd
from ._geometry import superpose_segments as superpose_segments
from ._geometry import superposed_rmsd as superposed_rmsd
from ._geometry import tm_score as tm_score
from ._models import VQVAE as VQVAE
from ._models import GaussianVAE as GaussianVAE
from ._models import ModelConfig as ModelConfig
from ._models import build_model as build_model
from ._pdbwrite import backbone_mmcif as backbone_mmcif
from ._pdbwrite import backbone_pdb as backbone_pdb
from ._pipeline import StructureResult as StructureResult
from ._pipeline import train_structure_model as train_structure_model
from ._quantize import codebook_stats as codebook_stats
from ._read import Backbone as Backbone
from ._read import ReadReport as ReadReport
from ._read import read_backbones as read_backbones
from ._report import codebook_warning as codebook_warning
from ._report import held_out_summary as held_out_summary
from ._report import write_run_report as write_run_report
from ._run import decode_against as decode_against
from ._run import decode_text as decode_text
from ._run import evaluate_folder as evaluate_folder
from ._run import tokenize_file as tokenize_file
from ._tokenizer import decode_tokens as decode_tokens
from ._tokenizer import format_tokens as format_tokens
from ._tokenizer import parse_tokens as parse_tokens
from ._tokenizer import tokenize as tokenize
from ._training import PRESETS as PRESETS
from ._training import StructureConfig as StructureConfig
from ._training import load_run as load_run

__all__ = ["PRESETS", "VQVAE", "Backbone", "Chain", "GaussianVAE", "ModelConfig", "ReadReport", "StructureConfig",
           "StructureResult", "backbone_mmcif", "backbone_pdb", "build_model", "codebook_stats", "codebook_warning",
           "decode_against", "decode_text", "decode_tokens", "evaluate_folder", "feature_width", "folder_identity", "format_tokens",
           "held_out_summary", "kabsch", "lddt", "load_folder", "load_run", "parse_tokens", "read_backbones",
           "residue_features", "rmsd", "superpose_segments", "superposed_rmsd", "tm_score", "tokenize", "tokenize_file", "train_structure_model",
           "write_run_report"]
