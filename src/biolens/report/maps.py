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
from .figures import new_figure

__all__ = ["PALETTE", "interactive_map", "project_2d", "scatter_map"]

#: Colour-blind-safe palette (Okabe–Ito, then Tableau) cycled over labels.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#8c564b", "#7f7f7f", "#bcbd22", "#17becf", "#9467bd", "#ff9896", "#98df8a", "#c5b0d5"]


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


def _colours(labels: Sequence[str]) -> dict[str, str]:
    return {lab: PALETTE[i % len(PALETTE)] for i, lab in enumerate(sorted(set(map(str, labels))))}


def scatter_map(coords: Float[np.ndarray, "N 2"], labels: Sequence[str], *, title: str = "", max_legend: int = 16):
    """A static scatter of a 2-D map coloured by label (matplotlib figure)."""
    colours = _colours(labels)
    fig, ax = new_figure(width=6.4, height=5.0)
    labels = np.asarray([str(v) for v in labels])
    for lab, colour in colours.items():
        pts = coords[labels == lab]
        ax.scatter(pts[:, 0], pts[:, 1], s=9, alpha=0.75, color=colour, label=f"{lab} ({len(pts)})", linewidths=0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    if len(colours) <= max_legend:
        ax.legend(loc="best", fontsize=7, markerscale=1.5, frameon=False)
    return fig


def interactive_map(
    coords: Float[np.ndarray, "N 2"], labels: Sequence[str], ids: Sequence[str], *,
    lengths: Sequence[int] | None = None, title: str = "", width: int = 720, height: int = 560,
) -> str:
    """An inline ``<svg>`` map: one circle per protein, coloured by label, with a hover tooltip
    (id, label, length) and a legend. Embed it with ``Report.raw`` or save it as a page."""
    if not (len(coords) == len(labels) == len(ids)):
        raise InputError("coords, labels and ids must have the same length")
    colours = _colours(labels)
    pad, legend_w = 20, 170
    lo, hi = coords.min(0), coords.max(0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    xy = (coords - lo) / span
    px = pad + xy[:, 0] * (width - legend_w - 2 * pad)
    py = height - pad - xy[:, 1] * (height - 2 * pad)
    points = []
    for i in range(len(coords)):
        tip = f"{ids[i]} | {labels[i]}" + (f" | {lengths[i]} aa" if lengths is not None else "")
        points.append(f'<circle cx="{px[i]:.1f}" cy="{py[i]:.1f}" r="3.2" fill="{colours[str(labels[i])]}" '
                      f'fill-opacity="0.8"><title>{html.escape(tip)}</title></circle>')
    legend = [f'<g transform="translate({width - legend_w + 10},{pad + 16 * k})"><circle r="5" cx="5" cy="-4" fill="{c}"/>'
              f'<text x="14" font-size="11">{html.escape(lab)}</text></g>' for k, (lab, c) in enumerate(colours.items())]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="{html.escape(title or "embedding map")}" style="font-family:sans-serif;border:1px solid #eee">'
            f'<title>{html.escape(title)}</title>{"".join(points)}{"".join(legend)}</svg>')
