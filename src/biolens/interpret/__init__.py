"""Model-agnostic interpretation of sequence models: in-silico saturation mutagenesis, input
gradients, known-motif checks and their figures. Everything takes a ``predict`` callable
``(B, L, 4) -> (B,)`` or ``(B, T)`` and numpy arrays; nothing here knows about a model class."""

from ._gradients import gradient_importance as gradient_importance
from ._gradients import input_gradients as input_gradients
from ._ism import ism_importance as ism_importance
from ._ism import saturation_mutagenesis as saturation_mutagenesis
from ._motifs import CTCF_MOTIF as CTCF_MOTIF
from ._motifs import KNOWN_MOTIFS as KNOWN_MOTIFS
from ._motifs import Motif as Motif
from ._motifs import MotifCheck as MotifCheck
from ._motifs import MotifHit as MotifHit
from ._motifs import best_hit as best_hit
from ._motifs import important_window as important_window
from ._motifs import motif_check as motif_check
from ._motifs import motif_from_consensus as motif_from_consensus
from ._motifs import read_jaspar as read_jaspar
from ._motifs import resolve_motif as resolve_motif
from ._motifs import scan_scores as scan_scores
from ._motifs import span_text as span_text
from ._outputs import write_explanations as write_explanations
from ._plots import attribution_figure as attribution_figure
from ._plots import importance_track as importance_track
from ._plots import mutation_heatmap as mutation_heatmap
from ._plots import sequence_logo as sequence_logo

__all__ = ["CTCF_MOTIF", "KNOWN_MOTIFS", "Motif", "MotifCheck", "MotifHit", "attribution_figure", "best_hit",
           "gradient_importance", "importance_track", "important_window", "input_gradients", "ism_importance",
           "motif_check", "motif_from_consensus", "mutation_heatmap", "read_jaspar", "resolve_motif",
           "saturation_mutagenesis", "scan_scores", "sequence_logo", "span_text", "write_explanations"]
