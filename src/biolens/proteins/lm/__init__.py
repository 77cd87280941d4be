"""Language-model tools: residue scoring, variant effects (DMS), token/protein maps and masked-LM
pretraining."""

from ._maps import PROPERTY_GROUPS as PROPERTY_GROUPS
from ._maps import MapResult as MapResult
from ._maps import probability_figure as probability_figure
from ._maps import property_group as property_group
from ._maps import protein_map as protein_map
from ._maps import token_embeddings as token_embeddings
from ._maps import token_map as token_map
from ._mutations import METHODS as METHODS
from ._mutations import Mutation as Mutation
from ._mutations import VariantTable as VariantTable
from ._mutations import apply_mutations as apply_mutations
from ._mutations import check_method as check_method
from ._mutations import dms_figure as dms_figure
from ._mutations import dms_scores as dms_scores
from ._mutations import mutations_from_sequence as mutations_from_sequence
from ._mutations import parse_mutations as parse_mutations
from ._mutations import read_variants as read_variants
from ._mutations import score_variants as score_variants
from ._pretrain import PRESETS as PRESETS
from ._pretrain import PretrainConfig as PretrainConfig
from ._pretrain import PretrainResult as PretrainResult
from ._pretrain import evaluate_mlm as evaluate_mlm
from ._pretrain import mask_tokens as mask_tokens
from ._pretrain import masked_lm_loss as masked_lm_loss
from ._pretrain import model_config as model_config
from ._pretrain import pretrain as pretrain
from ._pretrain import split_corpus as split_corpus
from ._scoring import AMINO_ACIDS as AMINO_ACIDS
from ._scoring import AutoregressiveLM as AutoregressiveLM
from ._scoring import MaskedLM as MaskedLM
from ._scoring import language_model as language_model
from ._scoring import residue_log_probs as residue_log_probs

__all__ = [
    "AMINO_ACIDS", "METHODS", "PRESETS", "PROPERTY_GROUPS", "AutoregressiveLM", "MapResult", "MaskedLM",
    "Mutation", "PretrainConfig", "PretrainResult", "VariantTable", "apply_mutations", "check_method",
    "dms_figure", "dms_scores", "evaluate_mlm", "language_model", "mask_tokens", "masked_lm_loss",
    "model_config", "mutations_from_sequence", "parse_mutations", "pretrain", "probability_figure",
    "property_group", "protein_map", "read_variants", "residue_log_probs", "score_variants",
    "split_corpus", "token_embeddings", "token_map",
]  # fmt: skip
