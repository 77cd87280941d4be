"""2-D maps of embeddings: a projection (PCA, t-SNE, UMAP), a static scatter figure and an
interactive, self-contained SVG map whose points show their id, label and length on hover
(native SVG ``<title>`` tooltips: no script, no network)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
from jaxtyping import Float

from ..core.errors import InputError
from ..core.extras import require
from ._figures import new_figure

__all__ = ["PALETTE", "axis_name", "interactive_map", "project_2d", "scatter_map"]

#: Ten well-separated colours (matplotlib's tab10) cycled over labels; past ten, the marker
#: shape changes instead (circle, square, triangle, diamond), so no two labels look alike.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]
_MARKERS = ("o", "s", "^", "D")
_AXIS_NAMES = {"tsne": "t-SNE", "umap": "UMAP", "pca": "PC"}


def axis_name(method: str | None) -> str:
    """The axis name of a projection: ``t-SNE``, ``UMAP``, ``PC`` (``dimension`` when unknown)."""
    return _AXIS_NAMES.get(method or "", method or "dimension")


def project_2d(x: Float[np.ndarray, "N D"], method: str = "tsne", *, seed: int = 0, perplexity: float = 30.0) -> Float[np.ndarray, "N 2"]:
    """Project rows of ``x`` to 2-D, deterministically for a given ``seed``.

    ``pca`` (exact, via SVD), ``tsne`` (scikit-learn, PCA initialisation; perplexity capped
    below N/3 for small sets) or ``umap`` (the ``umap`` extra).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 3:
        raise InputError(f"a 2-D map needs at least 3 points with features, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InputError("embeddings contain NaN or infinite values; cannot draw a map")
    if method == "pca":
        centred = x - x.mean(0)
        u, s, _ = np.linalg.svd(centred, full_matrices=False)
        coords = u[:, :2] * s[:2]
        return (coords * np.sign(coords[np.abs(coords).argmax(0), [0, 1]])).astype(np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perp = min(perplexity, max(2.0, (len(x) - 1) / 3.0))
        return TSNE(2, perplexity=perp, init="pca", random_state=seed).fit_transform(x).astype(np.float32)
    if method == "umap":
        umap = require("umap", extra="umap", purpose="UMAP maps")
        return umap.UMAP(n_components=2, random_state=seed).fit_transform(x).astype(np.float32)
    raise InputError(f"unknown projection {method!r}; use pca, tsne or umap")


def _styles(labels: Sequence[str], order: Sequence[str] | None = None) -> dict[str, tuple[str, str]]:
    """label -> (colour, marker): ten colours, then the next marker shape."""
    present = set(map(str, labels))
    names = [n for n in order if n in present] if order is not None else sorted(present)
    names += sorted(present - set(names))
    return {lab: (PALETTE[i % len(PALETTE)], _MARKERS[(i // len(PALETTE)) % len(_MARKERS)]) for i, lab in enumerate(names)}


def scatter_map(coords: Float[np.ndarray, "N 2"], labels: Sequence[str], *, title: str = "", max_legend: int = 24,
                annotations: Sequence[str] | None = None, order: Sequence[str] | None = None, method: str | None = None):
    """A static scatter of a 2-D map coloured by label (matplotlib figure), its legend (label and
    count) outside the axes, axes named by the projection (``method``: tsne, umap, pca).

    ``annotations`` writes a text beside every point (e.g. the token of a token-embedding map);
    ``order`` fixes the legend order and colours of known labels (default: sorted).
    """
    styles = _styles(labels, order)
    fig, ax = new_figure(width=7.6, height=5.0)
    labels = np.asarray([str(v) for v in labels])
    size = 9 if annotations is None else 40
    for lab, (colour, marker) in styles.items():
        pts = coords[labels == lab]
        ax.scatter(pts[:, 0], pts[:, 1], s=size, alpha=0.8, color=colour, marker=marker, label=f"{lab} ({len(pts)})",
                   linewidths=0)
    for (x, y), text in zip(coords, annotations or [], strict=False):
        ax.annotate(str(text), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7)
    name = axis_name(method)
    ax.set_xlabel(f"{name} 1")
    ax.set_ylabel(f"{name} 2")
    ax.tick_params(labelsize=7)
    ax.set_title(title)
    if len(styles) <= max_legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, markerscale=1.5, frameon=False)
    return fig


def _svg_marker(marker: str, x: float | int, y: float | int, colour: str, r: float | int, inner: str = "") -> str:
    style = f'fill="{colour}" fill-opacity="0.85"'
    if marker == "s":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" {style}>{inner}</rect>'
    if marker in ("^", "D"):
        pts = ([(x, y - r * 1.2), (x - r * 1.1, y + r * 0.8), (x + r * 1.1, y + r * 0.8)] if marker == "^" else
               [(x, y - r * 1.3), (x - r * 1.1, y), (x, y + r * 1.3), (x + r * 1.1, y)])
        return f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" {style}>{inner}</polygon>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" {style}>{inner}</circle>'


def interactive_map(
    coords: Float[np.ndarray, "N 2"], labels: Sequence[str], ids: Sequence[str], *,
    lengths: Sequence[int] | None = None, title: str = "", width: int = 720, height: int = 560,
    method: str | None = None,
) -> str:
    """An inline ``<svg>`` map: one mark per protein, coloured (and past ten labels shaped) by
    label, with a hover tooltip (id, label, length), framed axes named by the projection
    (``method``) with their end values, and a legend (label and count) beside the frame, never on
    the points. Embed it with ``Report.raw`` or save it as a page."""
    if not (len(coords) == len(labels) == len(ids)):
        raise InputError("coords, labels and ids must have the same length")
    styles = _styles(labels)
    labels = [str(v) for v in labels]
    counts = {lab: labels.count(lab) for lab in styles}
    legend_w = min(220, 40 + 7 * max(len(f"{lab} ({n})") for lab, n in counts.items()))
    left, right, top, bottom = 44, width - legend_w - 10, 26, height - 40
    lo, hi = coords.min(0), coords.max(0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    xy = (coords - lo) / span
    inset = 8  # points stay off the frame
    px = left + inset + xy[:, 0] * (right - left - 2 * inset)
    py = bottom - inset - xy[:, 1] * (bottom - top - 2 * inset)
    points = []
    for i in range(len(coords)):
        tip = f"{ids[i]} | {labels[i]}" + (f" | {lengths[i]} aa" if lengths is not None else "")
        colour, marker = styles[labels[i]]
        points.append(_svg_marker(marker, float(px[i]), float(py[i]), colour, 3.2, f"<title>{html.escape(tip)}</title>"))
    name = html.escape(axis_name(method))
    axes = (f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" stroke="#8c959f"/>'
            f'<text x="{(left + right) / 2:.0f}" y="{height - 8}" font-size="11" text-anchor="middle">{name} 1</text>'
            f'<text transform="translate(12,{(top + bottom) / 2:.0f}) rotate(-90)" font-size="11" text-anchor="middle">{name} 2</text>'
            f'<text x="{left}" y="{bottom + 13}" font-size="9" fill="#57606a">{lo[0]:.3g}</text>'
            f'<text x="{right}" y="{bottom + 13}" font-size="9" fill="#57606a" text-anchor="end">{hi[0]:.3g}</text>'
            f'<text x="{left - 3}" y="{bottom}" font-size="9" fill="#57606a" text-anchor="end">{lo[1]:.3g}</text>'
            f'<text x="{left - 3}" y="{top + 8}" font-size="9" fill="#57606a" text-anchor="end">{hi[1]:.3g}</text>')
    heading = f'<text x="{left}" y="16" font-size="12" font-weight="600">{html.escape(title)}</text>' if title else ""
    legend = [f'<g transform="translate({right + 12},{top + 8 + 16 * k})">'
              f'{_svg_marker(marker, 5, -4, colour, 4.5)}<text x="14" font-size="11">{html.escape(lab)} ({counts[lab]})</text></g>'
              for k, (lab, (colour, marker)) in enumerate(styles.items())]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="{html.escape(title or "embedding map")}" style="font-family:sans-serif;border:1px solid #eee">'
            f'<title>{html.escape(title)}</title>{heading}{axes}{"".join(points)}{"".join(legend)}</svg>')
