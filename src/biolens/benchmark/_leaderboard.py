"""The leaderboard: each model's primary metric per task with its 95% bootstrap interval, its
*delta* over the task's reference baseline, and its mean delta across tasks.

Definitions (also written into ``leaderboard.json`` and the report):

* **reference baseline**: ``composition`` -- amino-acid composition + logistic regression
  (ridge for regression), fitted with scikit-learn on the cell's training split: the solubility
  blog's first model. Majority-class and proportional guessing are shown beside it.
* **delta** on a task: model minus reference on the primary metric, on the same test proteins;
  its interval is a paired bootstrap (both scored on each resample of the test proteins).
* **mean delta**: the mean of a model's deltas over the tasks it has; its interval is the
  normal approximation ``mean +- 1.96 sqrt(sum sd_t^2) / T`` from the per-task bootstrap
  standard deviations (the test sets are independent).
* **better / worse**: tasks whose delta interval lies wholly above / below zero.
* **rank, mean rank, MRR**: on each task the models are ranked by the primary metric (1 = best;
  ties share their mean rank); a model's mean rank and mean reciprocal rank are over the tasks it
  has (as PEER ranks methods).
* **vs best**: on each task, every other model minus the task's best model on the same test
  proteins, with a paired bootstrap interval and a two-sided p-value (normal approximation from the
  bootstrap SD); "as good as the best" where that interval reaches zero.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from ..core.metrics import rankdata
from ..proteins.supervised import TaskResult, TestPredictions, paired_delta

__all__ = ["DEFINITIONS", "METRIC_NAMES", "REFERENCE", "Entry", "Leaderboard", "Row", "Score", "TaskColumn", "build_leaderboard",
           "mean_delta", "verdict"]

REFERENCE = "composition"
SHOWN_BASELINES = ("composition", "majority", "proportional", "coin_flip")
METRIC_NAMES = {"auroc": "auROC", "accuracy": "accuracy", "fmax": "Fmax", "spearman": "Spearman", "q3": "Q3"}
_NAN = float("nan")
#: The leaderboard's terms, as written into leaderboard.json and the report.
DEFINITIONS = {
    "reference": "composition: amino-acid composition + logistic regression (ridge for regression), scikit-learn, "
                 "fitted on the cell's training split (the solubility blog's first model)",
    "delta": "model minus reference on the primary metric, same test proteins; paired bootstrap 95% interval",
    "mean_delta": "mean of the per-task deltas; interval: normal approximation from the per-task bootstrap SDs",
    "better_worse": "tasks whose delta interval lies wholly above / below zero",
    "rank": "per task, models ranked by the primary metric (1 = best, ties share the mean rank); mean rank and "
            "mean reciprocal rank (MRR) over the tasks a model has",
    "vs_best": "model minus the task's best model on the same test proteins: paired bootstrap 95% interval and "
               "two-sided p-value (normal approximation); as good as the best where the interval reaches zero",
}


@dataclass(frozen=True)
class Score:
    """A value with a 95% interval (``nan`` where unknown) and the standard deviation behind it."""

    value: float
    low: float = _NAN
    high: float = _NAN
    std: float = _NAN

    @classmethod
    def of(cls, d: dict[str, float] | None) -> Score:
        if d is None:
            return cls(_NAN)
        return cls(float(d["value"]), float(d.get("low", _NAN)), float(d.get("high", _NAN)), float(d.get("std", _NAN)))


@dataclass(frozen=True)
class Entry:
    """One row's result on one task: the primary metric, the delta over the reference, and for models
    the rank among the models and the paired difference from the task's best model (``nan`` for the
    best itself, or where the test predictions are not at hand)."""

    score: Score
    delta: Score
    rank: float = _NAN
    best: bool = False  # the task's best model (ties: each of them)
    vs_best: Score = Score(_NAN)
    p_vs_best: float = _NAN


@dataclass
class Row:
    """A model (or a baseline) across tasks."""

    name: str
    kind: str  # "model" or "baseline"
    entries: dict[str, Entry]
    mean_delta: Score
    n_tasks: int
    better: int = 0
    worse: int = 0
    rank: int | None = None
    mean_rank: float = _NAN
    mrr: float = _NAN
    best_on: int = 0  # tasks where this model is the best
    as_good_as_best: int = 0  # tasks where it is the best or its vs-best interval reaches zero
    compared: int = 0  # tasks with a vs-best comparison (or the best there)
    encoder: str = ""
    head: str = ""


@dataclass(frozen=True)
class TaskColumn:
    name: str
    metric: str
    n_test: int


@dataclass
class Leaderboard:
    """Models ranked by mean delta, the baselines below them."""

    tasks: list[TaskColumn]
    models: list[Row]
    baselines: list[Row]
    reference: str = REFERENCE
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[Row]:
        return self.models + self.baselines

    def to_json(self) -> dict[str, Any]:
        def clean(x: Any) -> Any:
            if isinstance(x, float):
                return None if math.isnan(x) else x
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, list):
                return [clean(v) for v in x]
            return x

        return clean({"reference": self.reference, "definitions": DEFINITIONS, "tasks": [asdict(t) for t in self.tasks],
                      "models": [asdict(r) for r in self.models], "baselines": [asdict(r) for r in self.baselines],
                      "notes": list(self.notes)})

    def to_csv(self) -> str:
        """One line per model (ranked) and per baseline; per task: metric, interval, delta and its interval."""
        head = ["rank", "kind", "model", "encoder", "head", "mean_delta", "mean_delta_low", "mean_delta_high", "tasks",
                "better", "worse", "mean_rank", "mrr", "best_on", "as_good_as_best"]
        for t in self.tasks:
            head += [f"{t.name}.{t.metric}", f"{t.name}.low", f"{t.name}.high", f"{t.name}.delta",
                     f"{t.name}.delta_low", f"{t.name}.delta_high", f"{t.name}.rank", f"{t.name}.vs_best",
                     f"{t.name}.vs_best_low", f"{t.name}.vs_best_high", f"{t.name}.p_vs_best"]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(head)
        for r in self.rows:
            model = r.kind == "model"
            line = [r.rank or "", r.kind, r.name, r.encoder, r.head, *_fmt3(r.mean_delta), r.n_tasks, r.better, r.worse,
                    *([_g(r.mean_rank), _g(r.mrr), r.best_on, r.as_good_as_best] if model else [""] * 4)]
            for t in self.tasks:
                e = r.entries.get(t.name)
                line += ([*_fmt3(e.score), *_fmt3(e.delta), _g(e.rank), *_fmt3(e.vs_best), _g(e.p_vs_best)] if e
                         else [""] * 11)
            writer.writerow(line)
        return buf.getvalue()


def _g(v: float) -> str:
    return "" if math.isnan(v) else f"{v:.6g}"


def _fmt3(s: Score) -> list[str]:
    return [_g(v) for v in (s.value, s.low, s.high)]


def mean_delta(deltas: Sequence[Score]) -> Score:
    """The mean of the finite deltas with the interval of the module docstring (``nan`` when a
    delta lacks a standard deviation)."""
    finite = [d for d in deltas if not math.isnan(d.value)]
    if not finite:
        return Score(_NAN)
    mean = sum(d.value for d in finite) / len(finite)
    stds = [d.std for d in finite]
    if any(math.isnan(s) for s in stds):
        return Score(mean)
    se = math.sqrt(sum(s * s for s in stds)) / len(finite)
    return Score(mean, mean - 1.96 * se, mean + 1.96 * se, se)


def _model_row(name: str, encoder: str, head: str, cells: dict[str, TaskResult]) -> Row:
    entries = {}
    for task, r in cells.items():
        ref = r.baselines.get(REFERENCE)
        delta = Score.of(ref.get("delta")) if ref and "delta" in ref else Score(r.deltas.get(REFERENCE, _NAN))
        entries[task] = Entry(Score.of(r.metrics[r.primary]), delta)
    deltas = [e.delta for e in entries.values()]
    return Row(name=name, kind="model", entries=entries, mean_delta=mean_delta(deltas),
               n_tasks=sum(not math.isnan(d.value) for d in deltas), better=sum(d.low > 0 for d in deltas),
               worse=sum(d.high < 0 for d in deltas), encoder=encoder, head=head)


def _baseline_rows(first: dict[str, TaskResult]) -> list[Row]:
    rows = []
    for name in SHOWN_BASELINES:
        entries = {}
        for task, r in first.items():
            if name not in r.baselines or REFERENCE not in r.baselines:
                continue
            score = Score.of(r.baselines[name]["metrics"][r.primary])
            if math.isnan(score.value):  # does not apply to this task (majority class on regression): n/a
                continue
            ref = r.baselines[REFERENCE]["metrics"][r.primary]["value"]
            delta = Score(0.0, 0.0, 0.0, 0.0) if name == REFERENCE else Score(score.value - ref)
            entries[task] = Entry(score, delta)
        if entries:
            deltas = [e.delta for e in entries.values()]
            rows.append(Row(name=name, kind="baseline", entries=entries, mean_delta=mean_delta(deltas),
                            n_tasks=sum(not math.isnan(d.value) for d in deltas), head=name))
    return rows


def build_leaderboard(cells: Sequence[tuple[str, str, str, TaskResult]],
                      predictions: Mapping[tuple[str, str, str], TestPredictions] | None = None, *,
                      n_resamples: int = 200, seed: int = 0) -> Leaderboard:
    """The leaderboard of ``(encoder, head, task, result)`` cells (task: the benchmark's task name).

    Baselines are read from the first cell of each task; cells of a task whose reference
    baseline differs (another test set) are noted. ``predictions`` (by ``(encoder, head, task)``)
    gives the paired tests against each task's best model (``n_resamples`` bootstrap resamples).
    """
    tasks: dict[str, TaskColumn] = {}
    first: dict[str, TaskResult] = {}
    by_model: dict[tuple[str, str], dict[str, TaskResult]] = {}
    notes = []
    for encoder, head, task, r in cells:
        if task not in first:
            first[task] = r
            tasks[task] = TaskColumn(task, r.primary, int(r.counts.get("test", 0)))
        elif _reference_value(r) != _reference_value(first[task]) and not math.isnan(_reference_value(r)):
            notes.append(f"{task}: {encoder} + {head} was tested on other proteins than the first cell "
                         f"(its composition baseline differs); compare its delta, not its value")
        by_model.setdefault((encoder, head), {})[task] = r
    models = [_model_row(f"{e} + {h}", e, h, c) for (e, h), c in by_model.items()]
    models.sort(key=lambda r: -r.mean_delta.value if not math.isnan(r.mean_delta.value) else math.inf)
    for i, row in enumerate(models, 1):
        row.rank = i
    _rank_per_task(models, list(tasks))
    for task, r in first.items():
        notes += _versus_best(models, task, r.kind, r.primary, predictions or {}, n_resamples, seed)
    return Leaderboard(tasks=list(tasks.values()), models=models, baselines=_baseline_rows(first), notes=notes)


def _rank_per_task(models: list[Row], tasks: list[str]) -> None:
    """Each model's rank on each task (1 = best; ties share the mean rank), its mean rank and MRR."""
    for task in tasks:
        have = [r for r in models if task in r.entries and not math.isnan(r.entries[task].score.value)]
        values = np.array([r.entries[task].score.value for r in have])
        ranks = rankdata(-values) if have else []
        for row, rank in zip(have, ranks, strict=True):
            row.entries[task] = replace(row.entries[task], rank=float(rank),
                                        best=bool(row.entries[task].score.value == values.max()))
    for row in models:
        ranks = [e.rank for e in row.entries.values() if not math.isnan(e.rank)]
        if ranks:
            row.mean_rank = sum(ranks) / len(ranks)
            row.mrr = sum(1 / k for k in ranks) / len(ranks)


def _p_value(delta: Score) -> float:
    if math.isnan(delta.std):
        return _NAN
    if delta.std == 0:
        return 1.0 if delta.value == 0 else 0.0
    return math.erfc(abs(delta.value) / (delta.std * math.sqrt(2)))


def _versus_best(models: list[Row], task: str, kind: str, metric: str,
                 predictions: Mapping[tuple[str, str, str], TestPredictions], n_resamples: int, seed: int) -> list[str]:
    """Each model minus the task's best on the same test proteins (paired bootstrap); notes why not."""
    ranked = sorted((r for r in models if not math.isnan(r.entries.get(task, Entry(Score(_NAN), Score(_NAN))).rank)),
                    key=lambda r: r.entries[task].rank)
    if len(ranked) < 2:
        return []
    best = ranked[0]
    ours = predictions.get((best.encoder, best.head, task))
    if ours is None:
        return [f"{task}: no test predictions of {best.name} (a run from before they were saved): no paired test vs the best"]
    notes = []
    for row in ranked:
        if row.entries[task].best:  # the best, or tied with it
            row.best_on += 1
            row.as_good_as_best += 1
            row.compared += 1
            continue
        theirs = predictions.get((row.encoder, row.head, task))
        if theirs is None or theirs.ids != ours.ids:
            why = "no test predictions" if theirs is None else "other test proteins"
            notes.append(f"{task}: {row.name} has {why}: no paired test vs the best")
            continue
        d = Score.of(paired_delta(kind, ours.y_true, theirs.y_pred, ours.y_pred, ours.masks, metric=metric,
                                  n_resamples=n_resamples, seed=seed))
        row.entries[task] = replace(row.entries[task], vs_best=d, p_vs_best=_p_value(d))
        row.compared += 1
        if d.high >= 0:
            row.as_good_as_best += 1
    return notes


def verdict(row: Row, board: Leaderboard) -> str:
    """One line the intervals support: tasks better/worse than the reference, and where the model
    is (as good as) the best."""
    n = row.n_tasks
    parts = [f"better than {board.reference} on {row.better} of {n} task{'s' * (n != 1)}, worse on {row.worse}"]
    if row.compared:
        best = f"best on {row.best_on}" + ("" if row.as_good_as_best == row.best_on else
                                           f", as good as the best on {row.as_good_as_best}")
        parts.append(f"{best} of {row.compared} (paired tests)")
    if not math.isnan(row.mean_rank):
        parts.append(f"mean rank {row.mean_rank:.1f}")
    return "; ".join(parts)


def _reference_value(r: TaskResult) -> float:
    ref = r.baselines.get(REFERENCE)
    return float(ref["metrics"][r.primary]["value"]) if ref else _NAN


def _num(x: float, fmt: str) -> str:
    return "n/a" if math.isnan(x) else format(x, fmt)


def _cell_text(e: Entry | None, baseline: bool) -> str:
    if e is None:
        return "n/a"
    s, d = e.score, e.delta
    top = f"{'*' if e.best else ''}{_num(s.value, '.3f')} ({_num(d.value, '+.3f')})"
    if baseline and math.isnan(s.low):
        return top
    colour = "green" if d.low > 0 else ("red" if d.high < 0 else "")
    top = f"[{colour}]{top}[/{colour}]" if colour else top
    return f"{top}\n[dim]{_num(s.low, '.2f')}–{_num(s.high, '.2f')}[/dim]"


def rich_table(board: Leaderboard, *, title: str = "leaderboard") -> Any:
    """The leaderboard as a rich table: per task the metric (delta over the reference) and the
    metric's 95% interval below; green/red: the delta's interval is above/below zero."""
    from rich.table import Table

    table = Table(title=title, caption=f"(Δ): minus {board.reference} + logistic/ridge on the same test proteins; "
                                       "mean Δ: mean over tasks with its ≈95% interval; *: the task's best model; "
                                       "rank: mean rank over tasks (MRR below)", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("model")
    for t in board.tasks:
        table.add_column(f"{t.name}\n{METRIC_NAMES.get(t.metric, t.metric)} (n={t.n_test})", justify="right")
    table.add_column("mean Δ", justify="right")
    table.add_column("better/worse", justify="right")
    table.add_column("rank", justify="right")
    for r in board.rows:
        baseline = r.kind == "baseline"
        mean = _num(r.mean_delta.value, "+.3f") + ("" if math.isnan(r.mean_delta.low) else
                                                   f"\n[dim]{r.mean_delta.low:+.2f}–{r.mean_delta.high:+.2f}[/dim]")
        table.add_row(str(r.rank or ""), f"[dim]baseline: {r.name}[/dim]" if baseline else r.name,
                      *[_cell_text(r.entries.get(t.name), baseline) for t in board.tasks], mean,
                      "" if baseline else f"{r.better}/{r.worse}",
                      "" if baseline or math.isnan(r.mean_rank) else f"{r.mean_rank:.1f}\n[dim]{r.mrr:.2f}[/dim]",
                      style="dim" if baseline else None)
    return table
