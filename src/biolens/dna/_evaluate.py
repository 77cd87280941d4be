"""Evaluation of a trained model on a labelled file, and prediction tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import CheckpointMismatchError, InputError
from ._data import TFData
from ._encoding import one_hot
from ._prepare import LabelledArrays, label_arrays, with_shuffled_negatives
from ._train import TrainedModel, metric_intervals, predict_proba, task_metrics

__all__ = ["DnaEvaluation", "check_length", "evaluate", "evaluate_data", "prediction_columns", "write_evaluation_report"]


def check_length(trained: TrainedModel, x: np.ndarray, source: str) -> None:
    """Refuse sequences whose length differs from the model's (it flattens a fixed window)."""
    want = trained.config.seq_len
    if x.shape[1] != want:
        raise CheckpointMismatchError(
            f"{source}: sequences have length {x.shape[1]}, but the model was trained on length {want} "
            "(trim or window the sequences to that length)")


def _arrays(trained: TrainedModel, data: TFData, task: str | None) -> tuple[LabelledArrays, tuple[str, ...], list[int]]:
    tasks = trained.tasks
    if task is not None:
        if task not in tasks:
            raise InputError(f"the model has no task {task!r}; its tasks are {list(tasks)}")
        single = TFData(data.ids, data.sequences, data.labels, ("",) * len(data), data.subsets, data.source, data.report)
        return label_arrays(single, (task,)), (task,), [tasks.index(task)]
    if len(tasks) == 1:
        return label_arrays(data, tasks), tasks, [0]
    return label_arrays(data, tasks), tasks, list(range(len(tasks)))


@dataclass(frozen=True)
class DnaEvaluation:
    """What :func:`evaluate` measured: table rows (per task: n, positives, loss and auROC, auPRC,
    accuracy with ``_low``/``_high`` bootstrap bounds), notes (what was done to the data) and the
    scores behind them (task -> ``(labels, probabilities)``, for the ROC and PR curves)."""

    rows: list[dict[str, Any]]
    notes: dict[str, Any]
    scores: dict[str, tuple[np.ndarray, np.ndarray]] = field(repr=False)


def evaluate(trained: TrainedModel, data: TFData, *, task: str | None = None, n_resamples: int = 1000,
             seed: int = 0, subset: str | None = None) -> DnaEvaluation:
    """Per-task auROC, auPRC, accuracy (bootstrap 95% intervals) and loss on ``data``.

    A file of positives only gets one dinucleotide-shuffled negative per record (``seed``), as in
    training; ``subset`` keeps only records of that subset (e.g. the book CSV's ``test``).
    """
    notes: dict[str, Any] = {"source": data.source}
    if subset is not None:
        data = data.take(np.flatnonzero(np.asarray(data.subsets) == subset))
        if not len(data):
            raise InputError(f"no records of subset {subset!r}", source=data.source)
        notes["subset"] = subset
    if data.only_positives:
        data = with_shuffled_negatives(data, seed)
        notes["negatives"] = f"the file holds only positives: one dinucleotide shuffle each was added (seed {seed})"
    named = sorted({t for t in data.tfs if t})
    if len(trained.tasks) == 1 and task is None and named and named != list(trained.tasks):
        notes["transfer"] = (f"the file's records are labelled for {', '.join(named)}; they are scored with the "
                             f"model's only task {trained.tasks[0]}")
    arrays, tasks, columns = _arrays(trained, data, task)
    check_length(trained, arrays.x, data.source)
    logits = predict_proba(trained.model, trained.state, arrays.x, output="logit")[:, columns]
    rows, scores = [], {}
    for i, name in enumerate(tasks):
        keep = arrays.mask[:, i] > 0
        y, lg = arrays.y[keep, i], logits[keep, i]
        if not keep.any() or len(np.unique(y)) < 2:
            continue
        prob = 1 / (1 + np.exp(-lg))
        scores[name] = (y, prob)
        intervals = metric_intervals(y, prob, n_resamples=n_resamples, seed=seed)
        loss = task_metrics(y, np.ones_like(y), lg)["loss"]
        rows.append({"task": name, "n": int(keep.sum()), "positives": int(y.sum()), "loss": loss, **{
            f"{k}{suffix}": v[part] for k, v in intervals.items()
            for suffix, part in (("", "value"), ("_low", "low"), ("_high", "high"))}})
    if not rows:
        raise InputError("no task has both bound and unbound records to evaluate", source=data.source)
    return DnaEvaluation(rows, notes, scores)


def evaluate_data(trained: TrainedModel, data: TFData, *, task: str | None = None, n_resamples: int = 1000,
                  seed: int = 0, subset: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """:func:`evaluate`'s table rows and notes."""
    ev = evaluate(trained, data, task=task, n_resamples=n_resamples, seed=seed, subset=subset)
    return ev.rows, ev.notes


def write_evaluation_report(path: str | Path, evaluation: DnaEvaluation, *, run: str | Path | None = None,
                            best_step: int | None = None) -> Path:
    """An HTML page of an evaluation: notes, the metric table, ROC and precision-recall curves
    per task and, given the ``run`` folder, its learning curves."""
    from ..report import Report, learning_curves, roc_pr_curves

    page = Report(f"evaluation of {run}" if run is not None else "DNA model evaluation")
    for key, note in evaluation.notes.items():
        page.text(f"{key}: {note}", note=True)
    names = {"auroc": "auROC", "auprc": "auPRC", "accuracy": "accuracy"}
    rows = [{"task": r["task"], "records": r["n"], "bound": r["positives"],
             **{f"{label} [95% CI]": f"{r[m]:.3f} [{r[m + '_low']:.3f}, {r[m + '_high']:.3f}]" for m, label in names.items()},
             "loss": f"{r['loss']:.3f}"} for r in evaluation.rows]
    page.table(rows, caption="metrics (95% bootstrap intervals)")
    if evaluation.scores:
        page.figure(roc_pr_curves(evaluation.scores), caption="ROC and precision-recall curves per task")
    history = Path(run) / "train" / "metrics.jsonl" if run is not None else None
    if history is not None and history.exists():
        lines = [json.loads(ln) for ln in history.read_text().splitlines() if ln.strip()]
        page.figure(learning_curves(lines, best_step=best_step),
                    caption="learning curves of the run (dashed green: the step of the kept model)")
    return page.write(path)


def prediction_columns(trained: TrainedModel, data: TFData, *, task: str | None = None,
                       batch_size: int = 512) -> dict[str, np.ndarray]:
    """Columns of a prediction table in input order: ``id``, ``p_bound`` (the chosen or only
    task), ``p_bound_<TF>`` per task of a multi-task model, and ``label`` when the file has one."""
    x = one_hot(data.sequences, ids=data.ids, source=data.source)
    check_length(trained, x, data.source)
    prob = predict_proba(trained.model, trained.state, x, batch_size=batch_size)
    tasks = trained.tasks
    if task is not None and task not in tasks:
        raise InputError(f"the model has no task {task!r}; its tasks are {list(tasks)}")
    main = tasks.index(task) if task is not None else 0
    cols: dict[str, np.ndarray] = {"id": np.asarray(data.ids), "p_bound": prob[:, main]}
    if len(tasks) > 1:
        cols.update({f"p_bound_{t}": prob[:, i] for i, t in enumerate(tasks)})
    if data.labels is not None:
        cols["label"] = data.labels
    return cols
