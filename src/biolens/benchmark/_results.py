"""What a benchmark run measured: its cells, embedding passes and the whole result.

A leaf module: the runner fills these in, the outputs and the page read them; neither imports the runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..proteins.supervised import TaskResult
from ..proteins.tasks import TaskData
from ._maps import MapData
from ._suite import BenchmarkConfig, ModelSpec, TaskSpec

__all__ = ["BenchmarkResult", "Cell", "EmbeddingStats"]


@dataclass
class Cell:
    """One model on one task; ``head`` is the head trained (``per_residue`` on per-residue tasks)."""

    task: TaskSpec
    model: ModelSpec
    head: str
    folder: Path
    result: TaskResult | None = None
    error: str | None = None
    seconds: float = 0.0  # this invocation's


@dataclass
class EmbeddingStats:
    """One encoder's embedding pass over every protein of the benchmark (one view)."""

    encoder: str
    fingerprint: str
    view: str  # a pooling (``mean``) or ``residues``
    sequences: int
    residues: int
    cache_hits: int
    computed: int
    seconds: float
    residues_per_second: float  # over the computed residues; 0 when everything came from the store


@dataclass
class BenchmarkResult:
    """Everything a benchmark run measured (the leaderboard and the report are made from it)."""

    config: BenchmarkConfig
    out_dir: Path
    cells: list[Cell]
    data: dict[str, TaskData]
    embeddings: list[EmbeddingStats]
    notes: list[str]
    maps: MapData | None
    fingerprints: dict[str, str]
    invocation: dict[str, Any]
    history: list[dict[str, Any]]
    leaderboard: Any = None  # set when the outputs are written
