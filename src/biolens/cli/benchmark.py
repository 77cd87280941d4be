"""``biolens benchmark``: every encoder x task, the leaderboard printed and written, the report page."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from ..core.errors import InputError
from ..core.progress import print_above
from ._common import console, err_console, quiet_option, show_progress

PathType = click.Path(path_type=Path)


def _items(text: str | None) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()] if text else []


def _weights(items: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    out = []
    for item in items:
        encoder, sep, path = item.partition("=")
        if not sep or not encoder or not path:
            raise click.BadParameter(f"expected ENCODER=PATH, got {item!r}", param_hint="--weights")
        out.append((encoder, "weights", str(Path(path).expanduser())))
    return tuple(out)


def _config(encoders, tasks, heads, weights, bootstrap, seed, map_method, pooled_epochs, residue_epochs, suite, data):
    from ..benchmark import (
        DEFAULT_ENCODERS,
        SUITE_ENCODERS,
        SUITE_TASKS,
        BenchmarkConfig,
        parse_heads,
        pick_tasks,
        public_tasks,
    )

    names = _items(encoders) or list(SUITE_ENCODERS.get(suite, DEFAULT_ENCODERS))
    base = BenchmarkConfig()
    if suite == "public":
        if data is None:
            raise InputError("--suite public reads the published files: give --data DIR (see --list for its layout)")
        chosen = public_tasks(data, _items(tasks) or None)
    else:
        if data is not None:
            raise InputError(f"--data DIR is for --suite public (the {suite} suite runs on the shipped data)")
        chosen = pick_tasks(_items(tasks) or list(SUITE_TASKS[suite]), suite)
    return BenchmarkConfig(
        tasks=chosen, models=parse_heads(names, _items(heads)),
        encoder_options=_weights(weights), skip_unavailable=not encoders, bootstrap=bootstrap, seed=seed,
        map_method=map_method,
        pooled_training=replace(base.pooled_training, max_epochs=pooled_epochs or base.pooled_training.max_epochs),
        residue_training=replace(base.residue_training, max_epochs=residue_epochs or base.residue_training.max_epochs),
    )


def _listing() -> None:
    from rich.table import Table

    from ..benchmark import (
        DEFAULT_ENCODERS,
        DEFAULT_HEADS,
        DEFAULT_SUITE,
        PUBLIC_TASKS,
        SUITE_TASKS,
        SUITES,
    )
    from ..proteins.encoders import list_encoders
    from ..proteins.supervised import HEADS

    tables, shown = [], {}
    for suite, specs in SUITES.items():
        if id(specs) in shown:  # the full suite runs the standard suite's tasks
            tables.append(f"tasks of --suite {suite}: those of --suite {shown[id(specs)]}")
            continue
        shown[id(specs)] = suite
        table = Table(title=f"tasks (--tasks) of --suite {suite}" + (" (the default)" if suite == DEFAULT_SUITE else ""))
        for col in ("task", "data", "default", "split"):
            table.add_column(col)
        for t in specs.values():
            table.add_row(*map(escape, (t.name, t.data + "".join(f" {k}={v}" for k, v in t.options),
                                        "yes" if t.name in SUITE_TASKS[suite] else "", t.split_note or t.split)))
        tables.append(table)
    public = Table(title="tasks of --suite public --data DIR: the published files, with numbers reported on the same split")
    for col in ("task", "DIR/...", "source", "reported (not run here)"):
        public.add_column(col)
    for t in PUBLIC_TASKS.values():
        reported = "; ".join(f"{r.model} {r.metric} {r.value:.3f}" for r in t.reported) or "none on this split"
        public.add_row(*map(escape, (t.name, t.data, t.source, reported)))
    encoders = Table(title="encoders (--encoders)")
    for col in ("encoder", "default", "default head", "available here"):
        encoders.add_column(col)
    for entry, ok, how in list_encoders():
        default = "yes" if entry.name in DEFAULT_ENCODERS else \
            ", ".join(e for e in DEFAULT_ENCODERS if e.startswith(f"{entry.name}:"))  # mlm:small
        encoders.add_row(*map(escape, (entry.name, default,
                                       DEFAULT_HEADS.get(entry.name, "linear"), ("yes: " if ok else "no: ") + how)))
    console.print(*tables, public, encoders)
    console.print(f"heads (--heads HEAD or ENCODER=HEAD): {', '.join(HEADS)}")


@click.command("benchmark")
@click.option("--encoders", "-e", default=None,
              help="Comma-separated encoder names. Default: composition, unirep-64, mlm:small (--suite full: and "
                   "unirep-1900; --suite quick: composition, onehot, unirep-64, unirep-256, mlm:small; those that "
                   "cannot run here are left out, with a note).")
@click.option("--tasks", "-t", default=None, help="Comma-separated tasks (see --list). Default: solubility, "
                                                   "localization, membrane, enzyme, gb1, secondary-structure on the "
                                                   "shipped data (--suite quick: the first five; --suite public: "
                                                   "every task whose files are in --data).")
@click.option("--suite", type=click.Choice(["standard", "full", "quick", "public"]), default="standard",
              show_default=True,
              help="standard: shipped data with ~1,000 test proteins per task where the source allows; full: the "
                   "standard suite with UniRep-1900 added to its encoders (about 1.5 extra hours on one CPU core: "
                   "3.9 million residues at ~830/s); quick: the small samples (tests, demos); public: the published "
                   "files in --data DIR (see --list), with published numbers on the same split beside ours.")
@click.option("--data", "data_dir", type=PathType, default=None, help="Folder of the published files (--suite public).")
@click.option("--heads", default=None, help="Comma-separated HEAD (every encoder) or ENCODER=HEAD items; several give "
                                            "an encoder several rows. Default: cnn on onehot, linear on the others.")
@click.option("--out", "-o", type=PathType, default=Path("runs/benchmark"), show_default=True,
              help="Benchmark folder: report.html, leaderboard.csv/json, one run folder per cell (reused when rerun).")
@click.option("--weights", multiple=True, help="ENCODER=PATH: local weights for an encoder (repeatable), "
                                                "e.g. esm2-8m=~/models/esm2_t6_8M_UR50D.")
@click.option("--bootstrap", type=click.IntRange(min=10), default=200, show_default=True,
              help="Bootstrap resamples for every interval.")
@click.option("--pooled-epochs", type=click.IntRange(min=1), default=None, help="Epochs of linear/mlp heads [100].")
@click.option("--residue-epochs", type=click.IntRange(min=1), default=None, help="Epochs of cnn/attention heads [30].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--map", "map_method", type=click.Choice(["tsne", "umap", "pca"]), default="tsne", show_default=True,
              help="Projection of the embedding maps.")
@click.option("--cache", type=PathType, default=None, help="Embedding store (default: $BIOLENS_CACHE or ~/.cache/biolens).")
@click.option("--list", "list_only", is_flag=True, help="Show the tasks, encoders and heads, then exit.")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="ray: every cell is a Ray task (docs/scale.md).")
@click.option("--address", default=None, help="Ray cluster: auto or HOST:PORT (default: start one here).")
@click.option("--gpus-per-cell", type=float, default=0.0, show_default=True, help="Ray backend: GPUs each cell asks for.")
@quiet_option
def benchmark_command(encoders, tasks, suite, data_dir, heads, out, weights, bootstrap, pooled_epochs, residue_epochs, seed,
                      map_method, cache, list_only, backend, address, gpus_per_cell, quiet) -> int:
    """Run every encoder on every task beside the task's baselines; print the leaderboard and write
    --out/report.html and --out/leaderboard.csv. A rerun reuses finished cells and cached embeddings."""
    from ..benchmark import reported_rows, rich_table, run_benchmark, verdict

    if list_only:
        _listing()
        return 0
    start, cpu = time.perf_counter(), time.process_time()
    config = _config(encoders, tasks, heads, weights, bootstrap, seed, map_method, pooled_epochs, residue_epochs, suite,
                     data_dir)
    if not quiet:
        err_console.print(f"benchmark: {len(config.models)} models x {len(config.tasks)} tasks -> {out}")
    result = run_benchmark(config, out, cache=cache or True, progress=show_progress(quiet),
                           log=None if quiet else lambda line: print_above(line, err_console),
                           backend=backend, address=address, num_gpus=gpus_per_cell)
    inv = result.invocation
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False)
    # the whole table even when printed into a file or a pipe (a terminal wraps it to its width)
    wide = console if console.is_terminal else Console(file=console.file, width=200)
    board = result.leaderboard
    wide.print(rich_table(board, title=f"leaderboard ({out})"))
    for row in board.models:
        wide.print(f"{row.rank}. {row.name}: {verdict(row, board)}", markup=False, highlight=False)
    reported = reported_rows(result.config.tasks, result.cells)
    if reported:
        from rich.table import Table

        table = Table(title="published numbers on the same split (reported, not run here) beside the best here")
        for col in reported[0]:
            table.add_column(col)
        for row in reported:
            table.add_row(*map(escape, row.values()))
        wide.print(table)
    if not quiet:
        err_console.print(f"[bold]wrote[/bold] {out / 'report.html'} and {out / 'leaderboard.csv'} -- this run: "
                          f"{time.perf_counter() - start:.0f} s wall, {time.process_time() - cpu:.0f} s CPU, peak "
                          f"{inv['peak_rss_mb']:.0f} MB; cells computed {inv['cells_computed']}, reused "
                          f"{inv['cells_reused']}; embeddings: {inv['embeddings_cache_hits']} cache hits, "
                          f"{inv['embeddings_computed']} computed")
    return 1 if inv["cells_failed"] else 0


def register(group: click.Group) -> None:
    group.add_command(benchmark_command)
