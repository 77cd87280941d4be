"""``biolens protein train | evaluate | predict`` for protein property tasks (``biolens train``,
``evaluate`` and ``predict`` are the same commands, kept from before the command tree had groups)."""

from __future__ import annotations

import math
from pathlib import Path

import click
from rich.table import Table

from ..proteins.tasks import TABLE_TASKS
from ._common import (
    alias,
    console,
    err_console,
    input_path,
    on_invalid_option,
    quiet_option,
    show_progress,
)

PathType = click.Path(path_type=Path)
TASK_CHOICES = ["solubility", "localization", "membrane", "enzyme", "go", "gb1", "secondary-structure", *TABLE_TASKS]


def _fractions(text: str) -> tuple[float, ...]:
    if text.strip().lower() in ("", "none", "off"):
        return ()
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise click.BadParameter(f"expected comma-separated fractions or 'none', got {text!r}") from None


def _load(task, data, *, sequence_column, id_column, label_columns, labels, on_missing, on_invalid, ec_level,
          min_count, aspect, taxon, propagate, obo, annotations):
    from ..proteins.tasks import load_task

    options = {"on_invalid": on_invalid.lower()}
    if task in TABLE_TASKS:
        options.update(sequence_column=sequence_column, id_column=id_column, label_columns=label_columns or None,
                       label_names=labels.split(",") if labels else None, on_missing=on_missing)
    elif task == "enzyme":
        options.update(level=ec_level, min_count=min_count, annotations=annotations)
    elif task == "go":
        options.update(aspect=aspect, taxon=tuple(taxon) or None, min_count=min_count, propagate=propagate, obo=obo)
    return load_task(task, input_path(data), **options)


def _metrics_table(result) -> Table:
    overlap = getattr(result, "overlap", None) or {}
    what = ("metrics on data that overlaps the run's training split" if overlap.get("warning") else
            "metrics, not checked for training overlap" if overlap.get("checked") is False else "test metrics")
    table = Table(title=f"{result.task} / {result.encoder} / {result.head}: {what} (95% bootstrap intervals)")
    names = list(result.metrics)
    table.add_column("model")
    for n in names:
        table.add_column(n + (" *" if n == result.primary else ""))
    rows = [("model", result.metrics)] + [(k, b["metrics"]) for k, b in result.baselines.items()]
    for label, metrics in rows:
        cells = [_interval(metrics.get(n)) for n in names]
        if label != "model" and all(c == NA for c in cells):
            continue  # a baseline that does not apply (majority class on regression): no empty row
        table.add_row(label, *cells)
    return table


NA = "n/a"  # the one spelling of not-applicable in tables and messages


def _interval(metric: dict | None) -> str:
    """``0.512 [0.401, 0.600]``, or ``n/a`` for a missing or NaN value."""
    if metric is None or not math.isfinite(metric["value"]):
        return NA
    return f"{metric['value']:.3f} [{metric['low']:.3f}, {metric['high']:.3f}]"


def _split_text(counts: dict[str, int]) -> str:
    """``train 280 / valid 40 / test 80`` (a message, not a dict repr)."""
    return " / ".join(f"{k} {v}" for k, v in counts.items())


def _deltas(deltas: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:+.3f}" for k, v in deltas.items() if math.isfinite(v))


def _task_options(f):
    options = [
        click.option("--sequence-column", default=None, help="CSV/TSV column holding sequences."),
        click.option("--id-column", default=None, help="CSV/TSV column holding ids."),
        click.option("--label-column", "label_columns", multiple=True, help="Label column(s) of a user table (repeat for multi-label)."),
        click.option("--labels", default=None, help="Comma-separated class names: fixes their order; other values are an error."),
        click.option("--on-missing", type=click.Choice(["error", "skip"]), default="error", show_default=True,
                     help="Records with an empty/NaN label."),
        click.option("--ec-level", type=click.IntRange(1, 4), default=None, help="enzyme: predict EC numbers at this level."),
        click.option("--min-count", type=int, default=None, help="enzyme/go: keep labels with at least this many proteins."),
        click.option("--aspect", default="MFO", show_default=True, help="go: MFO, BPO or CCO."),
        click.option("--taxon", type=int, multiple=True, help="go: keep proteins of this NCBI taxon (repeatable)."),
        click.option("--propagate", is_flag=True, help="go: add every ancestor term (is_a, part_of) from the .obo."),
        click.option("--obo", type=PathType, default=None, help="go: go-basic.obo (default: beside the terms file)."),
        click.option("--annotations", type=PathType, default=None, help="enzyme: the *_annot.tsv (default: beside the FASTA)."),
        on_invalid_option,
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.command("train")
@click.option("--data", required=True, help="Labelled file (or folder), or sample:NAME.")
@click.option("--task", type=click.Choice(TASK_CHOICES), default="auto", show_default=True, help="Task (loader) or kind of a user file.")
@click.option("--encoder", "-e", default="onehot", show_default=True, help="Encoder name (see `biolens encoders`).")
@click.option("--head", type=click.Choice(["auto", "linear", "mlp", "cnn", "attention", "per_residue", "knn"]), default="auto",
              show_default=True, help="auto: per_residue for per-residue tasks, cnn on onehot, else mlp. "
              "knn: annotation transfer from the nearest training proteins.")
@click.option("--out", "-o", type=PathType, required=True, help="Run folder (a finished one is reused, a killed one resumed).")
@click.option("--test-data", default=None, help="A separate labelled test file (e.g. DeepLoc test).")
@click.option("--split", "split_method", type=click.Choice(["auto", "dataset", "random", "homology"]), default="auto",
              show_default=True, help="auto: the dataset's own split if any, else seeded random.")
@click.option("--identity", type=float, default=0.3, show_default=True, help="homology split: MMseqs2 identity threshold.")
@click.option("--valid-fraction", type=float, default=0.1, show_default=True)
@click.option("--test-fraction", type=float, default=0.2, show_default=True)
@click.option("--pooling", default="mean", show_default=True, help="Pooling for linear/mlp heads.")
@click.option("--epochs", type=int, default=100, show_default=True, help="At most this many epochs (early stopping ends most runs sooner).")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=3e-3, show_default=True, help="Peak learning rate (warm-up, then cosine decay).")
@click.option("--patience", type=int, default=10, show_default=True, help="Evaluations (epochs) without improvement before stopping.")
@click.option("--hidden", type=int, default=256, show_default=True)
@click.option("--dropout", type=float, default=0.2, show_default=True)
@click.option("--channels", type=int, default=64, show_default=True, help="cnn/per_residue convolution channels.")
@click.option("--kernel", type=int, default=9, show_default=True)
@click.option("--k", "knn_k", type=int, default=5, show_default=True, help="knn head: neighbours that vote.")
@click.option("--metric", "knn_metric", type=click.Choice(["cosine", "euclidean"]), default="cosine", show_default=True,
              help="knn head: distance between (standardised) embeddings.")
@click.option("--max-length", type=int, default=2000, show_default=True, help="Longest protein a residue head takes.")
@click.option("--too-long", type=click.Choice(["error", "skip"]), default="error", show_default=True)
@click.option("--no-class-weights", is_flag=True, help="Do not weight classes against imbalance.")
@click.option("--calibration", type=click.Choice(["platt", "temperature", "none"]), default="platt", show_default=True,
              help="binary: map probabilities with a fit on the validation split.")
@click.option("--threshold-rule", type=click.Choice(["balanced_accuracy", "mcc", "fixed"]), default="balanced_accuracy",
              show_default=True, help="binary: choose the decision threshold on validation by this rule (fixed: 0.5).")
@click.option("--finetune", type=click.Choice(["full", "lora"]), is_flag=False, flag_value="full", default=None,
              help="Back-propagate into the encoder (JAX-native encoders): full (alone: --finetune) trains its "
              "weights, lora trains low-rank adapters on its transformer layers (ESM2, mlm:RUN).")
@click.option("--finetune-last", type=int, default=None, help="With --finetune full: only the last K layers (default all).")
@click.option("--encoder-lr", type=float, default=None,
              help="With --finetune: the encoder's (or the adapters') peak learning rate (default: --lr / 10).")
@click.option("--lora-rank", type=int, default=8, show_default=True, help="With --finetune lora: the adapters' rank r.")
@click.option("--lora-alpha", type=float, default=16.0, show_default=True,
              help="With --finetune lora: updates are scaled by alpha / rank.")
@click.option("--lora-targets", type=click.Choice(["qv", "all"]), default="qv", show_default=True,
              help="With --finetune lora: query+value projections, or every dense projection of a layer.")
@click.option("--finetune-tokens", type=int, default=8192, show_default=True,
              help="With --finetune: padded tokens per batch (bounds a step's memory).")
@click.option("--finetune-crop", type=int, default=256, show_default=True,
              help="With --finetune, per-protein tasks: train on windows of at most this many residues (drawn "
              "afresh each epoch), all in one batch shape (one compile); prediction sees whole proteins. 0: whole proteins.")
@click.option("--finetune-head-epochs", type=int, default=0, show_default=True,
              help="With --finetune: LP-FT, train the head alone on the frozen encoder for this many epochs first.")
@click.option("--bootstrap", type=int, default=200, show_default=True, help="Bootstrap resamples for intervals.")
@click.option("--size-curve", default="0.2,0.5", show_default=True, help="Training fractions for metric vs training size, or none.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--cache", type=PathType, default=None, help="Embedding store (default: $BIOLENS_CACHE or ~/.cache/biolens).")
@_task_options
@quiet_option
def train_command(data, task, encoder, head, out, test_data, split_method, identity, valid_fraction, test_fraction,
                  pooling, epochs, batch_size, lr, patience, hidden, dropout, channels, kernel, knn_k, knn_metric,
                  max_length, too_long,
                  no_class_weights, calibration, threshold_rule, finetune, finetune_last, encoder_lr, lora_rank, lora_alpha,
                  lora_targets, finetune_tokens, finetune_crop, finetune_head_epochs, bootstrap, size_curve, seed, cache, quiet, **task_opts) -> int:
    """Train and evaluate a predictor for TASK on --data; write the run folder --out."""
    from ..core.train import TrainConfig
    from ..proteins.supervised import HeadConfig, LoRAConfig, RunConfig, SplitConfig, run_task
    from ..proteins.tasks import combine

    loaded = _load(task, data, **task_opts)
    if test_data:
        loaded = combine(loaded, _load(task, test_data, **task_opts))
    if head == "auto":
        head = "per_residue" if loaded.task.spec.per_residue else ("cnn" if encoder == "onehot" else "mlp")
    config = RunConfig(
        pooling=pooling, class_weights=not no_class_weights, calibration=calibration, threshold_rule=threshold_rule,
        finetune=finetune is not None, finetune_method=finetune or "full", finetune_last=finetune_last, encoder_lr=encoder_lr,
        lora=LoRAConfig(rank=lora_rank, alpha=lora_alpha, targets=lora_targets), finetune_tokens=finetune_tokens,
        finetune_crop=finetune_crop or None, finetune_head_epochs=finetune_head_epochs,
        too_long=too_long, bootstrap=bootstrap, size_curve=_fractions(size_curve),
        head=HeadConfig(kind=head, hidden=hidden, dropout=dropout, channels=channels, kernel=kernel, max_length=max_length,
                        k=knn_k, metric=knn_metric),
        train=TrainConfig(max_epochs=epochs, batch_size=batch_size, learning_rate=lr, patience=patience, seed=seed),
        split=SplitConfig(method=split_method, identity=identity, valid_fraction=valid_fraction,
                          test_fraction=test_fraction, seed=seed),
    )
    if not quiet:
        err_console.print(f"{loaded.task.name} ({loaded.task.kind}): {len(loaded)} records; {loaded.label_summary()}")
    result = run_task(loaded, encoder, head, out_dir=out, config=config, cache=cache or True, progress=show_progress(quiet))
    if not quiet:
        for note in result.notes:
            err_console.print(f"note: {note}", markup=False)
        console.print(_metrics_table(result))
        deltas = _deltas(result.deltas)
        err_console.print(f"{result.primary} over baselines: {deltas}" if deltas else "")
        err_console.print(f"[bold]{'reused' if result.reused else 'wrote'}[/bold] {out} "
                          f"(split: {_split_text(result.counts)}; {result.timings.get('total_s', 0):.1f} s)")
    return 0


@click.command("evaluate")
@click.argument("run", type=PathType)
@click.option("--data", default=None, help="Labelled file to evaluate on (default: the run's own test split).")
@click.option("--task", type=click.Choice(TASK_CHOICES), default=None, help="Loader for --data (default: the run's task).")
@click.option("--out", "-o", type=PathType, default=None, help="Write the metrics as JSON here.")
@click.option("--bootstrap", type=int, default=200, show_default=True)
@click.option("--exclude-seen", is_flag=True,
              help="Evaluate only the records of --data that are not in the run's training or validation split.")
@_task_options
@quiet_option
def evaluate_command(run, data, task, out, bootstrap, exclude_seen, quiet, **task_opts) -> int:
    """Show a run's test metrics, or evaluate it on a new labelled file.

    --data is checked against the run's training and validation sequences (by hash): records the run
    has seen are counted, warned about and marked in the table's title (or left out with --exclude-seen).
    """
    import json

    from ..core.files import atomic_write_text
    from ..proteins.supervised import evaluate_run, load_result

    if data is None:
        result = load_result(run)
    else:
        loaded = _load(task or _run_loader(run), data, **task_opts)
        result = evaluate_run(run, loaded, n_resamples=bootstrap, exclude_seen=exclude_seen)
        warning = (result.overlap or {}).get("warning")
        if warning:
            err_console.print(f"warning: {warning}", markup=False)
        if not quiet:
            for note in result.notes:
                if note != warning:
                    err_console.print(f"note: {note}", markup=False)
    if out is not None:
        atomic_write_text(out, json.dumps(result.to_json(), indent=2, default=float) + "\n")
    if not quiet:
        console.print(_metrics_table(result))
    return 0


def _run_loader(run: Path) -> str:
    from ..core.checkpoint import read_meta

    name = read_meta(run / "checkpoint")["task"]["name"]
    return "enzyme" if name.startswith("enzyme") else ("go" if name.startswith("go-") else
                                                       name if name in TASK_CHOICES else "auto")


@click.command("predict")
@click.argument("run", type=PathType)
@click.argument("input")
@click.option("--out", "-o", type=PathType, required=True, help="Output CSV: id, prediction, p_<label>...")
@on_invalid_option
@click.option("--sequence-column", default=None)
@click.option("--id-column", default=None)
@click.option("--dedupe", is_flag=True, help="Keep the first of records that repeat an id with the same sequence.")
@quiet_option
def predict_command(run, input, out, on_invalid, sequence_column, id_column, dedupe, quiet) -> int:
    """Predict INPUT (FASTA/CSV/TSV or sample:NAME) with the trained RUN."""
    from ..core.alphabets import PROTEIN
    from ..core.files import atomic_write_text
    from ..core.seqio import check_unique_ids, load_sequences
    from ..proteins.supervised import load_predictor, prediction_table

    predictor = load_predictor(run)
    source = input_path(input)
    records, report = load_sequences(source, PROTEIN, on_invalid=on_invalid.lower(),
                                     sequence_column=sequence_column, id_column=id_column)
    records, dropped = check_unique_ids(records, dedupe=dedupe, source=str(source))
    pred = predictor.predict([r.sequence for r in records], progress=show_progress(quiet))
    atomic_write_text(out, prediction_table(predictor.task, [r.id for r in records], pred, threshold=predictor.threshold))
    if not quiet:
        for line in report.lines() + ([f"duplicate ids dropped: {dropped}"] if dropped else []):
            err_console.print(line, markup=False)
        err_console.print(f"[bold]wrote[/bold] {out}: {len(records)} predictions ({predictor.task.name}, "
                          f"{predictor.task.kind}, {predictor.encoder.name})")
    return 0


@click.group("protein")
def protein_group() -> None:
    """Protein property tasks: train a head on an encoder, evaluate it, predict new sequences."""


def register(group: click.Group) -> None:
    group.add_command(protein_group)
    for command in (train_command, evaluate_command, predict_command):
        protein_group.add_command(command)
        group.add_command(alias(command, f"protein {command.name}"))
