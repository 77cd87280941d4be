"""``biolens dna train|evaluate|predict|benchmark|ism|saliency``: TF-binding models and their interpretation."""

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


def _preset_config(name: str, settings: tuple[str, ...], train: dict, **fields):
    """``PRESETS[name]`` with ``--set`` model settings and schedule/data changes; bad ones are an InputError."""
    from ..core.errors import InputError
    from ..dna import PRESETS

    if name not in PRESETS:
        raise InputError(f"--model {name!r}: not a preset; choose from {list(PRESETS)}")
    try:
        return PRESETS[name].replace(model=_parse_settings(settings), train=train, **fields)
    except ValueError as e:
        raise InputError(f"preset {name!r} with these settings: {e}") from None


@click.command("train")
@click.option("--train", "train_files", multiple=True, required=True,
              help="DeepBind .seq.gz, the book's CSV, labelled FASTA/CSV, or sample:NAME; repeat for multi-task.")
@click.option("--out", "-o", type=PathType, required=True, help="Run folder (a killed run resumes from it).")
@click.option("--model", "--preset", "preset", default=None, metavar="PRESET",
              help="Training preset (model + schedule) of biolens.dna.PRESETS: cnn, cnn-bn, conv-transformer, "
                   "conv-transformer-rc, conv-gru-rc  [default: biolens.dna.DEFAULT_PRESET, the measured best]")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Override a model setting, e.g. conv_filters=32, mlp_blocks=0, transformer_blocks=2, strands=both.")
@click.option("--tf", default=None, help="Train on this TF only (files naming several TFs are multi-task otherwise).")
@click.option("--cross-negatives", is_flag=True, help="Multi-task: a TF's peaks count as negatives for the other TFs.")
@click.option("--val-fraction", type=float, default=None, help="Validation fraction [preset: 0.1].")
@click.option("--max-validation", type=int, default=None, help="At most this many validation records [preset: 2000].")
@click.option("--epochs", type=int, default=None, help="At most this many epochs [preset].")
@click.option("--max-steps", type=int, default=None, help="Stop after this many steps [preset: 1800].")
@click.option("--batch-size", type=int, default=None, help="[preset: 128]")
@click.option("--lr", type=float, default=None, help="[preset: 1e-3]")
@click.option("--schedule", type=click.Choice(["cosine", "constant"]), default=None, help="[preset: cosine]")
@click.option("--patience", type=int, default=None, help="Evaluations without a better validation auROC [preset: 4].")
@click.option("--eval-every", type=int, default=None, help="Steps between evaluations [preset: 150].")
@click.option("--seed", type=int, default=None, help="[preset: 0]")
@click.option("--seeds", type=click.IntRange(min=1), default=None,
              help="Train this many models (seeds SEED, SEED+1, ...) and predict with their mean logit [preset: 1].")
@click.option("--motif-check/--no-motif-check", default=True, show_default=True,
              help="Single-task runs: do the top ISM windows of the 32 surest validation positives hold a known motif?")
@on_invalid_option
@quiet_option
def train_command(train_files, out, preset, settings, tf, cross_negatives, val_fraction, max_validation, epochs,
                  max_steps, batch_size, lr, schedule, patience, eval_every, seed, seeds, motif_check, on_invalid,
                  quiet) -> int:
    """Train a TF-binding model; files of positives only get dinucleotide-shuffled negatives."""
    from ..dna import DEFAULT_PRESET, concat_data, train

    preset = preset or DEFAULT_PRESET
    given = lambda **kw: {k: v for k, v in kw.items() if v is not None}  # noqa: E731
    config = _preset_config(
        preset, settings,
        given(max_epochs=epochs, max_steps=max_steps, batch_size=batch_size, learning_rate=lr,
              schedule=schedule, patience=patience, eval_every=eval_every, seed=seed),
        **given(val_fraction=val_fraction, max_validation=max_validation, seeds=seeds))
    data = concat_data([read_tf_file(f, on_invalid, quiet) for f in train_files])
    result = train(data, config, out, tf=tf, cross_negatives=cross_negatives, name=preset,
                   progress=show_progress(quiet), motif_check=motif_check)
    if not quiet:
        summary, best = result.summary, result.validation
        err_console.print(f"train: {summary['train_records']} records, validation: {summary['validation_records']} "
                          f"({summary['split']}); negatives: {summary['negatives']}")
        kept = (f"best at {result.best_step}" if not result.members else
                f"{len(result.members)} seeds, best at {', '.join(str(m['best_step']) for m in result.members)}")
        err_console.print(f"[bold]wrote[/bold] {out}: {preset}, {result.steps} steps, {kept}, "
                          f"validation auROC {best.get('auroc', float('nan')):.3f}, loss {best.get('loss', float('nan')):.3f}")
        if result.motif is not None:
            err_console.print(f"motif check: {result.motif['verdict']}")
    return 0


@click.command("evaluate")
@click.argument("run", type=PathType)
@click.argument("file")
@click.option("--out", "-o", type=PathType, default=None, help="Write the metrics as JSON here (and an .html report beside it).")
@click.option("--task", default=None, help="Score this task of the model against the file's labels.")
@click.option("--subset", default=None, help="Only records of this subset (e.g. test, for the book's CSV).")
@click.option("--bootstrap", "n_boot", type=int, default=1000, show_default=True, help="Bootstrap resamples for the intervals.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--motif-check/--no-motif-check", default=True, show_default=True,
              help="Single-task runs: do the top ISM windows of the 32 surest positives hold a known motif?")
@on_invalid_option
@quiet_option
def evaluate_command(run, file, out, task, subset, n_boot, seed, motif_check, on_invalid, quiet) -> int:
    """auROC, auPRC, accuracy (95% bootstrap intervals) and loss of a trained RUN on FILE."""
    from rich.table import Table

    from ..dna import evaluate, load_model, write_evaluation_report

    trained = load_model(run)
    data = read_tf_file(file, on_invalid, quiet)
    evaluation = evaluate(trained, data, task=task, n_resamples=n_boot, seed=seed, subset=subset)
    rows, notes = evaluation.rows, evaluation.notes
    motif = None
    if motif_check and len(trained.tasks) == 1 and subset is None and rows and rows[0].get("positives"):
        from ..dna import motif_check_model

        motif = motif_check_model(trained, data)
        notes["motif_check"] = motif["verdict"]
    table = Table(title=f"{run} on {Path(notes['source']).name}")
    for col in ("task", "n", "auROC [95% CI]", "auPRC [95% CI]", "accuracy [95% CI]", "loss"):
        table.add_column(col)
    fmt = lambda r, k: f"{r[k]:.3f} [{r[k + '_low']:.3f}, {r[k + '_high']:.3f}]"  # noqa: E731
    for r in rows:
        table.add_row(r["task"], str(r["n"]), fmt(r, "auroc"), fmt(r, "auprc"), fmt(r, "accuracy"), f"{r['loss']:.3f}")
    if not quiet:
        for key in ("negatives", "transfer", "motif_check"):
            if key in notes:
                err_console.print(notes[key], markup=False)
    from ._common import console

    console.print(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"rows": rows, "notes": notes, "bootstrap": n_boot, "motif_check": motif},
                                  indent=1) + "\n")
        write_evaluation_report(out.with_suffix(".html"), evaluation, run=run, best_step=trained.meta.get("best_step"))
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


@click.command("benchmark")
@click.option("--train-dir", type=PathType, required=True,
              help="Folder of DeepBind <TF>_..._AC.seq.gz (training positives) and <TF>_..._B.seq.gz (test) pairs.")
@click.option("--out", "-o", type=PathType, required=True,
              help="Output folder: results.json, table.md, runs/<TF>/<preset>/ (a re-run skips finished pairs).")
@click.option("--model", "--preset", "presets", multiple=True, metavar="PRESET",
              help="Preset(s) to compare (repeatable)  [default: biolens.dna.DEFAULT_PRESET]")
@click.option("--tf", "tfs", multiple=True, help="Only these factors (repeatable; in this order).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="Override a model setting of every preset.")
@click.option("--max-steps", type=int, default=None, help="Override the presets' step limit (a quicker, cruder table).")
@click.option("--lr", type=float, default=None, help="Override the presets' learning rate.")
@click.option("--max-train", type=int, default=None, help="At most this many training positives per factor.")
@click.option("--seeds", type=click.IntRange(min=1), default=None,
              help="Override the presets' number of seeds (a seed ensemble per factor and preset).")
@click.option("--bootstrap", "n_boot", type=int, default=1000, show_default=True, help="Bootstrap resamples for the intervals.")
@click.option("--motif-check/--no-motif-check", default=True, show_default=True,
              help="Check each model's top ISM windows against a panel of known motifs.")
@quiet_option
def benchmark_command(train_dir, out, presets, tfs, settings, max_steps, lr, max_train, seeds, n_boot, motif_check,
                      quiet) -> int:
    """Train and score presets on every _AC/_B factor pair of a folder: per-factor auROC and auPRC with
    95% bootstrap intervals and CPU time, as markdown (table.md) and JSON (results.json)."""
    from ..dna import DEFAULT_PRESET, benchmark, markdown_table

    presets = presets or (DEFAULT_PRESET,)
    changes = {k: v for k, v in (("max_steps", max_steps), ("learning_rate", lr)) if v is not None}
    fields = {k: v for k, v in (("max_train", max_train), ("seeds", seeds)) if v}
    configs = {name: _preset_config(name, settings, changes, **fields) for name in presets}
    log = None if quiet else (lambda line: err_console.print(line, markup=False))
    results = benchmark(train_dir, out, presets=presets, configs=configs, tfs=tfs or None, n_resamples=n_boot,
                        motif_check=motif_check, log=log)
    from ._common import console

    console.print(markdown_table(results), markup=False)
    if not quiet:
        err_console.print(f"[bold]wrote[/bold] {out / 'table.md'} and {out / 'results.json'}")
    return 0


def register(group: click.Group) -> None:
    @group.group("dna")
    def dna() -> None:
        """Transcription-factor binding: train, evaluate, predict, benchmark, explain (ism, saliency)."""

    for command in (train_command, evaluate_command, predict_command, benchmark_command, ism_command,
                    saliency_command):
        dna.add_command(command)
