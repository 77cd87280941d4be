"""Figures and self-contained HTML reports (no network needed to open them)."""

from .figures import learning_curves as learning_curves
from .figures import roc_pr_curves as roc_pr_curves
from .html import NOT_APPLICABLE as NOT_APPLICABLE
from .html import Report as Report
from .html import metrics_text as metrics_text
from .html import seconds_text as seconds_text
from .html import settings_rows as settings_rows
from .html import value_text as value_text
from .maps import interactive_map as interactive_map
from .maps import project_2d as project_2d
from .maps import scatter_map as scatter_map
