"""``biolens graph train | evaluate | predict | presets``: link prediction on interaction graphs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._common import console, err_console, input_path, quiet_option, show_progress

if TYPE_CHECKING:
    from ..graphs import GraphResult

PathType = click.Path(path_type=Path)


def _seeds(text: str) -> tuple[int, ...]:
    """``3`` -> seeds 0, 1, 2; ``0,5,7`` -> those seeds; ``4-6`` -> seeds 4, 5, 6."""
    from ..core.errors import InputError

    try:
        if "-" in text:
            first, last = (int(v) for v in text.split("-"))
            values = list(range(first, last + 1))
        else:
            values = [int(v) for v in text.split(",") if v.strip()]
            values = list(range(values[0])) if "," not in text and values else values
    except ValueError:
        values = []
    if not values or min(values) < 0 or len(set(values)) != len(values):
        raise InputError(f"--seeds takes a count (3), a list (0,5,7) or a range (4-6), got {text!r}")
    return tuple(values)


def _fanouts(text: str | None) -> tuple[int, ...] | None:
    """``15,10`` -> (15, 10)."""
    from ..core.errors import InputError

    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--fanouts takes numbers per hop such as 15,10; got {text!r}") from None


@click.group("graph")
def graph_group() -> None:
    """Link prediction on interaction graphs (drug-drug interactions, OGB layout)."""


@graph_group.command("train")
@click.option("--dataset", "-d", required=True, help="OGB-layout folder, edge-list CSV/TSV, or sample:ogbl-ddi-sample.")
@click.option("--out", "-o", type=PathType, required=True, help="Run folder (re-run the same command to resume).")
@click.option("--preset", default="default", show_default=True, help="Settings bundle (see `biolens graph presets`).")
@click.option("--loss", type=click.Choice(["bce", "auc", "hinge"]), default=None,
              help="Binary cross-entropy, PLNLP's pairwise square AUC loss, or its squared-hinge AUC loss.")
@click.option("--num-neg", type=int, default=None, help="Negatives per positive edge, re-drawn every epoch.")
@click.option("--epochs", type=int, default=None, help="Maximum epochs (one epoch = every training edge once).")
@click.option("--batch-size", type=int, default=None, help="Positive edges per step.")
@click.option("--lr", type=float, default=None, help="Learning rate.")
@click.option("--patience", type=int, default=None, help="Stop after this many epochs without a better valid Hits@20.")
@click.option("--embedding-dim", type=int, default=None, help="Learnable dims per node (0: given features only).")
@click.option("--features/--no-features", default=False, help="Use raw/node-feat.csv.gz as node inputs.")
@click.option("--hidden", type=int, default=None, help="GraphSAGE width.")
@click.option("--layers", type=click.IntRange(1, 3), default=None, help="GraphSAGE layers (1-3).")
@click.option("--aggregation", type=click.Choice(["mean", "sum", "max"]), default=None)
@click.option("--degree-norm/--no-degree-norm", default=None, help="Weight messages by 1/sqrt(d_i d_j).")
@click.option("--self-loops/--no-self-loops", default=None, help="Add (i, i) to the message edges.")
@click.option("--dropout", type=float, default=None, help="Dropout between GraphSAGE layers.")
@click.option("--predictor-layers", type=int, default=None, help="Dense layers of the link predictor.")
@click.option("--predictor-hidden", type=int, default=None, help="Width of the link predictor's hidden layers.")
@click.option("--predictor-dropout", type=float, default=None)
@click.option("--ema", type=float, default=None,
              help="Evaluate and keep an exponential moving average of the weights with this decay (e.g. 0.999).")
@click.option("--sampler", type=click.Choice(["full", "neighbor"]), default=None,
              help="Whole-graph GNN per step, or GraphSAGE neighbour sampling around each batch.")
@click.option("--fanouts", default=None, help="Neighbours sampled per hop with --sampler neighbor, e.g. 15,10.")
@click.option("--propagation", type=click.Choice(["auto", "dense", "segment"]), default=None,
              help="Sum over neighbours by adjacency matmul or by segment sums over the edge list.")
@click.option("--mask-targets/--no-mask-targets", default=None,
              help="Leave each step's positive edges out of its message passing (Refined-GAE's input masking).")
@click.option("--seeds", default="1", show_default=True, help="Number of seeds (3 = seeds 0,1,2), a list (0,5,7) or a range (4-6).")
@click.option("--valid", "valid_file", type=PathType, default=None, help="Validation split (.npz/.pt with edge, edge_neg).")
@click.option("--valid-fraction", type=float, default=0.1, show_default=True, help="Edge-list input without --valid: edges held out.")
@click.option("--split-name", default=None, help="OGB layout: the folder under split/ (default: the only one).")
@click.option("--subgraph", type=int, default=None,
              help="Train on N random nodes (seeded by the first seed) and the pairs among them, renumbered.")
@click.option("--on-duplicate", type=click.Choice(["merge", "error"]), default="merge", show_default=True,
              help="Repeated or reversed rows of the undirected edge list.")
@click.option("--on-self-loop", type=click.Choice(["error", "drop"]), default="error", show_default=True,
              help="Rows (u, u) in the edge list.")
@quiet_option
def train_command(dataset, out, preset, loss, num_neg, epochs, batch_size, lr, patience, embedding_dim, features,
                  hidden, layers, aggregation, degree_norm, self_loops, dropout, predictor_layers,
                  predictor_hidden, predictor_dropout, ema, sampler, fanouts, propagation, mask_targets, seeds, valid_file, valid_fraction, split_name,
                  subgraph, on_duplicate, on_self_loop, quiet) -> int:
    """Train a GraphSAGE link predictor; writes checkpoints, metrics.jsonl and report.html to OUT."""
    from ..core.errors import InputError
    from ..graphs import load_dataset, subsample, train
    from ..graphs import preset as make_preset

    seed_list = _seeds(seeds)
    data = load_dataset(input_path(dataset), split_name=split_name, valid=valid_file, valid_fraction=valid_fraction,
                        seed=seed_list[0], on_duplicate=on_duplicate, on_self_loop=on_self_loop)
    if subgraph is not None:
        data = subsample(data, subgraph, seed=seed_list[0])
    feature_dim = 0
    if features:
        if data.graph.features is None:
            raise InputError("--features: this dataset has no raw/node-feat.csv.gz", source=data.source)
        feature_dim = data.graph.features.shape[1]
    config = make_preset(
        preset,
        model=dict(embedding_dim=embedding_dim, feature_dim=feature_dim or None, hidden=hidden, layers=layers,
                   aggregation=aggregation, degree_norm=degree_norm, self_loops=self_loops, dropout=dropout,
                   predictor_layers=predictor_layers, predictor_hidden=predictor_hidden,
                   predictor_dropout=predictor_dropout),
        train=dict(max_epochs=epochs, batch_size=batch_size, learning_rate=lr, patience=patience, ema=ema),
        link=dict(loss=loss, num_neg=num_neg, sampler=sampler, fanouts=_fanouts(fanouts), propagation=propagation,
                  mask_targets=mask_targets),
    )
    if not quiet:
        g = data.graph
        for line in [*data.notes, *data.summary.lines(), f"data: {data.source}: {g.num_nodes:,} nodes, {g.num_edges:,} training edges"]:
            err_console.print(line, markup=False)
        if data.valid is None:
            err_console.print("no validation split: training for the full number of epochs without early stopping")
        elif data.split_note:
            err_console.print(f"validation split: {data.split_note}")
    summary = train(data, config, out, seeds=seed_list, progress=show_progress(quiet))
    if not quiet:
        _print_summary(summary, out)
    return 0


def _print_summary(summary: GraphResult, out: Path) -> None:
    from ..report import seconds_text

    valid = summary.valid
    if valid:
        several = len(summary.seeds) > 1
        parts = [f"{k} {v['mean']:.4f}" + (f" ± {v['std']:.4f}" if several else "")
                 for k, v in valid.items() if k in ("hits@20", "hits@50", "mrr", "auc")]
        seeds = f"over seeds {', '.join(map(str, summary.seeds))}" if several else f"(seed {summary.seeds[0]})"
        err_console.print(f"validation {seeds}: " + ", ".join(parts), markup=False)
    err_console.print(f"epoch: {seconds_text(summary.epoch_seconds_median)} wall, "
                      f"{seconds_text(summary.epoch_cpu_seconds_median)} CPU (medians); "
                      f"peak memory {summary.peak_rss_mb:.0f} MiB")
    err_console.print(f"[bold]wrote[/bold] {out} (report.html, result.json)")


@graph_group.command("evaluate")
@click.argument("run", type=PathType)
@click.option("--split", "split_file", required=True, help="Split file: .npz or OGB .pt with edge and edge_neg.")
def evaluate_command(run, split_file) -> int:
    """Print Hits@K (OGB's definition), MRR and AUC of RUN on a split, as JSON."""
    from ..graphs import evaluate

    result = evaluate(run, input_path(split_file))
    click.echo(json.dumps(result.as_row(), indent=2))
    return 0


@graph_group.command("predict")
@click.argument("run", type=PathType)
@click.argument("nodes", nargs=-1, required=True)
@click.option("--top", type=int, default=10, show_default=True, help="With one node: how many partners to list.")
@click.option("--include-known", is_flag=True, help="List partners already linked in the training graph too.")
@click.option("--seed", type=int, default=None, help="Which trained seed (default: the best on validation).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def predict_command(run, nodes, top, include_known, seed, as_json) -> int:
    """Score pairs (A B [C D ...]) of DrugBank ids or node indices, or list A's top partners."""
    from ..graphs import best_seed, load, score_nodes, top_partners

    trained = load(run, seed if seed is not None else best_seed(run))[0]
    if len(nodes) == 1:
        rows = top_partners(trained, nodes[0], k=top, include_known=include_known)
        title = f"top {len(rows)} partners of {nodes[0]}" + ("" if include_known else " (not already linked)")
    else:
        rows = score_nodes(trained, nodes)
        title = "pair scores"
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    from rich.table import Table

    table = Table(title=f"{title}; seed {trained.seed}, {trained.loss} model")
    for col in rows[0]:
        table.add_column(col)
    for row in rows:
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values()))
    console.print(table)
    return 0


@graph_group.command("presets")
def presets_command() -> int:
    """List the training presets."""
    from rich.table import Table

    from ..graphs import PRESET_NOTES

    table = Table(title="biolens graph train --preset NAME")
    table.add_column("name")
    table.add_column("settings")
    for name, text in PRESET_NOTES.items():
        table.add_row(name, text)
    console.print(table)
    return 0


def register(group: click.Group) -> None:
    group.add_command(graph_group)
