"""The benchmark's report page: one self-contained HTML file (figures inline, nothing fetched).

Sections: the leaderboard and its definitions, mean delta per model, per-task figures (each
model's metric with its interval next to the baselines), an embedding map per encoder, what
each cell trained, run times and throughput, notes, and the exact versions and settings.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from ..report import NOT_APPLICABLE, PALETTE, Report, interactive_map, new_figure, settings_rows
from ._leaderboard import DEFINITIONS, METRIC_NAMES, Leaderboard, Row, verdict
from ._public import reported_rows
from ._results import BenchmarkResult, Cell

__all__ = ["write_page"]

_STYLE = """<style>
.grid{display:flex;flex-wrap:wrap;gap:1rem}.grid figure{margin:.5rem 0;flex:1 1 480px}
p.answer{font-size:1.05em;font-weight:600}ol.answer li{margin:.25em 0}table.board td{vertical-align:top}table.board small{color:#57606a}.up{color:#1a7f37;font-weight:600}
.down{color:#cf222e;font-weight:600}tr.baseline td{color:#57606a;background:#fafafa}
pre{background:#f6f8fa;padding:.6rem;font-size:.8rem;overflow-x:auto}
</style>"""


def _f(x: float, fmt: str = ".3f") -> str:
    return NOT_APPLICABLE if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _board_cell(row: Row, task: str) -> str:
    e = row.entries.get(task)
    if e is None:
        return f"<td>{NOT_APPLICABLE}</td>"
    s, d = e.score, e.delta
    cls = "up" if d.low > 0 else ("down" if d.high < 0 else "")
    interval = "" if math.isnan(s.low) else f"<br><small>[{_f(s.low)}, {_f(s.high)}]</small>"
    d_interval = "" if math.isnan(d.low) or row.kind == "baseline" else f" <small>[{_f(d.low, '+.3f')}, {_f(d.high, '+.3f')}]</small>"
    value = f"<b>{_f(s.value)}</b>" if e.best else _f(s.value)
    best = ""
    if e.best and row.kind == "model":
        best = "<br><small>best</small>"
    elif not math.isnan(e.vs_best.value):
        v = e.vs_best
        best = (f"<br><small class=\"{'down' if v.high < 0 else ''}\">vs best {_f(v.value, '+.3f')} "
                f"[{_f(v.low, '+.3f')}, {_f(v.high, '+.3f')}], {_p(e.p_vs_best)}</small>")
    return (f"<td>{value}{interval}<br><span class=\"{cls}\">Δ {_f(d.value, '+.3f')}</span>{d_interval}{best}</td>")


def _p(p: float) -> str:
    return f"p {NOT_APPLICABLE}" if math.isnan(p) else ("p<0.001" if p < 0.001 else f"p={p:.3f}")


def leaderboard_html(board: Leaderboard) -> str:
    """The leaderboard as an HTML table (two lines per cell: metric [interval], delta [interval])."""
    head = "".join(f"<th>{html.escape(t.name)}<br><small>{METRIC_NAMES.get(t.metric, t.metric)}, {t.n_test} test</small></th>"
                   for t in board.tasks)
    rows = []
    for r in board.rows:
        name = html.escape(r.name if r.kind == "model" else f"baseline: {r.name}")
        m = r.mean_delta
        mean = f"{_f(m.value, '+.3f')}" + ("" if math.isnan(m.low) else f"<br><small>[{_f(m.low, '+.3f')}, {_f(m.high, '+.3f')}]</small>")
        tally = "" if r.kind == "baseline" else f"{r.better} / {r.worse}"
        rank = "" if r.kind == "baseline" or math.isnan(r.mean_rank) else f"{r.mean_rank:.1f}<br><small>MRR {r.mrr:.2f}</small>"
        rows.append(f"<tr class=\"{r.kind}\"><td>{r.rank or ''}</td><td>{name}</td>"
                    + "".join(_board_cell(r, t.name) for t in board.tasks)
                    + f"<td>{mean}</td><td>{tally}</td><td>{rank}</td></tr>")
    return (f"<table class=\"board\"><thead><tr><th>#</th><th>model</th>{head}<th>mean Δ</th><th>better / worse</th>"
            f"<th>mean rank</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def answer_html(board: Leaderboard) -> str:
    """The answer first: the models ranked by mean Δ, each with the verdict its intervals support,
    and one sentence on whether any model beats the reference."""
    items = "".join(f"<li><b>{html.escape(r.name)}</b>: mean Δ {_f(r.mean_delta.value, '+.3f')}; "
                    f"{html.escape(verdict(r, board))}</li>" for r in board.models)
    clear = [r.name for r in board.models if not math.isnan(r.mean_delta.low) and r.mean_delta.low > 0]
    worse = [r.name for r in board.models if not math.isnan(r.mean_delta.high) and r.mean_delta.high < 0]
    if clear:
        lead = f"Better than {board.reference} over the tasks (mean Δ interval above zero): {', '.join(clear)}."
    else:
        lead = f"No model is clearly better than {board.reference} over the tasks (every mean Δ interval reaches zero)."
    if worse:
        lead += f" Clearly worse: {', '.join(worse)}."
    return f"<p class=\"answer\">{html.escape(lead)}</p><ol class=\"answer\">{items}</ol>"


def _colours(board: Leaderboard) -> dict[str, str]:
    return {r.name: PALETTE[i % len(PALETTE)] for i, r in enumerate(board.models)}


def task_figure(board: Leaderboard, task: str) -> Any:
    """Each model's metric on ``task`` with its 95% interval, the baselines below in grey, and a
    dashed line at the reference baseline."""
    column = next(t for t in board.tasks if t.name == task)
    rows = [r for r in board.rows if task in r.entries]
    colours = _colours(board)
    fig, ax = new_figure(width=5.6, height=0.38 * len(rows) + 1.2)
    for i, r in enumerate(rows):
        s = r.entries[task].score
        y = len(rows) - 1 - i
        err = None if math.isnan(s.low) else [[s.value - s.low], [s.high - s.value]]
        ax.errorbar([s.value], [y], xerr=err, fmt="o" if r.kind == "model" else "s", capsize=3,
                    color=colours.get(r.name, "#999999"))
        if r.name == board.reference and r.kind == "baseline":
            ax.axvline(s.value, color="#999999", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(rows)), [r.name if r.kind == "model" else f"baseline: {r.name}" for r in rows][::-1])
    ax.set_xlabel(f"test {METRIC_NAMES.get(column.metric, column.metric)} (95% interval)")
    ax.set_title(f"{task} (n={column.n_test} test proteins)", fontsize=10)
    return fig


def mean_delta_figure(board: Leaderboard) -> Any:
    """Mean delta over the reference per model, with its approximate 95% interval."""
    rows = board.models
    colours = _colours(board)
    fig, ax = new_figure(width=6.5, height=0.45 * len(rows) + 1.2)
    for i, r in enumerate(rows):
        m, y = r.mean_delta, len(rows) - 1 - i
        err = None if math.isnan(m.low) else [[m.value - m.low], [m.high - m.value]]
        ax.barh([y], [0 if math.isnan(m.value) else m.value], xerr=err, color=colours[r.name], capsize=4)
    ax.axvline(0, color="#555555", linewidth=1)
    ax.set_yticks(range(len(rows)), [r.name for r in rows][::-1])
    ax.set_xlabel(f"mean Δ over {board.reference} + logistic/ridge (primary metric, ≈95% interval)")
    return fig


def _maps(page: Report, result: BenchmarkResult) -> None:
    maps = result.maps
    if maps is None or not maps.coords:
        page.text("No map: no task of this benchmark has class labels to colour one.", note=True)
        return
    page.text(f"{maps.method.upper()} of the {result.config.pooling}-pooled embeddings of the {len(maps.ids)} proteins "
              f"of task {maps.task}, coloured by label; hover a point for its id, label and length. Seeded: the same "
              "run draws the same map.")
    page.raw('<div class="grid">')
    for encoder, coords in maps.coords.items():
        svg = interactive_map(coords, maps.labels, maps.ids, lengths=maps.lengths, title=f"{encoder}: {maps.task}",
                              width=540, height=440, method=maps.method)
        page.raw(f"<figure>{svg}<figcaption>{html.escape(encoder)} ({maps.widths[encoder]}-d)</figcaption></figure>")
    page.raw("</div>")
    for encoder, same in maps.same_as.items():
        page.raw(f"<p class=\"note\">{html.escape(encoder)}: its pooled embeddings equal {html.escape(same)}'s "
                 "(the mean of one-hot rows is the composition), so its map is not repeated.</p>")


def _trained(cell: Cell) -> dict[str, Any]:
    """Epochs run and best step, read from the cell's run folder."""
    out: dict[str, Any] = {"epochs run": NOT_APPLICABLE, "best step": NOT_APPLICABLE}
    log = cell.folder / "train" / "metrics.jsonl"
    if log.exists():
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        if lines:
            out["epochs run"] = max(r.get("epoch", 0) for r in lines) + 1
    meta = cell.folder / "checkpoint" / "meta.json"
    if meta.exists():
        out["best step"] = json.loads(meta.read_text()).get("best_step", NOT_APPLICABLE)
    return out


def _head_text(config: Any, head: str) -> str:
    h = config.head_config(head)
    if head in ("cnn", "per_residue"):
        return f"{head}: 2 conv x {h.channels} ch, kernel {h.kernel}, dropout {h.dropout}"
    if head in ("mlp", "attention"):
        return f"{head}: hidden {h.hidden}, dropout {h.dropout}"
    return "linear (logistic / linear regression)"


def _training_text(config: Any) -> str:
    stops = [t.patience for t in (config.pooled_training, config.residue_training)]
    stop = ("every epoch runs and the epoch best on the validation split's metric is kept" if stops == [None, None] else
            "early stopping watches the validation split's metric and restores the best model")
    weights = "the loss is weighted against class imbalance" if config.class_weights else "the loss is unweighted"
    return (f"Pooled heads read the {config.pooling} over residues of the encoder's states, standardised with training "
            f"statistics; {stop}; {weights}. Each cell's own report (learning curves, confusion matrix) is in its run "
            "folder: runs/TASK/ENCODER+HEAD/report.html.")


def _patience(patience: int | None) -> str:
    return "no early stopping" if patience is None else f"patience {patience}"


def cells_rows(result: BenchmarkResult) -> list[dict[str, Any]]:
    """One row per cell: the head and budget it trained with, what it ran, and its times."""
    rows = []
    for cell in result.cells:
        t = result.config.training(cell.head)
        r = cell.result
        timings = r.timings if r is not None else {}
        status = "failed" if r is None else ("reused" if r.reused else f"computed ({cell.seconds:.1f} s)")
        rows.append({"task": cell.task.name, "model": cell.model.name, "head trained": _head_text(result.config, cell.head),
                     "budget": f"<= {t.max_epochs} epochs, {_patience(t.patience)}, lr {t.learning_rate:g}, batch {t.batch_size}",
                     **_trained(cell), "train s": timings.get("train_s", float("nan")),
                     "total s": timings.get("total_s", float("nan")), "this run": status})
    return rows


def _throughput_rows(result: BenchmarkResult, throughput: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for e in result.embeddings:
        known = throughput.get(f"{e.encoder} ({e.view})", {})
        known = known if known.get("fingerprint") == e.fingerprint else {}
        rows.append({"encoder": e.encoder, "view": e.view, "sequences": e.sequences, "residues": e.residues,
                     "cache hits": e.cache_hits, "computed": e.computed, "seconds": round(e.seconds, 2),
                     "residues/s (this run)": round(e.residues_per_second) if e.computed else "– (all cached)",
                     "residues/s (when computed)": round(known["residues_per_second"]) if known else "–",
                     "measured": known.get("measured", "–")})
    return rows


def _task_rows(result: BenchmarkResult, board: Leaderboard) -> list[dict[str, Any]]:
    metric = {t.name: METRIC_NAMES.get(t.metric, t.metric) for t in board.tasks}
    rows = []
    for spec in result.config.tasks:
        data = result.data[spec.name]
        counts = next((c.result.counts for c in result.cells if c.task.name == spec.name and c.result), {})
        rows.append({"task": spec.name, "data": spec.data, "kind": data.task.kind, "metric": metric.get(spec.name, "–"),
                     "records": len(data), "train / valid / test": " / ".join(str(counts.get(k, "–")) for k in ("train", "valid", "test")),
                     "labels": data.label_summary(), "split": spec.split_note or spec.split,
                     **({"source": spec.source} if spec.source else {})})
    return rows


def write_page(path: Path, result: BenchmarkResult, board: Leaderboard, *, throughput: dict[str, Any],
               history: list[dict[str, Any]], versions: dict[str, str]) -> Path:
    """Write the report page of a benchmark run (see the module docstring)."""
    inv = result.invocation
    page = Report("biolens benchmark").raw(_STYLE)
    page.text(f"{len(board.models)} models x {len(board.tasks)} tasks. This run, until this page was written: "
              f"{inv['wall_s']:.0f} s wall, {inv['cpu_s']:.0f} s CPU; cells computed {inv['cells_computed']}, reused "
              f"{inv['cells_reused']}, failed {inv['cells_failed']}; embeddings: {inv['embeddings_cache_hits']} cache hits, "
              f"{inv['embeddings_computed']} computed; maps: {inv['maps_computed']} computed, {inv['maps_reused']} reused.")
    page.heading("Answer").raw(answer_html(board))
    page.heading("Leaderboard").raw(leaderboard_html(board))
    page.text("Each cell: the model's test metric with its 95% bootstrap interval, then Δ: the model minus the "
              "composition baseline on the same test proteins, with its paired interval (green: wholly above zero, "
              "red: wholly below). Mean Δ averages a model's Δ over the tasks; a model is better than amino-acid "
              "composition only where its interval clears zero. Small test sets give wide intervals: read the "
              "intervals before the ranks.", note=True)
    page.raw("<ul class=\"note\">" + "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
                                            for k, v in DEFINITIONS.items()) + "</ul>")
    reported = reported_rows(result.config.tasks, result.cells)
    if reported:
        page.heading("Published numbers beside ours (reported, not run here)").table(reported)
        page.text("Each row: a number a paper or its repository reports for a well-known model on the same split "
                  "and metric, and the best of this run's models on it with its 95% interval. Reported numbers "
                  "were not reproduced here; their training data, tuning and compute differ.", note=True)
    if board.models:
        page.figure(mean_delta_figure(board), caption="mean Δ over the composition baseline, per model")
    page.heading("Tasks").table(_task_rows(result, board))
    page.raw('<div class="grid">')
    for t in board.tasks:
        page.figure(task_figure(board, t.name), caption=f"{t.name}: models (circles) and baselines (squares)")
    page.raw("</div>")
    page.heading("Embedding maps")
    _maps(page, result)
    page.heading("What each cell trained").table(cells_rows(result))
    page.text(_training_text(result.config), note=True)
    page.heading("Run times and throughput").table(_throughput_rows(result, throughput), caption="embeddings (this run)")
    page.table(invocation_rows(history), caption="every invocation of this benchmark folder")
    notes = result.notes + board.notes + [f"{n}: {note}" for n, d in result.data.items() for note in d.notes]
    if notes:
        page.heading("Notes").table([{"note": n} for n in notes])
    page.heading("Settings").table(_settings(result), cls="kv")
    page.settings({**versions, **{f"fingerprint {k}": v for k, v in result.fingerprints.items()}},
                  caption="versions and encoder fingerprints")
    return page.write(path)


def _settings(result: BenchmarkResult) -> list[dict[str, str]]:
    """The benchmark's settings as key/value rows; of the head settings only the heads it trained."""
    from ..core.config import config_to_dict

    config = config_to_dict(result.config)
    used = {c.head for c in result.cells} | {m.get("head") for m in config.get("models", [])}
    config["heads"] = [h for h in config.get("heads", []) if h.get("kind") in used]
    return settings_rows(config)


#: The columns of the invocation table, in order (others are left out of the page, kept in the JSON).
_INVOCATION = {"started": "started", "wall_s": "wall s", "cpu_s": "CPU s", "peak_rss_mb": "peak MB", "cpus": "CPUs",
               "load_average": "load", "cells_computed": "cells computed", "cells_reused": "reused",
               "cells_failed": "failed", "embeddings_computed": "embeddings computed",
               "embeddings_cache_hits": "cache hits"}


def invocation_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One compact row per invocation of the folder (fits the page; the full record is in the JSON)."""
    rows = []
    for h in history:
        row = {label: h[key] for key, label in _INVOCATION.items() if key in h}
        if "started" in row:
            row["started"] = str(row["started"]).replace("T", " ").split("+")[0]
        if isinstance(row.get("load"), list):
            row["load"] = ", ".join(f"{x:.2g}" for x in row["load"])
        rows.append(row)
    return rows
