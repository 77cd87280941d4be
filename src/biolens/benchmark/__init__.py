"""Benchmark encoders: every model (encoder + head) on every task, beside the task's baselines,
ranked by the mean delta over the composition baseline; a leaderboard and a report page.

    >>> from biolens.benchmark import BenchmarkConfig, run_benchmark
    >>> result = run_benchmark(BenchmarkConfig(), "runs/benchmark")
    >>> result.leaderboard.models[0].name
"""

from ._leaderboard import Leaderboard as Leaderboard
from ._leaderboard import build_leaderboard as build_leaderboard
from ._leaderboard import mean_delta as mean_delta
from ._leaderboard import rich_table as rich_table
from ._leaderboard import verdict as verdict
from ._public import PUBLIC_TASKS as PUBLIC_TASKS
from ._public import public_tasks as public_tasks
from ._public import reported_rows as reported_rows
from ._runner import BenchmarkResult as BenchmarkResult
from ._runner import run_benchmark as run_benchmark
from ._suite import DEFAULT_ENCODERS as DEFAULT_ENCODERS
from ._suite import DEFAULT_HEADS as DEFAULT_HEADS
from ._suite import DEFAULT_SUITE as DEFAULT_SUITE
from ._suite import DEFAULT_TASKS as DEFAULT_TASKS
from ._suite import STANDARD_TASKS as STANDARD_TASKS
from ._suite import SUITE_ENCODERS as SUITE_ENCODERS
from ._suite import SUITE_TASKS as SUITE_TASKS
from ._suite import SUITES as SUITES
from ._suite import TASKS as TASKS
from ._suite import BenchmarkConfig as BenchmarkConfig
from ._suite import ModelSpec as ModelSpec
from ._suite import Reported as Reported
from ._suite import TaskSpec as TaskSpec
from ._suite import parse_heads as parse_heads
from ._suite import pick_tasks as pick_tasks

__all__ = [
           "DEFAULT_ENCODERS",
           "DEFAULT_HEADS",
           "DEFAULT_SUITE",
           "DEFAULT_TASKS",
           "PUBLIC_TASKS",
           "STANDARD_TASKS",
           "SUITES",
           "SUITE_ENCODERS",
           "TASKS",
           "BenchmarkConfig",
           "BenchmarkResult",
           "Leaderboard",
           "ModelSpec",
           "Reported",
           "TaskSpec",
           "build_leaderboard",
           "mean_delta",
           "parse_heads",
           "pick_tasks",
           "public_tasks",
           "reported_rows",
           "rich_table",
           "run_benchmark",
           "verdict",
]
