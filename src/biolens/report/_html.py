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

__all__ = ["NOT_APPLICABLE", "Report", "figure_to_png", "metrics_text", "seconds_text", "settings_rows", "value_text"]

#: How every report page and table spells a value that is missing or does not apply (NaN, None).
NOT_APPLICABLE = "n/a"

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.25rem .55rem;text-align:right}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}figure{margin:1rem 0}
figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85rem;color:#57606a}
.note{color:#57606a;font-size:.9rem}code{background:#f6f8fa;padding:0 .2rem}
.wide{max-width:100%;overflow-x:auto}table.kv td,table.kv th{text-align:left;vertical-align:top}table.kv td:first-child{white-space:nowrap}
.banner{background:#fff8c5;border:1px solid #d4a72c;border-left:6px solid #bf8700;padding:.6rem .9rem;margin:1rem 0;border-radius:4px}
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
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_APPLICABLE
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def value_text(value: Any) -> str:
    """A setting's value as a reader writes it: ``none`` (not Python's ``None``), ``yes``/``no``,
    ``0.001`` (``:g``), a list comma-joined, a flat mapping as ``key=value, ...`` (no dict repr)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return NOT_APPLICABLE if math.isnan(value) else f"{value:g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={value_text(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value) or "none"
    return str(value)


def seconds_text(value: float) -> str:
    """``12.3 s``, ``0.042 s``, ``850 µs``: never ``0.0 s`` for a fast step."""
    if value is None or math.isnan(value):
        return NOT_APPLICABLE
    return f"{value:.1f} s" if value >= 1 else f"{value:.3f} s" if value >= 0.001 else f"{value * 1e6:.0f} µs"


def metrics_text(metrics: Mapping[str, Any], digits: int = 4) -> str:
    """Metrics for a message: ``loss 0.482, codebook_usage 0.0625`` (never a dict repr or JSON)."""
    def one(v: Any) -> str:
        if isinstance(v, float):
            return NOT_APPLICABLE if math.isnan(v) else f"{v:.{digits}g}"
        return value_text(v)

    return ", ".join(f"{k} {one(v)}" for k, v in metrics.items()) or "none"


def _flat(value: Any) -> bool:
    """A scalar, a list of scalars, or a mapping of those: fits on one line."""
    if isinstance(value, Mapping):
        return all(_flat(v) and not isinstance(v, Mapping) for v in value.values())
    if isinstance(value, (list, tuple)):
        return not any(isinstance(v, (Mapping, list, tuple)) for v in value)
    return True


def settings_rows(settings: Mapping[str, Any], prefix: str = "") -> list[dict[str, str]]:
    """Nested settings (e.g. ``config_to_dict`` of a dataclass) as compact ``setting``/``value``
    rows: a flat mapping is one row (``key=value, ...``), a deeper one gives dotted keys, a list
    of mappings one row per item named by its ``name``/``kind``/``encoder`` (else its index)."""
    rows: list[dict[str, str]] = []
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not _flat(value):
            rows += settings_rows(value, prefix=f"{name}.")
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
            for i, item in enumerate(value):
                named = next((k for k in ("name", "kind", "encoder") if k in item), None)
                label = str(item[named]) if named else str(i + 1)
                rest = {k: v for k, v in item.items() if k != named}
                rows += ([{"setting": f"{name}: {label}", "value": value_text(rest)}] if _flat(rest)
                         else settings_rows(rest, prefix=f"{name}: {label}."))
        else:
            rows.append({"setting": name, "value": value_text(value)})
    return rows


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

    def table(self, rows: Sequence[Mapping[str, Any]], *, caption: str | None = None, columns: Sequence[str] | None = None,
              cls: str | None = None) -> Report:
        """A table (NaN and None cells read ``n/a``), in a box that scrolls sideways rather than
        overflowing the page when it is wider."""
        if not rows:
            return self.text("(no rows)", note=True)
        columns = list(columns or dict.fromkeys(k for r in rows for k in r))
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows)
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        attr = f' class="{html.escape(cls)}"' if cls else ""
        self.parts.append(f'<div class="wide"><table{attr}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')
        return self

    def banner(self, text: str, *, title: str = "Warning") -> Report:
        """A warning the reader cannot miss (a framed, coloured box)."""
        self.parts.append(f'<div class="banner" role="alert"><strong>{html.escape(title)}:</strong> {html.escape(text)}</div>')
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
        """The settings as a compact key/value table (see :func:`settings_rows`), then the versions."""
        import jax

        env = {"biolens": __version__, "jax": jax.__version__, "python": platform.python_version(),
               "platform": platform.platform(), "written": datetime.now(UTC).isoformat(timespec="seconds")}
        return self.heading(caption).table(settings_rows({**settings, **env}), cls="kv")

    def render(self) -> str:
        body = "\n".join(self.parts)
        return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(self.title)}</title>"
                f"<style>{_CSS}</style></head><body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n")

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        atomic_write_text(path, self.render())
        return path
