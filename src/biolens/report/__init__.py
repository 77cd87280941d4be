"""Figures and self-contained HTML reports (no network needed to open them)."""

from ._figures import learning_curves as learning_curves
from ._figures import new_figure as new_figure
from ._figures import roc_pr_curves as roc_pr_curves
from ._html import NOT_APPLICABLE as NOT_APPLICABLE
from ._html import Report as Report
from ._html import figure_to_png as figure_to_png
from ._html import metrics_text as metrics_text
from ._html import seconds_text as seconds_text
from ._html import settings_rows as settings_rows
from ._html import value_text as value_text
from ._maps import PALETTE as PALETTE
from ._maps import interactive_map as interactive_map
from ._maps import project_2d as project_2d
from ._maps import scatter_map as scatter_map

__all__ = ["NOT_APPLICABLE", "PALETTE", "Report", "figure_to_png", "interactive_map", "learning_curves", "metrics_text",
           "new_figure", "project_2d", "roc_pr_curves", "scatter_map", "seconds_text", "settings_rows", "value_text"]
