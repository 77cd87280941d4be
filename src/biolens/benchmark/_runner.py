"""Run a benchmark: embed each encoder's proteins once (through the store), then train and test
every model on every task -- one *cell* each -- and write the leaderboard and the report.

``DIR`` holds::

    benchmark.json                    settings, versions, and every invocation (wall and CPU
                                      seconds, peak memory, cells computed/reused, cache hits)
    throughput.json                   residues per second of each encoder, when it last computed
    maps/                             the embedding maps' 2-D projections (see :mod:`.maps`)
    leaderboard.csv, leaderboard.json the leaderboard (see :mod:`.leaderboard`)
    report.html                       the report page (see :mod:`.page`)
    runs/<task>/<encoder>+<head>/     one run folder per cell (:func:`biolens.proteins.supervised.run_task`)

A finished cell is read back, not recomputed; a killed benchmark resumes: finished cells are
reused, the cell that was running resumes its training, embeddings come from the store.
"""

from __future__ import annotations

import json
import os
import re
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.config import config_to_dict
from ..core.errors import BiolensError, InputError, MissingExtraError, MissingWeightsError
from ..core.extras import require
from ..core.files import check_output, text_digest
from ..core.progress import progress_bar
from ..proteins.embed import embed_sequences, open_store
from ..proteins.encoders import Encoder, get_encoder
from ..proteins.supervised import RunConfig, SplitConfig, run_task
from ..proteins.tasks import TaskData
from ._maps import MapData, embedding_maps
from ._outputs import claim_folder, record_throughput, write_outputs
from ._results import BenchmarkResult, Cell, EmbeddingStats
from ._suite import RESIDUE_HEADS, BenchmarkConfig, load_task_data

__all__ = ["BenchmarkResult", "Cell", "EmbeddingStats", "run_benchmark"]


def _safe(text: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9._+-]", "_", text)
    return clean if clean == text else f"{clean[:40]}-{text_digest(text)[:8]}"


def _build_encoders(config: BenchmarkConfig, notes: list[str]) -> dict[str, Encoder]:
    """Build every encoder first: a missing weight file stops the run before any work, or (with
    ``skip_unavailable``) leaves the encoder out with a note."""
    built = {}
    for name in config.encoders:
        try:
            built[name] = get_encoder(name, **config.options_for(name))
        except (MissingWeightsError, MissingExtraError, ImportError) as exc:
            reason = str(exc) if isinstance(exc, BiolensError) else f"it cannot be imported here ({exc})"
            if not config.skip_unavailable:
                raise (exc if isinstance(exc, BiolensError) else MissingExtraError(f"encoder {name}: {reason}")) from None
            notes.append(f"encoder {name} left out: {reason}")
    for model in config.models:
        enc = built.get(model.encoder)
        if enc is not None and model.head in RESIDUE_HEADS and not enc.per_residue:
            raise InputError(f"the {model.head} head reads per-residue states, which {model.encoder} does not have "
                             f"(it is one vector per protein); give it a pooled head: --heads {model.encoder}=linear")
    if not built:
        raise InputError("no encoder of the benchmark can run here: " + "; ".join(notes))
    return built


def plan_cells(config: BenchmarkConfig, encoders: dict[str, Encoder], data: dict[str, TaskData], out: Path,
               notes: list[str]) -> list[Cell]:
    """Every (task, model) pair that can be trained, in task order; the others are noted."""
    cells = []
    for task in config.tasks:
        per_residue = data[task.name].task.spec.per_residue
        for model in config.models:
            if model.encoder not in encoders:
                continue
            head = model.head
            if per_residue:
                if not encoders[model.encoder].per_residue:
                    notes.append(f"{task.name} is per-residue; {model.name} has no per-residue states (no cell)")
                    continue
                head = "per_residue"
            elif head == "per_residue":
                notes.append(f"{model.name}: the per_residue head only fits per-residue tasks ({task.name}: no cell)")
                continue
            folder = out / "runs" / _safe(task.name) / _safe(f"{model.encoder}+{head}")
            cells.append(Cell(task=task, model=model, head=head, folder=folder))
    return cells


def _views(config: BenchmarkConfig, cells: list[Cell], encoder: Encoder) -> list[str]:
    views = {"residues" if c.head in RESIDUE_HEADS else config.pooling for c in cells if c.model.encoder == encoder.name}
    if config.map_task in {c.task.name for c in cells} and config.pooling in encoder.poolings:
        views.add(config.pooling)
    return sorted(views)


def _embed_all(encoder: Encoder, views: list[str], sequences: list[str], store: Any, progress: bool) -> list[EmbeddingStats]:
    out = []
    for view in views:
        _, st = embed_sequences(sequences, encoder, pooling=view if view != "residues" else "mean",
                                per_residue=view == "residues", store=store, progress=progress)
        out.append(EmbeddingStats(encoder=encoder.name, fingerprint=encoder.fingerprint(), view=view,
                                  sequences=st.unique, residues=st.residues, cache_hits=st.cache_hits,
                                  computed=st.computed, seconds=st.seconds, residues_per_second=st.residues_per_second))
    return out


def _run_config(config: BenchmarkConfig, cell: Cell) -> RunConfig:
    return RunConfig(pooling=config.pooling, head=config.head_config(cell.head), train=config.training(cell.head),
                     split=SplitConfig(method=cell.task.split, seed=config.seed), bootstrap=config.bootstrap,
                     class_weights=config.class_weights, size_curve=())


def _run_cell(cell: Cell, data: TaskData, encoder: Encoder, config: BenchmarkConfig, store: Any, progress: bool) -> None:
    start = time.perf_counter()
    try:
        cell.result = run_task(data, encoder, config.head_config(cell.head), out_dir=cell.folder,
                               config=_run_config(config, cell), cache=store, progress=progress)
    except BiolensError as exc:  # one cell's bad data or diverged training must not sink the others
        cell.error = str(exc)
    cell.seconds = time.perf_counter() - start


def cell_line(cell: Cell, index: int, total: int) -> str:
    """One line about a finished cell, for the log."""
    head = f"[{index}/{total}] {cell.task.name} / {cell.model.encoder} + {cell.head}"
    if cell.result is None:
        return f"{head}: failed: {cell.error}"
    r = cell.result
    m = r.metrics[r.primary]
    delta = r.deltas.get("composition")
    how = "reused" if r.reused else f"{cell.seconds:.0f} s"
    gain = f", {delta:+.3f} over composition" if delta is not None else ""
    return f"{head}: {r.primary} {m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]{gain} ({how})"


def _invocation(start: float, cpu: float, cells: list[Cell], embeddings: list[EmbeddingStats],
                maps: MapData | None) -> dict[str, Any]:
    return {
        "started": datetime.fromtimestamp(time.time() - (time.perf_counter() - start), UTC).isoformat(timespec="seconds"),
        "wall_s": round(time.perf_counter() - start, 2), "cpu_s": round(time.process_time() - cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
        "cells": len(cells), "cells_computed": sum(c.result is not None and not c.result.reused for c in cells),
        "cells_reused": sum(c.result is not None and c.result.reused for c in cells),
        "cells_failed": sum(c.result is None for c in cells),
        "embeddings_cache_hits": sum(e.cache_hits for e in embeddings),
        "embeddings_computed": sum(e.computed for e in embeddings),
        "maps_computed": maps.computed if maps else 0, "maps_reused": maps.reused if maps else 0,
    }


def _prepare_out(out: Path) -> Path:
    """Create the benchmark folder and check it can be written, before any work."""
    check_output(out, "benchmark folder", folder=True)
    return out


def _history(out: Path) -> list[dict[str, Any]]:
    path = out / "benchmark.json"
    if not path.exists():
        return []
    try:
        return list(json.loads(path.read_text()).get("history", []))
    except (json.JSONDecodeError, AttributeError):
        return []


def run_benchmark(config: BenchmarkConfig | None = None, out_dir: str | Path = "runs/benchmark", *, cache: Any = True,
                  progress: bool = False, log: Callable[[str], None] | None = None, backend: str = "local",
                  address: str | None = None, num_gpus: float = 0.0) -> BenchmarkResult:
    """Run every model of ``config`` on every task, then write the leaderboard and the report.

    Args:
        config: the suite (default: :class:`BenchmarkConfig`'s defaults).
        out_dir: the benchmark folder (see the module docstring); rerunning into it reuses its cells.
        cache: the embedding store (``True``: the default one; a path; an open store).
        progress: draw progress bars (one for the benchmark, one for the step running).
        log: called with one line per finished cell.
        backend: ``local``, or ``ray``: the cells run as Ray tasks (``address``; ``num_gpus`` each),
            see :mod:`biolens.distributed`.
    """
    config = config or BenchmarkConfig()
    if backend not in ("local", "ray"):
        raise InputError(f"unknown backend {backend!r}; use 'local' or 'ray'")
    start, cpu = time.perf_counter(), time.process_time()
    out = _prepare_out(Path(out_dir))
    if config.map_method == "umap":  # fail before the work, not at the maps
        require("umap", extra="umap", purpose="UMAP maps (--map umap)")
    claim_folder(out, config_to_dict(config))
    notes: list[str] = []
    encoders = _build_encoders(config, notes)
    data = {t.name: load_task_data(t) for t in config.tasks}
    cells = plan_cells(config, encoders, data, out, notes)
    sequences = list(dict.fromkeys(s for d in data.values() for s in d.sequences))
    store = open_store(cache)
    embeddings: list[EmbeddingStats] = []
    try:
        with progress_bar(len(encoders) + len(cells), "benchmark", enabled=progress) as advance:
            for enc in encoders.values():
                advance(0, now=f"embedding with {enc.name}")
                embeddings += _embed_all(enc, _views(config, cells, enc), sequences, store, progress)
                record_throughput(out, embeddings)
                advance(1)
            def finished(cell: Cell) -> None:
                if log is not None:
                    log(cell_line(cell, sum(c.result is not None or c.error is not None for c in cells), len(cells)))
                advance(1)

            if backend == "ray":
                from ..distributed import run_cells_ray

                run_cells_ray(cells, data, config, store or cache, run_cell=_run_cell, finished=finished,
                              address=address, num_gpus=num_gpus)
            else:
                for cell in cells:
                    advance(0, now=f"{cell.task.name} / {cell.model.encoder} + {cell.head}")
                    _run_cell(cell, data[cell.task.name], encoders[cell.model.encoder], config, store, progress)
                    finished(cell)
        maps = embedding_maps(config, data, encoders, store, out)
    finally:
        if store is not None and store is not cache:
            store.close()
    result = BenchmarkResult(config=config, out_dir=out, cells=cells, data=data, embeddings=embeddings, notes=notes,
                             maps=maps, fingerprints={n: e.fingerprint() for n, e in encoders.items()},
                             invocation=_invocation(start, cpu, cells, embeddings, maps), history=_history(out))
    write_outputs(result, config_to_dict(config))
    return result
