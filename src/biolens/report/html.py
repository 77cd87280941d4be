"""A self-contained HTML page: headings, paragraphs, tables and figures embedded as base64 PNG
(or inline SVG/HTML), with the run's settings and versions. No scripts or assets are fetched."""

from __future__ import annotations

import base64
import html
import io
import math
import platform
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._version import __version__
from ..core.files import atomic_write_text

__all__ = ["Report", "figure_to_png"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.25rem .55rem;text-align:right}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}figure{margin:1rem 0}
figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85rem;color:#57606a}
.note{color:#57606a;font-size:.9rem}code{background:#f6f8fa;padding:0 .2rem}
"""


def figure_to_png(fig: Any, dpi: int = 110) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    if hasattr(fig, "number"):  # a pyplot-managed figure: release it
        import matplotlib.pyplot as plt

        plt.close(fig)
    return buf.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


class Report:
    """Build a page section by section, then :meth:`write` it.

    Example:
        >>> page = Report("solubility / unirep-64 / mlp")
        >>> page.table([{"metric": "auroc", "value": 0.81}], caption="test set")
        >>> page.figure(fig, caption="learning curves")
        >>> page.write("run/report.html")
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []

    def heading(self, text: str, level: int = 2) -> Report:
        self.parts.append(f"<h{level}>{html.escape(text)}</h{level}>")
        return self

    def text(self, text: str, *, note: bool = False) -> Report:
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")
        return self

    def table(self, rows: Sequence[Mapping[str, Any]], *, caption: str | None = None, columns: Sequence[str] | None = None) -> Report:
        if not rows:
            return self.text("(no rows)", note=True)
        columns = list(columns or dict.fromkeys(k for r in rows for k in r))
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows)
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self.parts.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        return self

    def figure(self, fig: Any, *, caption: str = "", alt: str | None = None) -> Report:
        """Embed a matplotlib figure (or PNG bytes) as a base64 image."""
        png = fig if isinstance(fig, bytes) else figure_to_png(fig)
        data = base64.b64encode(png).decode("ascii")
        self.parts.append(
            f'<figure><img alt="{html.escape(alt or caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
        return self

    def raw(self, fragment: str) -> Report:
        """Insert trusted, self-contained HTML (e.g. an inline SVG)."""
        self.parts.append(fragment)
        return self

    def settings(self, settings: Mapping[str, Any], caption: str = "settings and versions") -> Report:
        import jax


        env = {"biolens": __version__, "jax": jax.__version__, "python": platform.python_version(),
               "platform": platform.platform(), "written": datetime.now(UTC).isoformat(timespec="seconds")}
        rows = [{"setting": k, "value": v} for k, v in {**settings, **env}.items()]
        return self.heading(caption).table(rows)

    def render(self) -> str:
        body = "\n".join(self.parts)
        return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(self.title)}</title>"
                f"<style>{_CSS}</style></head><body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n")

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        atomic_write_text(path, self.render())
        return path
