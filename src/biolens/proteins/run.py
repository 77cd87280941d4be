"""Deprecated alias of :mod:`biolens.proteins.supervised` (the import path of README examples before
the proteins/ layout, issue 13): ``from biolens.proteins.run import RunConfig, run_task`` keeps working
with a :class:`DeprecationWarning`. New code imports ``from biolens.proteins import RunConfig, run_task``."""

import warnings

from .supervised import RunConfig as RunConfig
from .supervised import TaskResult as TaskResult
from .supervised import evaluate_run as evaluate_run
from .supervised import load_result as load_result
from .supervised import load_run_config as load_run_config
from .supervised import run_task as run_task

__all__ = ["RunConfig", "TaskResult", "evaluate_run", "load_result", "load_run_config", "run_task"]

warnings.warn("biolens.proteins.run is deprecated: import from biolens.proteins (or biolens.proteins.supervised)",
              DeprecationWarning, stacklevel=2)
