"""Figures shared by every domain (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["learning_curves", "new_figure"]


def new_figure(*, width: float | int = 6.0, height: float | int = 3.6, ncols: int = 1) -> tuple[Any, Any]:
    """A figure and axes from matplotlib's object API (no global pyplot state, Agg backend)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def learning_curves(history: Sequence[dict[str, Any]], *, metrics: Sequence[str] | None = None) -> Any:
    """Training loss and validation metrics against step, from ``fit``'s history / metrics.jsonl."""
    train = [r for r in history if r.get("split") == "train" and "loss" in r]
    val = [r for r in history if r.get("split") == "val"]
    names = list(metrics or [k for k in (val[0] if val else {}) if k not in ("step", "epoch", "split")])
    fig, axes = new_figure(width=10, height=3.4, ncols=2)
    ax_loss, ax_val = axes
    if train:
        ax_loss.plot([r["step"] for r in train], [r["loss"] for r in train], label="train loss", color="#1f77b4")
    if val and "loss" in val[0]:
        ax_loss.plot([r["step"] for r in val], [r["loss"] for r in val], "o-", label="validation loss", color="#d62728")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    if train or (val and "loss" in val[0]):
        ax_loss.legend(loc="best")
    for name in (n for n in names if n != "loss"):
        ax_val.plot([r["step"] for r in val], [r[name] for r in val], "o-", label=name)
    ax_val.set_xlabel("step")
    ax_val.set_ylabel("validation metric")
    if any(n != "loss" for n in names):
        ax_val.legend(loc="best")
    return fig
