"""The HTML report of a graph run: metrics over seeds, learning curves, score histograms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import read_json
from ..core.npzfile import read_npz
from ..report import Report, learning_curves, new_figure, seconds_text

__all__ = ["score_histogram", "write_report"]

CURVE_METRICS = ("hits@20", "hits@50", "hits@100", "mrr", "auc")


def score_histogram(pos: np.ndarray, neg: np.ndarray, *, k: int = 20, bins: int = 60) -> Any:
    """Histograms of positive and negative pair scores, with the K-th best negative marked
    (positives right of that line count for Hits@K)."""
    fig, ax = new_figure(width=7, height=3.4)
    lo, hi = float(min(pos.min(), neg.min())), float(max(pos.max(), neg.max()))
    edges = np.linspace(lo, hi, bins + 1)
    ax.hist(neg, bins=edges, alpha=0.6, density=True, label=f"negatives ({len(neg):,})", color="#d62728")
    ax.hist(pos, bins=edges, alpha=0.6, density=True, label=f"positives ({len(pos):,})", color="#1f77b4")
    if len(neg) >= k:
        kth = float(np.partition(neg, -k)[-k])
        ax.axvline(kth, color="black", linestyle="--", label=f"{k}th best negative")
    ax.set_xlabel("score (logit)")
    ax.set_ylabel("density")
    ax.legend(loc="best")
    return fig


def _history(seed_dir: Path) -> list[dict[str, Any]]:
    path = seed_dir / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def write_report(run_dir: str | Path) -> Path:
    """Write ``RUN/report.html`` from the files of a finished run (``config.json``, ``result.json``, ``train/``)."""
    run_dir = Path(run_dir)
    record = read_json(run_dir / "config.json")
    summary = read_json(run_dir / "result.json")
    info, data = record["info"], record["data"]
    page = Report(f"link prediction: {Path(info['source']).name}")
    page.text(f"{data['num_nodes']:,} nodes, {data['num_edges']:,} training edges; validation: {info['valid']}.")
    if summary["valid"]:
        one = len(summary["seeds"]) == 1  # no spread to show: n/a, not a "± 0.0000"
        rows = [{"metric": k, "mean": v["mean"], "std": None if one else v["std"],
                 "per seed": ", ".join(f"{x:.4f}" for x in v["values"])} for k, v in summary["valid"].items()]
        page.heading("validation metrics (best epoch of each seed)").table(rows)
    page.text(f"median epoch: {seconds_text(summary['epoch_seconds_median'])} wall, "
              f"{seconds_text(summary.get('epoch_cpu_seconds_median', float('nan')))} CPU; peak memory "
              f"{summary['peak_rss_mb']:.0f} MiB", note=True)
    kept = {r.get("seed"): r.get("best_step") for r in summary.get("per_seed", [])}
    for seed in summary["seeds"]:
        seed_dir = run_dir / "train" / f"seed-{seed}"
        history = _history(seed_dir)
        if history:
            names = [m for m in CURVE_METRICS if any(m in r for r in history)]
            page.heading(f"seed-{seed}").figure(learning_curves(history, metrics=names, best_step=kept.get(seed)),
                                                caption="learning curves (dashed green: the step of the kept model, "
                                                        "best validation Hits@20)")
        scores = seed_dir / "valid_scores.npz"
        if scores.exists():
            z = read_npz(scores)
            page.figure(score_histogram(z["pos"], z["neg"]), caption="validation scores of the best model")
    groups = {group: {key: value for key, value in values.items() if key != "num_nodes"}  # the data sets it: line 1
              for group, values in record["settings"].items()}
    page.settings({**groups, "data": info["source"], "data digest": data["digest"][:16],
                   "validation": info["valid"] or "-"})
    return page.write(run_dir / "report.html")
