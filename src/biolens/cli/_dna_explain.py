"""``biolens dna ism`` and ``biolens dna saliency``."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import err_console, on_invalid_option, quiet_option, read_tf_file, show_progress

PathType = click.Path(path_type=Path)


def _options(func):
    for option in reversed([
        click.argument("run", type=PathType),
        click.argument("file"),
        click.option("--out", "-o", type=PathType, required=True, help="Output folder (attributions.npz, figures, motif_check.json)."),
        click.option("--id", "ids", multiple=True, help="Only these record ids (repeatable)."),
        click.option("--limit", type=int, default=None, help="Only the first N records."),
        click.option("--positives-only", is_flag=True, help="Only records labelled 1."),
        click.option("--task", default=None, help="The task to explain (multi-task models; default: the first)."),
        click.option("--output", type=click.Choice(["logit", "prob"]), default="logit", show_default=True,
                     help="Explain the logit (does not saturate) or the probability."),
        click.option("--motif", default=None, help="Known motif to check against: CTCF, a JASPAR file or an IUPAC consensus."),
        click.option("--window", type=int, default=20, show_default=True, help="Important-window width without --motif."),
        click.option("--plot", type=int, default=1, show_default=True, help="Figures for the first N records."),
        click.option("--batch-size", type=int, default=1024, show_default=True, help="Mutants (or sequences) per model call."),
        on_invalid_option,
        quiet_option,
    ]):
        func = option(func)
    return func


def _select(data, ids, limit, positives_only):
    import numpy as np

    from ..core.errors import InputError

    keep = np.arange(len(data))
    if ids:
        where = {i: k for k, i in enumerate(data.ids)}
        missing = [i for i in ids if i not in where]
        if missing:
            raise InputError(f"no record(s) {missing}", source=data.source)
        keep = np.asarray([where[i] for i in ids])
    if positives_only:
        if data.labels is None:
            raise InputError("--positives-only needs labels", source=data.source)
        keep = keep[data.labels[keep] == 1]
    if limit is not None:
        keep = keep[:limit]
    if not len(keep):
        raise InputError("no records selected", source=data.source)
    return data.take(keep)


def attributions(trained, x, method: str, *, output: str = "logit", task: str | None = None,
                 batch_size: int = 1024, times_input: bool = False, progress: bool = False):
    """``(N, L, 4)`` ISM effects or input gradients of one task's ``output`` of a trained DNA model."""
    import jax

    from ..core.errors import InputError
    from ..dna import make_predict
    from ..interpret import input_gradients, saturation_mutagenesis

    if task is not None and task not in trained.tasks:
        raise InputError(f"the model has no task {task!r}; its tasks are {list(trained.tasks)}")
    column = trained.tasks.index(task) if task is not None else 0
    full = make_predict(trained.model, trained.state, output=output)
    predict = lambda b: full(b)[:, column]  # noqa: E731
    if method == "ism":
        return saturation_mutagenesis(jax.jit(predict), x, batch_size=batch_size, progress=progress)
    return input_gradients(predict, x, times_input=times_input, batch_size=min(batch_size, 256))


def _run(method, run, file, out, ids, limit, positives_only, task, output, motif, window, plot, batch_size,
         on_invalid, quiet, times_input=False) -> int:
    from ..dna import check_length, load_model, one_hot
    from ..interpret import resolve_motif, write_explanations

    trained = load_model(run)
    data = _select(read_tf_file(file, on_invalid, quiet), ids, limit, positives_only)
    x = one_hot(data.sequences, ids=data.ids, source=data.source)
    check_length(trained, x, data.source)
    kwargs = dict(output=output, task=task, batch_size=batch_size)
    ism = attributions(trained, x, "ism", progress=show_progress(quiet), **kwargs) if method == "ism" else None
    # the ISM figures also show gradient x input: one backward pass per sequence, cheap next to ISM
    grads = attributions(trained, x, "saliency", times_input=times_input, **kwargs)
    summary = write_explanations(out, data.ids, data.sequences, x, ism=ism, gradients=grads,
                                 motif=resolve_motif(motif) if motif else None, plot=plot, window=window,
                                 title=f"{method} ({output}, {task or trained.tasks[0]})")
    if not quiet:
        if "motif" in summary:
            m = summary["motif"]
            err_console.print(f"{m['name']} match inside the important window: {m['agree']} of {m['of']} records")
        err_console.print(f"[bold]wrote[/bold] {out}: attributions of {len(data)} records, {len(summary['figures'])} figure(s)")
    return 0


@click.command("ism")
@_options
def ism_command(**kwargs) -> int:
    """In-silico saturation mutagenesis of RUN on the sequences in FILE (batched, memory-bounded)."""
    return _run("ism", **kwargs)


@click.command("saliency")
@_options
@click.option("--times-input", is_flag=True, help="Store gradient x input instead of the raw gradient.")
def saliency_command(**kwargs) -> int:
    """Input gradients (saliency) of RUN on the sequences in FILE."""
    return _run("saliency", **kwargs)
