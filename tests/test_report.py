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
