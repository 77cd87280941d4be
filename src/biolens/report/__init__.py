"""Figures and self-contained HTML reports (no network needed to open them)."""

from .figures import learning_curves as learning_curves
from .html import Report as Report
