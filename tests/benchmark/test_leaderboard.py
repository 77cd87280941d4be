"""The leaderboard on hand-made results: deltas, mean delta and its interval, ranks, CSV/JSON."""

import csv
import io
import math

import pytest

from biolens.benchmark import build_leaderboard, mean_delta, rich_table
from biolens.proteins.supervised import TaskResult


def _iv(value, low=None, high=None, std=None):
    return {"value": value, "low": value if low is None else low, "high": value if high is None else high,
            "std": 0.0 if std is None else std}


def _result(task, primary, value, ref, delta=None, majority=0.5):
    base = {"composition": {"method": "lr", "metrics": {primary: _iv(ref, ref - 0.05, ref + 0.05, 0.02)}},
            "majority": {"method": "m", "metrics": {primary: _iv(majority)}}}
    if delta is not None:
        base["composition"]["delta"] = delta
    return TaskResult(task=task, kind="binary", encoder="e", head="h", primary=primary,
                      metrics={primary: _iv(value, value - 0.1, value + 0.1, 0.05)}, baselines=base,
                      deltas={"composition": value - ref, "majority": value - majority}, counts={"test": 40},
                      timings={})


def test_mean_delta_ranks_models_and_combines_per_task_intervals():
    a1 = _result("t1", "auroc", 0.8, 0.7, _iv(0.1, 0.05, 0.15, 0.03))
    a2 = _result("t2", "spearman", 0.5, 0.4, _iv(0.1, -0.02, 0.2, 0.04))
    b1 = _result("t1", "auroc", 0.6, 0.7, _iv(-0.1, -0.15, -0.05, 0.03))
    board = build_leaderboard([("b", "linear", "t1", b1), ("a", "cnn", "t1", a1), ("a", "cnn", "t2", a2)])
    assert [r.name for r in board.models] == ["a + cnn", "b + linear"] and [r.rank for r in board.models] == [1, 2]
    a = board.models[0]
    # mean of 0.1 and 0.1; SE = sqrt(0.03^2 + 0.04^2) / 2 = 0.025
    assert a.mean_delta.value == pytest.approx(0.1) and a.mean_delta.std == pytest.approx(0.025)
    assert a.mean_delta.low == pytest.approx(0.1 - 1.96 * 0.025) and a.n_tasks == 2
    assert (a.better, a.worse) == (1, 0) and (board.models[1].better, board.models[1].worse) == (0, 1)
    assert [t.name for t in board.tasks] == ["t1", "t2"] and board.tasks[0].n_test == 40
    comp = next(r for r in board.baselines if r.name == "composition")
    assert comp.entries["t1"].score.value == 0.7 and comp.mean_delta.value == 0.0
    maj = next(r for r in board.baselines if r.name == "majority")
    assert maj.entries["t1"].delta.value == pytest.approx(0.5 - 0.7)


def test_csv_and_json_carry_every_number():
    a1 = _result("t1", "auroc", 0.8, 0.7, _iv(0.1, 0.05, 0.15, 0.03))
    board = build_leaderboard([("a", "cnn", "t1", a1)])
    rows = list(csv.DictReader(io.StringIO(board.to_csv())))
    assert [r["kind"] for r in rows] == ["model", "baseline", "baseline"]
    top = rows[0]
    assert top["rank"] == "1" and top["model"] == "a + cnn" and float(top["t1.auroc"]) == 0.8
    assert float(top["t1.delta"]) == pytest.approx(0.1) and float(top["t1.delta_low"]) == pytest.approx(0.05)
    js = board.to_json()
    assert js["reference"] == "composition" and "delta" in js["definitions"]
    assert js["models"][0]["entries"]["t1"]["delta"]["high"] == pytest.approx(0.15)


def test_a_result_without_a_paired_delta_gets_a_point_delta_and_no_interval():
    old = _result("t1", "auroc", 0.8, 0.7)  # metrics.json written before paired deltas existed
    row = build_leaderboard([("a", "cnn", "t1", old)]).models[0]
    assert row.entries["t1"].delta.value == pytest.approx(0.1) and math.isnan(row.mean_delta.low)
    assert math.isnan(mean_delta([]).value)


def test_cells_tested_on_other_proteins_are_noted():
    board = build_leaderboard([("a", "cnn", "t1", _result("t1", "auroc", 0.8, 0.7)),
                               ("b", "cnn", "t1", _result("t1", "auroc", 0.8, 0.6))])
    assert any("other proteins" in n for n in board.notes)


def test_a_baseline_that_does_not_apply_is_n_a_not_an_empty_row():
    from rich.console import Console

    from biolens.benchmark._page import leaderboard_html, task_figure

    cls = _result("t1", "auroc", 0.8, 0.7, _iv(0.1, 0.05, 0.15, 0.03))
    reg = _result("gb1", "spearman", 0.5, 0.4, _iv(0.1, 0.0, 0.2, 0.04), majority=float("nan"))  # constant: no rank
    board = build_leaderboard([("a", "cnn", "t1", cls), ("a", "cnn", "gb1", reg)])
    majority = next(r for r in board.baselines if r.name == "majority")
    assert "gb1" not in majority.entries and "t1" in majority.entries
    page = leaderboard_html(board)
    assert "<td>n/a</td>" in page and "–" not in page
    console = Console(width=200, record=True)
    console.print(rich_table(board))
    text = console.export_text()
    assert "– (–)" not in text and "n/a" in text
    ticks = [t.get_text() for t in task_figure(board, "gb1").axes[0].get_yticklabels()]
    assert "baseline: majority" not in ticks and "baseline: composition" in ticks


def _scored(task, value, ref=0.5):
    return _result(task, "auroc", value, ref, _iv(value - ref, value - ref - 0.05, value - ref + 0.05, 0.02))


def test_ranks_per_task_mean_rank_and_mrr():
    cells = [("a", "h", "t1", _scored("t1", 0.9)), ("b", "h", "t1", _scored("t1", 0.7)), ("c", "h", "t1", _scored("t1", 0.7)),
             ("a", "h", "t2", _scored("t2", 0.6)), ("b", "h", "t2", _scored("t2", 0.8))]  # c has no t2
    board = build_leaderboard(cells)
    rows = {r.encoder: r for r in board.models}
    assert [rows[k].entries["t1"].rank for k in "abc"] == [1.0, 2.5, 2.5]  # ties share their mean rank
    assert [rows[k].entries["t1"].best for k in "abc"] == [True, False, False] and rows["b"].entries["t2"].best
    assert rows["a"].entries["t2"].rank == 2.0 and rows["b"].entries["t2"].rank == 1.0
    assert rows["a"].mean_rank == pytest.approx(1.5) and rows["a"].mrr == pytest.approx((1 + 1 / 2) / 2)
    assert rows["c"].mean_rank == pytest.approx(2.5) and rows["c"].mrr == pytest.approx(1 / 2.5)
    # no predictions: ranks, but no paired test, and the notes say so
    assert math.isnan(rows["b"].entries["t1"].vs_best.value) and rows["b"].compared == 0
    assert any("no test predictions of a + h" in n for n in board.notes)


def test_paired_test_against_the_best_model_on_the_same_proteins():
    import numpy as np

    from biolens.benchmark import verdict
    from biolens.core.metrics import auroc
    from biolens.proteins.supervised import TestPredictions

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    strong = y + rng.normal(0, 0.6, 300)  # auROC ~0.88
    close = strong + rng.normal(0, 0.05, 300)  # nearly the same model
    weak = y + rng.normal(0, 3.0, 300)  # auROC ~0.55
    ids = [f"p{i}" for i in range(300)]
    scores = {"a": strong, "b": close, "c": weak}
    preds = {(name, "h", "t1"): TestPredictions(ids, y, p) for name, p in scores.items()}
    cells = [(name, "h", "t1", _scored("t1", auroc(y, p))) for name, p in scores.items()]
    board = build_leaderboard(cells, preds, n_resamples=200)
    rows = {r.encoder: r for r in board.models}
    best = max(rows.values(), key=lambda r: r.entries["t1"].score.value)
    assert best.entries["t1"].rank == 1 and best.entries["t1"].best and best.best_on == 1
    assert math.isnan(best.entries["t1"].vs_best.value)
    c = rows["c"].entries["t1"]
    assert c.vs_best.high < 0 and c.p_vs_best < 0.001 and rows["c"].as_good_as_best == 0
    other = rows["b" if best is rows["a"] else "a"].entries["t1"]
    assert other.vs_best.low <= 0 <= other.vs_best.high and other.p_vs_best > 0.05
    assert "as good as the best on 1 of 1" in verdict(rows["b" if best is rows["a"] else "a"], board)
    assert "best on 0 of 1" in verdict(rows["c"], board)
    # CSV carries them; a model tested on other proteins is not paired
    row = next(r for r in csv.DictReader(io.StringIO(board.to_csv())) if r["encoder"] == "c")
    assert float(row["t1.vs_best_high"]) < 0 and float(row["t1.p_vs_best"]) < 0.001 and row["t1.rank"] == "3"
    preds[("c", "h", "t1")] = TestPredictions(ids[::-1], y, weak)
    again = build_leaderboard(cells, preds)
    assert any("c + h has other test proteins" in n for n in again.notes)
