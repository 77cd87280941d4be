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
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..proteins.supervised import TaskResult

__all__ = ["DEFINITIONS", "METRIC_NAMES", "REFERENCE", "Entry", "Leaderboard", "Row", "Score", "TaskColumn", "build_leaderboard",
           "mean_delta"]

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
    """One row's result on one task: the primary metric and the delta over the reference."""

    score: Score
    delta: Score


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
                "better", "worse"]
        for t in self.tasks:
            head += [f"{t.name}.{t.metric}", f"{t.name}.low", f"{t.name}.high", f"{t.name}.delta",
                     f"{t.name}.delta_low", f"{t.name}.delta_high"]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(head)
        for r in self.rows:
            line = [r.rank or "", r.kind, r.name, r.encoder, r.head, *_fmt3(r.mean_delta), r.n_tasks, r.better, r.worse]
            for t in self.tasks:
                e = r.entries.get(t.name)
                line += ([*_fmt3(e.score), *_fmt3(e.delta)] if e else [""] * 6)
            writer.writerow(line)
        return buf.getvalue()


def _fmt3(s: Score) -> list[str]:
    return ["" if math.isnan(v) else f"{v:.6g}" for v in (s.value, s.low, s.high)]


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


def build_leaderboard(cells: Sequence[tuple[str, str, str, TaskResult]]) -> Leaderboard:
    """The leaderboard of ``(encoder, head, task, result)`` cells (task: the benchmark's task name).

    Baselines are read from the first cell of each task; cells of a task whose reference
    baseline differs (another test set) are noted.
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
    return Leaderboard(tasks=list(tasks.values()), models=models, baselines=_baseline_rows(first), notes=notes)


def _reference_value(r: TaskResult) -> float:
    ref = r.baselines.get(REFERENCE)
    return float(ref["metrics"][r.primary]["value"]) if ref else _NAN


def _num(x: float, fmt: str) -> str:
    return "n/a" if math.isnan(x) else format(x, fmt)


def _cell_text(e: Entry | None, baseline: bool) -> str:
    if e is None:
        return "n/a"
    s, d = e.score, e.delta
    top = f"{_num(s.value, '.3f')} ({_num(d.value, '+.3f')})"
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
                                       "mean Δ: mean over tasks with its ≈95% interval", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("model")
    for t in board.tasks:
        table.add_column(f"{t.name}\n{METRIC_NAMES.get(t.metric, t.metric)} (n={t.n_test})", justify="right")
    table.add_column("mean Δ", justify="right")
    table.add_column("better/worse", justify="right")
    for r in board.rows:
        baseline = r.kind == "baseline"
        mean = _num(r.mean_delta.value, "+.3f") + ("" if math.isnan(r.mean_delta.low) else
                                                   f"\n[dim]{r.mean_delta.low:+.2f}–{r.mean_delta.high:+.2f}[/dim]")
        table.add_row(str(r.rank or ""), f"[dim]baseline: {r.name}[/dim]" if baseline else r.name,
                      *[_cell_text(r.entries.get(t.name), baseline) for t in board.tasks], mean,
                      "" if baseline else f"{r.better}/{r.worse}", style="dim" if baseline else None)
    return table
