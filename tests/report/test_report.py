import base64
import re

from biolens.report import Report, learning_curves


def test_report_is_self_contained_with_table_and_figure(tmp_path):
    history = [{"step": s, "split": "train", "loss": 1 / s} for s in range(1, 20)] + [
        {"step": 10, "split": "val", "loss": 0.3, "auroc": 0.8},
        {"step": 19, "split": "val", "loss": 0.2, "auroc": 0.85},
    ]
    page = Report("demo <run>")
    page.heading("results").table([{"metric": "auroc", "value": 0.8512345}], caption="test").figure(
        learning_curves(history), caption="learning curves"
    ).settings({"seed": 0})
    path = page.write(tmp_path / "r.html")
    text = path.read_text()
    assert "demo &lt;run&gt;" in text and "0.8512" in text and "learning curves" in text
    assert not re.search(r"(src|href)=\"https?://", text)  # nothing fetched from the network
    png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text).group(1))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_maps_are_deterministic_and_separate_clusters():
    import numpy as np

    from biolens.report import interactive_map, project_2d, scatter_map

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (40, 16)), rng.normal(6, 1, (40, 16))])
    labels = ["membrane"] * 40 + ["extracellular"] * 40
    for method in ("pca", "tsne"):
        a, b = project_2d(x, method, seed=3), project_2d(x, method, seed=3)
        assert a.shape == (80, 2) and np.array_equal(a, b)
        centre_gap = np.linalg.norm(a[:40].mean(0) - a[40:].mean(0))
        assert centre_gap > 2 * max(a[:40].std(0).max(), a[40:].std(0).max())
    assert scatter_map(a, labels, title="t").axes[0].get_title() == "t"
    svg = interactive_map(a, labels, [f"P{i}" for i in range(80)], lengths=list(range(80)))
    assert svg.count("<circle") == 80 + 2 and "<title>P7 | membrane | 7 aa</title>" in svg


def test_map_input_errors():
    import numpy as np
    import pytest

    from biolens.core.errors import InputError
    from biolens.report import project_2d

    with pytest.raises(InputError, match="at least 3 points"):
        project_2d(np.zeros((2, 4)))
    with pytest.raises(InputError, match="NaN"):
        project_2d(np.full((5, 4), np.nan))


def test_settings_are_a_compact_key_value_table_without_python_reprs(tmp_path):
    from biolens.report import settings_rows

    settings = {"tasks": [{"name": "gb1", "data": "sample:gb1", "options": [], "test_data": None}],
                "train": {"learning_rate": 0.001, "patience": None, "early": False},
                "model": {"head": {"kind": "mlp", "hidden": 64}, "pooling": "mean"}, "seed": 0}
    rows = settings_rows(settings)
    assert rows == [{"setting": "tasks: gb1", "value": "data=sample:gb1, options=none, test_data=none"},
                    {"setting": "train", "value": "learning_rate=0.001, patience=none, early=no"},
                    {"setting": "model.head", "value": "kind=mlp, hidden=64"},
                    {"setting": "model.pooling", "value": "mean"}, {"setting": "seed", "value": "0"}]
    text = Report("r").settings(settings).render()
    assert '<table class="kv">' in text and "<pre>" not in text
    assert "None" not in text and "{" not in text.split("<body>")[1] and "null" not in text


def test_tables_scroll_instead_of_overflowing_and_spell_missing_values_one_way():
    text = Report("r").table([{"a": float("nan"), "b": None, "c": 1.5}]).render()
    assert '<div class="wide"><table>' in text and ".wide{max-width:100%;overflow-x:auto}" in text
    assert text.count("<td>n/a</td>") == 2 and "–" not in text.split("<body>")[1]


def test_banner_is_a_visible_alert():
    text = Report("r").banner("the codebook has collapsed", title="Codebook collapse").render()
    assert '<div class="banner" role="alert"><strong>Codebook collapse:</strong> the codebook has collapsed</div>' in text


def test_learning_curves_give_each_metric_a_panel_and_mark_the_kept_step():
    history = [{"step": s, "split": "train", "loss": 1 / s} for s in range(1, 41)]
    history += [{"step": s, "split": "val", "loss": 1 / s, "auroc": 0.5 + s / 100, "auprc": 0.4 + s / 200,
                 "accuracy": 0.6, "mcc": 0.1, "f1": 0.2, "precision": 0.3, "train_seconds": 0.01}
                for s in (10, 20, 30, 40)]
    fig = learning_curves(history, best_step=20)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    titles = [ax.get_title() for ax in shown]
    assert titles[0] == "loss" and len(shown) == 1 + 6 and "validation train_seconds" not in titles
    for ax in shown:  # the kept step: a vertical line at x = 20 in every panel; no legend on the data
        assert any(list(line.get_xdata()) == [20, 20] for line in ax.get_lines()), ax.get_title()
        assert ax.get_legend() is None
    legend = fig.legends[0]
    assert "kept model: step 20" in [t.get_text() for t in legend.get_texts()]
    plain = learning_curves(history)  # no kept step given: no line, no legend entry for it
    assert all(t.get_text() != "kept model: step 20" for leg in plain.legends for t in leg.get_texts())


def test_maps_have_axes_counts_and_distinct_marks_for_many_labels():
    import numpy as np

    from biolens.report import interactive_map, scatter_map
    from biolens.report._maps import _styles

    rng = np.random.default_rng(0)
    coords = rng.normal(size=(60, 2))
    labels = [f"class{i % 12}" for i in range(60)]
    styles = _styles(labels)
    assert len(set(styles.values())) == 12  # past ten colours the marker shape changes
    svg = interactive_map(coords, labels, [f"P{i}" for i in range(60)], method="tsne", width=540, height=440)
    assert ">t-SNE 1</text>" in svg and ">t-SNE 2</text>" in svg and ">class0 (5)</text>" in svg
    frame_right = float(re.search(r'<rect x="(\d+)" y="\d+" width="(\d+)"', svg).group(2)) + 44
    legend_x = [float(x) for x in re.findall(r'<g transform="translate\(([\d.]+),', svg)]
    point_x = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    assert min(legend_x) > frame_right >= max(point_x)  # the legend never covers a point
    ax = scatter_map(coords, labels, method="pca").axes[0]
    assert ax.get_xlabel() == "PC 1" and ax.get_ylabel() == "PC 2"
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # outside the axes
    assert "class0 (5)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_roc_pr_figure_draws_both_curves_per_task():
    import numpy as np

    from biolens.report import roc_pr_curves

    y = np.array([0, 0, 1, 1, 0, 1])
    fig = roc_pr_curves({"CTCF": (y, np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9]))})
    roc, pr = fig.axes[:2]
    assert roc.get_xlabel() == "false positive rate" and pr.get_xlabel() == "recall"
    assert [t.get_text() for t in roc.get_legend().get_texts()] == ["CTCF: auROC 0.889"]
    assert pr.get_legend().get_texts()[0].get_text().startswith("CTCF: auPRC")


def test_messages_name_metrics_and_durations_plainly():
    from biolens.report import metrics_text, seconds_text

    assert metrics_text({"loss": 0.4820025, "perplexity": 1.0, "rmsd": float("nan")}) == "loss 0.482, perplexity 1, rmsd n/a"
    assert [seconds_text(v) for v in (12.34, 0.0421, 0.00085)] == ["12.3 s", "0.042 s", "850 µs"]
