"""Benchmark encoders: every model (encoder + head) on every task, beside the task's baselines,
ranked by the mean delta over the composition baseline; a leaderboard and a report page.

    >>> from biolens.benchmark import BenchmarkConfig, run_benchmark
    >>> result = run_benchmark(BenchmarkConfig(), "runs/benchmark")
    >>> result.leaderboard.models[0].name
"""

from .leaderboard import Leaderboard as Leaderboard
from .leaderboard import build_leaderboard as build_leaderboard
from .leaderboard import mean_delta as mean_delta
from .leaderboard import rich_table as rich_table
from .runner import BenchmarkResult as BenchmarkResult
from .runner import run_benchmark as run_benchmark
from .suite import DEFAULT_ENCODERS as DEFAULT_ENCODERS
from .suite import DEFAULT_TASKS as DEFAULT_TASKS
from .suite import TASKS as TASKS
from .suite import BenchmarkConfig as BenchmarkConfig
from .suite import ModelSpec as ModelSpec
from .suite import TaskSpec as TaskSpec
from .suite import parse_heads as parse_heads
from .suite import pick_tasks as pick_tasks

__all__ = ["DEFAULT_ENCODERS", "DEFAULT_TASKS", "TASKS", "BenchmarkConfig", "BenchmarkResult", "Leaderboard",
           "ModelSpec", "TaskSpec", "build_leaderboard", "mean_delta", "parse_heads", "pick_tasks", "rich_table",
           "run_benchmark"]
