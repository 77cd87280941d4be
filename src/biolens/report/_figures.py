"""Figures shared by every domain (matplotlib, Agg backend)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["learning_curves", "new_figure", "roc_pr_curves"]

_KEPT = "#2da44e"  # the kept (restored) step, in every panel
_LINES = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#7f7f7f"]
_BOOKKEEPING = ("seconds", "_s", "rss_mb")  # timings and memory logged beside the metrics: not curves


def new_figure(*, width: float | int = 6.0, height: float | int = 3.6, ncols: int = 1, nrows: int = 1) -> tuple[Any, Any]:
    """A figure and axes from matplotlib's object API (no global pyplot state, Agg backend)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=nrows == 1)
    return fig, axes


def _mark_kept(ax: Any, rows: Sequence[dict[str, Any]], name: str, kept: int | None) -> None:
    """A vertical line at the kept step and a ring on the value there."""
    if kept is None:
        return
    ax.axvline(kept, color=_KEPT, linestyle="--", linewidth=1.2)
    at = [r[name] for r in rows if r.get("step") == kept and name in r]
    if at and isinstance(at[-1], (int, float)) and math.isfinite(at[-1]):
        ax.plot([kept], [at[-1]], "o", markersize=9, markerfacecolor="none", markeredgecolor=_KEPT, markeredgewidth=1.8)


def learning_curves(history: Sequence[dict[str, Any]], *, metrics: Sequence[str] | None = None,
                    best_step: int | None = None) -> Any:
    """Training loss and validation metrics against step, from ``fit``'s history / metrics.jsonl.

    The losses share the first panel; each validation metric gets a small panel of its own (its
    own scale: several metrics never overlap in one), and ``best_step`` -- the step whose model
    was kept -- is a dashed green line in every panel, its value ringed. Legends sit below the
    panels, never on the data.
    """
    train = [r for r in history if r.get("split") == "train" and "loss" in r]
    val = [r for r in history if r.get("split") == "val"]
    names = list(metrics or [k for k in (val[0] if val else {}) if k not in ("step", "epoch", "split")
                             and not k.endswith(_BOOKKEEPING)])
    names = [n for n in names if n != "loss" and any(isinstance(r.get(n), (int, float)) for r in val)]
    ncols = min(4, 1 + len(names))
    nrows = math.ceil((1 + len(names)) / ncols)
    fig, axes = new_figure(width=3.4 * ncols if ncols > 2 else 10, height=2.9 * nrows + 0.5, ncols=ncols, nrows=nrows)
    flat = list(axes.ravel()) if hasattr(axes, "ravel") else [axes]
    ax_loss = flat[0]
    if train:
        ax_loss.plot([r["step"] for r in train], [r["loss"] for r in train], label="train loss", color="#1f77b4")
    val_loss = [r for r in val if "loss" in r]
    if val_loss:
        ax_loss.plot([r["step"] for r in val_loss], [r["loss"] for r in val_loss], "o-", markersize=3,
                     label="validation loss", color="#d62728")
        _mark_kept(ax_loss, val_loss, "loss", best_step)
    elif best_step is not None:
        ax_loss.axvline(best_step, color=_KEPT, linestyle="--", linewidth=1.2)
    ax_loss.set_title("loss", fontsize=10)
    ax_loss.set_xlabel("step")
    for ax, name in zip(flat[1:], names, strict=False):
        rows = [r for r in val if isinstance(r.get(name), (int, float))]
        ax.plot([r["step"] for r in rows], [r[name] for r in rows], "o-", markersize=3, color="#6f42c1")
        _mark_kept(ax, rows, name, best_step)
        ax.set_title(f"validation {name}", fontsize=10)
        ax.set_xlabel("step")
    for ax in flat[1 + len(names):]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D

    handles, labels = ax_loss.get_legend_handles_labels()
    if best_step is not None:
        handles.append(Line2D([], [], color=_KEPT, linestyle="--"))
        labels.append(f"kept model: step {best_step}")
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=9)
    return fig


def roc_pr_curves(scores: Mapping[str, tuple[Any, Any]]) -> Any:
    """ROC (with the chance diagonal) and precision-recall (with the positive rate, chance) curves
    of binary scores, one line per entry of ``scores`` (name -> ``(y_true, y_score)``), each
    labelled with its auROC / auPRC. Legends sit below the panels."""
    import numpy as np

    from ..core import metrics as M

    fig, (ax_roc, ax_pr) = new_figure(width=10, height=4.6, ncols=2)
    ax_roc.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1)
    for k, (name, (y, p)) in enumerate(scores.items()):
        y, p = np.asarray(y).astype(bool), np.asarray(p, dtype=np.float64)
        colour = _LINES[k % len(_LINES)]
        fpr, tpr = M.roc_curve(y, p)
        ax_roc.plot(fpr, tpr, color=colour, label=f"{name}: auROC {M.auroc(y, p):.3f}")
        recall, precision = M.pr_curve(y, p)
        ax_pr.step(recall, precision, where="post", color=colour, label=f"{name}: auPRC {M.average_precision(y, p):.3f}")
        ax_pr.axhline(y.mean(), color=colour, linestyle=":", linewidth=1)
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01), title="ROC")
    ax_pr.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.01),
              title="precision-recall (dotted: positive rate)")
    for ax in (ax_roc, ax_pr):
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False, fontsize=8, ncols=1)
    return fig
