"""``biolens dna train|evaluate|predict|ism|saliency``: TF-binding models and their interpretation."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ._common import (
    err_console,
    on_invalid_option,
    quiet_option,
    read_tf_file,
    show_progress,
)
from ._dna_explain import ism_command, saliency_command

PathType = click.Path(path_type=Path)


def _parse_settings(pairs: tuple[str, ...]) -> dict:
    from ..core.errors import InputError
    from ..dna import ModelConfig

    types = {f: type(getattr(ModelConfig(), f)) for f in ModelConfig.__dataclass_fields__}
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in types:
            raise InputError(f"--set {pair!r}: expected KEY=VALUE with KEY one of {sorted(types)}")
        kind = types[key]
        try:
            out[key] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
        except ValueError:
            raise InputError(f"--set {pair!r}: {value!r} is not a {kind.__name__}") from None
    return out


@click.command("train")
@click.option("--train", "train_files", multiple=True, required=True,
              help="DeepBind .seq.gz, the book's CSV, labelled FASTA/CSV, or sample:NAME; repeat for multi-task.")
@click.option("--out", "-o", type=PathType, required=True, help="Run folder (a killed run resumes from it).")
@click.option("--model", "preset", type=click.Choice(["cnn", "cnn-bn", "conv-transformer"]), default="cnn", show_default=True)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Override a model setting, e.g. conv_filters=32, mlp_blocks=0, transformer_blocks=2.")
@click.option("--tf", default=None, help="Train on this TF only (files naming several TFs are multi-task otherwise).")
@click.option("--cross-negatives", is_flag=True, help="Multi-task: a TF's peaks count as negatives for the other TFs.")
@click.option("--val-fraction", type=float, default=0.1, show_default=True)
@click.option("--epochs", type=int, default=10, show_default=True)
@click.option("--max-steps", type=int, default=None, help="Stop after this many steps.")
@click.option("--batch-size", type=int, default=128, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--schedule", type=click.Choice(["cosine", "constant"]), default="cosine", show_default=True)
@click.option("--patience", type=int, default=3, show_default=True, help="Evaluations without a better validation auROC.")
@click.option("--eval-every", type=int, default=None, help="Steps between evaluations (default: each epoch).")
@click.option("--seed", type=int, default=0, show_default=True)
@on_invalid_option
@quiet_option
def train_command(train_files, out, preset, settings, tf, cross_negatives, val_fraction, epochs, max_steps,
                  batch_size, lr, schedule, patience, eval_every, seed, on_invalid, quiet) -> int:
    """Train a TF-binding model; files of positives only get dinucleotide-shuffled negatives."""
    from ..core.train import TrainConfig
    from ..dna import concat_data, model_config, pick_tasks, prepare_training, train_model
    from ..report import Report, learning_curves

    data = concat_data([read_tf_file(f, on_invalid, quiet) for f in train_files])
    tasks = pick_tasks(data, tf)
    train, val, summary = prepare_training(data, tasks, val_fraction=val_fraction, seed=seed,
                                           cross_negatives=cross_negatives)
    config = model_config(preset, seq_len=train.x.shape[1], n_outputs=len(tasks), **_parse_settings(settings))
    tcfg = TrainConfig(learning_rate=lr, batch_size=batch_size, max_epochs=epochs, max_steps=max_steps,
                       schedule=schedule, patience=patience, eval_every=eval_every, monitor="auroc", mode="max", seed=seed)
    summary["preset"] = preset
    trained, result = train_model(train, val, tasks, config, tcfg, run_dir=out, progress=show_progress(quiet),
                                  data_summary=summary)
    rows = [{"metric": k, "value": v} for k, v in (result.best_metrics or {}).items()]
    (out / "validation.json").write_text(json.dumps(result.best_metrics, indent=1) + "\n")
    page = Report(f"dna {preset}: {', '.join(tasks)}").text(f"negatives: {summary['negatives']}; validation: {summary['split']}")
    page.table(rows, caption="validation metrics of the restored best model")
    page.figure(learning_curves(result.history), caption="learning curves").settings(
        {"train": ", ".join(train_files), "steps": result.steps, "best_step": result.best_step, **trained.meta["model_config"]})
    page.write(out / "report.html")
    if not quiet:
        err_console.print(f"train: {summary['train_records']} records, validation: {summary['validation_records']} "
                          f"({summary['split']}); negatives: {summary['negatives']}")
        best = result.best_metrics or {}
        err_console.print(f"[bold]wrote[/bold] {out}: {result.steps} steps, best at {result.best_step}, validation "
                          f"auROC {best.get('auroc', float('nan')):.3f}, loss {best.get('loss', float('nan')):.3f}")
    return 0


@click.command("evaluate")
@click.argument("run", type=PathType)
@click.argument("file")
@click.option("--out", "-o", type=PathType, default=None, help="Write the metrics as JSON here (and an .html report beside it).")
@click.option("--task", default=None, help="Score this task of the model against the file's labels.")
@click.option("--subset", default=None, help="Only records of this subset (e.g. test, for the book's CSV).")
@click.option("--bootstrap", "n_boot", type=int, default=1000, show_default=True, help="Bootstrap resamples for the intervals.")
@click.option("--seed", type=int, default=0, show_default=True)
@on_invalid_option
@quiet_option
def evaluate_command(run, file, out, task, subset, n_boot, seed, on_invalid, quiet) -> int:
    """auROC, auPRC, accuracy (95% bootstrap intervals) and loss of a trained RUN on FILE."""
    from rich.table import Table

    from ..dna import evaluate_data, load_model
    from ..report import Report, learning_curves

    trained = load_model(run)
    rows, notes = evaluate_data(trained, read_tf_file(file, on_invalid, quiet), task=task, n_resamples=n_boot,
                                seed=seed, subset=subset)
    table = Table(title=f"{run} on {Path(notes['source']).name}")
    for col in ("task", "n", "auROC [95% CI]", "auPRC [95% CI]", "accuracy [95% CI]", "loss"):
        table.add_column(col)
    fmt = lambda r, k: f"{r[k]:.3f} [{r[k + '_low']:.3f}, {r[k + '_high']:.3f}]"  # noqa: E731
    for r in rows:
        table.add_row(r["task"], str(r["n"]), fmt(r, "auroc"), fmt(r, "auprc"), fmt(r, "accuracy"), f"{r['loss']:.3f}")
    if not quiet:
        for key in ("negatives", "transfer"):
            if key in notes:
                err_console.print(notes[key], markup=False)
    from ._common import console

    console.print(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"rows": rows, "notes": notes, "bootstrap": n_boot}, indent=1) + "\n")
        page = Report(f"evaluation of {run}").text("; ".join(f"{k}: {v}" for k, v in notes.items())).table(rows)
        history = run / "train" / "metrics.jsonl"
        if history.exists():
            page.figure(learning_curves([json.loads(ln) for ln in history.read_text().splitlines() if ln.strip()]),
                        caption="learning curves of the run")
        page.write(out.with_suffix(".html"))
    return 0


@click.command("predict")
@click.argument("run", type=PathType)
@click.argument("file")
@click.option("--out", "-o", type=PathType, required=True, help="Output CSV: id, p_bound (+ p_bound_<TF>, label).")
@click.option("--task", default=None, help="Which task's probability is p_bound (default: the first).")
@click.option("--batch-size", type=int, default=512, show_default=True)
@on_invalid_option
@quiet_option
def predict_command(run, file, out, task, batch_size, on_invalid, quiet) -> int:
    """Binding probabilities, one row per input sequence in input order."""
    import polars as pl

    from ..core.files import atomic_write_text
    from ..dna import load_model, prediction_columns

    trained = load_model(run)
    cols = prediction_columns(trained, read_tf_file(file, on_invalid, quiet), task=task, batch_size=batch_size)
    atomic_write_text(out, pl.DataFrame(cols).write_csv())
    if not quiet:
        err_console.print(f"[bold]wrote[/bold] {out}: {len(cols['id'])} rows")
    return 0


def register(group: click.Group) -> None:
    @group.group("dna")
    def dna() -> None:
        """Transcription-factor binding: train, evaluate, predict, explain (ism, saliency)."""

    for command in (train_command, evaluate_command, predict_command, ism_command, saliency_command):
        dna.add_command(command)
