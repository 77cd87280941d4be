"""The run folder's ``predictions.csv`` and ``report.html`` (figures from test predictions)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from ...core import metrics as M
from ...core.files import atomic_write_text
from ...report import Report, learning_curves, new_figure
from ..tasks import Task

__all__ = ["prediction_table", "write_predictions", "write_report"]


def prediction_table(task: Task, ids: list[str], pred: Any, *, truth: Any = None, splits: Any = None,
                     masks: Any = None, threshold: float = 0.5) -> str:
    """CSV text: ``id`` [``split``, ``true``], ``prediction`` and, for classification, ``p_<label>``
    (binary: the label is the positive one when ``p >= threshold``, the run's chosen threshold)."""
    spec, names = task.spec, list(task.label_names)
    head = ["id"] + (["split"] if splits is not None else []) + (["true"] if truth is not None else []) + ["prediction"]
    if spec.classification and not spec.per_residue:  # one probability per class / label
        head += [f"p_{n}" for n in names]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(head)
    for i, rid in enumerate(ids):
        row = [rid] + ([splits[i]] if splits is not None else [])
        if truth is not None:
            row.append(spec.label_text(truth[i], names))
        row += spec.prediction_cells(pred[i], names, threshold)
        writer.writerow(row)
    return buf.getvalue()


def write_predictions(path: Path, task: Task, ids, pred, truth, splits, threshold: float = 0.5) -> None:
    atomic_write_text(path, prediction_table(task, ids, pred, truth=truth, splits=splits, threshold=threshold))


def _baseline_figure(result) -> Any:
    primary = result.primary
    rows = [("model", result.metrics[primary])] + [(k, b["metrics"][primary]) for k, b in result.baselines.items()]
    fig, ax = new_figure(width=6.5, height=3.2)
    vals = np.array([r[1]["value"] for r in rows], dtype=float)
    lo = np.nan_to_num(vals - np.array([r[1]["low"] for r in rows], dtype=float))
    hi = np.nan_to_num(np.array([r[1]["high"] for r in rows], dtype=float) - vals)
    colors = ["#1f77b4"] + ["#bbbbbb"] * (len(rows) - 1)
    ax.bar([r[0] for r in rows], np.nan_to_num(vals), yerr=[lo, hi], color=colors, capsize=4)
    ax.set_ylabel(f"test {primary}")
    ax.set_title("model vs baselines (95% intervals)")
    return fig


def _per_label(task: Task, y, pred) -> tuple[list[str], list[float], str] | None:
    names, figures = list(task.label_names), task.spec.figures
    if "per_label_ap" in figures:
        y = np.asarray(y).astype(np.int64)
        support = y.sum(0)
        # rare labels reach AP 1 by luck: rank the labels with at least 5 test proteins when there are enough
        floor = 5 if (support >= 5).sum() >= 10 else 1
        scores = [(f"{names[j]} (n={support[j]})", M.average_precision(y[:, j], pred[:, j]))
                  for j in range(y.shape[1]) if support[j] >= floor]
        what = f"average precision per label (test; labels with >= {floor} test proteins)"
    elif "per_class_f1" in figures:
        hard, y = np.asarray(pred).argmax(1), np.asarray(y)
        support = np.bincount(y, minlength=len(names))
        # a class with no test protein has no F1 (it would read as a bar of 0)
        scores = [(f"{n} (n={support[k]})", _f1(y == k, hard == k)) for k, n in enumerate(names) if support[k]]
        what = "F1 per class (test; classes with test proteins)"
    else:
        return None
    scores = sorted(scores, key=lambda t: -t[1])[:20]
    return [s[0] for s in scores], [s[1] for s in scores], what


def _f1(t: np.ndarray, p: np.ndarray) -> float:
    tp = float((t & p).sum())
    return 2 * tp / max(t.sum() + p.sum(), 1)


def _bars(labels: list[str], values: list[float], what: str) -> Any:
    fig, ax = new_figure(width=7, height=max(2.5, 0.28 * len(labels) + 1))
    ax.barh(labels[::-1], values[::-1], color="#1f77b4")
    ax.set_xlabel(what)
    ax.set_xlim(0, 1)
    return fig


def _reliability(y, pred, calibration: dict[str, Any]) -> Any:
    from ...core.calibration import expected_calibration_error, reliability_curve

    curve = reliability_curve(np.asarray(y), np.asarray(pred))
    fig, ax = new_figure(width=4.5, height=4)
    ax.plot([0, 1], [0, 1], color="#999999", lw=1, ls="--", label="perfectly calibrated")
    ax.plot([c["mean_p"] for c in curve], [c["fraction_positive"] for c in curve], "o-", color="#1f77b4",
            label=f"model (ECE {expected_calibration_error(np.asarray(y), np.asarray(pred)):.3f})")
    ax.axvline(calibration.get("threshold", 0.5), color="#d62728", lw=1, label=f"threshold {calibration.get('threshold', 0.5):.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability (bin mean)")
    ax.set_ylabel("fraction positive")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def _confusion(task: Task, y, pred, masks, threshold: float = 0.5) -> Any:
    names, spec = list(task.label_names), task.spec
    if spec.single_output:  # P(positive) against the decision threshold
        cm, names = M.confusion_matrix(np.asarray(y), (np.asarray(pred) >= threshold).astype(int), 2), names
    elif not spec.per_residue:
        cm = M.confusion_matrix(np.asarray(y), np.asarray(pred).argmax(1), len(names))
    else:
        m = [np.ones(len(t), bool) for t in y] if masks is None else masks
        t = np.concatenate([np.asarray(a)[k] for a, k in zip(y, m, strict=True)])
        p = np.concatenate([np.asarray(a).argmax(-1)[k] for a, k in zip(pred, m, strict=True)])
        cm = M.confusion_matrix(t, p, len(names))
    used = np.flatnonzero(cm.sum(0) + cm.sum(1))  # a class neither true nor predicted is an empty row and column
    if 0 < len(used) < len(names):
        cm, names = cm[np.ix_(used, used)], [names[k] for k in used]
    fig, ax = new_figure(width=1.2 + 0.5 * len(names), height=1.0 + 0.45 * len(names))
    ax.imshow(cm / np.maximum(cm.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return fig


def _heatmaps(task: Task, y, pred) -> Any:
    if "scatter" in task.spec.figures:
        fig, ax = new_figure(width=4.5, height=4)
        ax.hist2d(np.asarray(y, float), np.asarray(pred, float), bins=40, cmap="viridis", cmin=1)
        ax.set_xlabel(f"true {task.label_names[0]}")
        ax.set_ylabel("predicted")
        return fig
    y, pred = np.asarray(y).astype(np.int64), np.asarray(pred)
    cols = np.argsort(-y.sum(0), kind="stable")[:20]
    rows = np.flatnonzero(y[:, cols].any(1))[:40]
    fig, axes = new_figure(width=10, height=4.2, ncols=2)
    for ax, mat, title in ((axes[0], y[np.ix_(rows, cols)], "true"), (axes[1], pred[np.ix_(rows, cols)], "predicted")):
        ax.imshow(mat, aspect="auto", cmap="magma", vmin=0, vmax=1)
        ax.set_title(f"{title} (40 test proteins x 20 most common labels)", fontsize=9)
        ax.set_xticks(range(len(cols)), [task.label_names[c] for c in cols], rotation=75, fontsize=6)
        ax.set_ylabel("protein")
    return fig


def _size_figure(points: list[dict[str, float | int]], primary: str) -> Any:
    fig, ax = new_figure(width=5, height=3.2)
    ax.plot([p["n_train"] for p in points], [p[primary] for p in points], "o-")
    ax.set_xscale("log")
    ax.set_xlabel("training proteins")
    ax.set_ylabel(f"test {primary}")
    return fig


def _metric_rows(result) -> list[dict[str, Any]]:
    rows = [{"model": "model", **{k: f"{v['value']:.3f} [{v['low']:.3f}, {v['high']:.3f}]" for k, v in result.metrics.items()}}]
    for name, b in result.baselines.items():
        rows.append({"model": name, **{k: f"{v['value']:.3f} [{v['low']:.3f}, {v['high']:.3f}]" for k, v in b["metrics"].items()}})
    return rows


def write_report(path: Path, task: Task, result, history, y_test, pred_test, masks_test, settings: dict, *,
                 best_step: int | None = None) -> None:
    """The run's HTML page (see the module docstring of :mod:`biolens.proteins.supervised`)."""
    page = Report(f"{task.name} / {result.encoder} / {result.head}")
    page.text(f"{task.description or task.kind} -- {task.kind}, {len(task.label_names)} label(s). Split: "
              + ", ".join(f"{k} {v}" for k, v in result.counts.items()))
    page.heading("test metrics (95% bootstrap intervals)").table(_metric_rows(result))
    page.text("; ".join(f"{k}: {b['method']}" for k, b in result.baselines.items()), note=True)
    page.figure(_baseline_figure(result), caption="model vs baselines")
    page.heading("training").figure(learning_curves(history, best_step=best_step),
                                    caption="learning curves (train loss, validation metrics; dashed green: the step "
                                            "of the kept model)")
    if len(result.size_curve) > 1:
        page.figure(_size_figure(result.size_curve, result.primary), caption="test metric vs training-set size")
    bars = _per_label(task, y_test, pred_test)
    if bars is not None:
        page.heading("per label").figure(_bars(*bars), caption=f"best 20: {bars[2]}")
    figures = task.spec.figures
    if "scatter" in figures or "label_heatmap" in figures:
        page.figure(_heatmaps(task, y_test, pred_test), caption="true vs predicted")
    if "confusion" in figures:
        threshold = (result.calibration or {}).get("threshold", 0.5)
        page.figure(_confusion(task, y_test, pred_test, masks_test, threshold), caption="confusion matrix (test; rows: true)")
    if "reliability" in figures and result.calibration:
        cal = result.calibration
        page.heading("calibration and threshold").text(
            f"Probabilities: {cal['method']} scaling fitted on the {cal['n_valid']} validation proteins "
            f"(a={cal['a']:.3f}, b={cal['b']:.3f}). Decision threshold {cal['threshold']:.3f}, chosen on validation "
            f"by {cal['rule'].replace('_', ' ')}; predictions and test metrics use it.")
        page.figure(_reliability(y_test, pred_test, cal), caption="reliability curve (test, calibrated probabilities)")
    if result.notes:
        page.heading("notes").table([{"note": n} for n in result.notes])
    page.settings(settings)
    page.write(path)
