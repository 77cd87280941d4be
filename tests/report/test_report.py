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
