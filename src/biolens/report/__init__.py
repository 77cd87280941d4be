"""Figures and self-contained HTML reports (no network needed to open them)."""

from .figures import learning_curves as learning_curves
from .html import Report as Report
from .maps import interactive_map as interactive_map
from .maps import project_2d as project_2d
from .maps import scatter_map as scatter_map
