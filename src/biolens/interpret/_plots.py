"""Figures of attributions: a mutation heat map centred at zero, a per-position importance track,
and a sequence logo of the important window -- matplotlib only (letters are drawn as glyph paths
scaled to their height, so there is no extra dependency such as logomaker/pandas to install)."""

from __future__ import annotations

from typing import Any

import numpy as np
from jaxtyping import Float

from ._motifs import span_text

__all__ = ["attribution_figure", "importance_track", "mutation_heatmap", "sequence_logo"]

BASES = "ACGT"
COLORS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839"}


def mutation_heatmap(ax: Any, delta: Float[np.ndarray, "L A"], sequence: str, *, start: int = 0,
                     label: str = "prediction change", alphabet: str = BASES, origin: int = 0) -> Any:
    """Heat map of substitution effects (letters of ``alphabet`` x positions; ``A`` letters), a
    diverging colour map centred at zero (symmetric limits); the reference letter of each position
    is marked with a dot. Row ``p`` of ``delta`` is drawn at position ``start + p + origin``
    (``origin=1``: 1-based, as mutation codes like ``A24G``); the axis label says which."""
    delta = np.asarray(delta)
    limit = float(np.abs(delta).max()) or 1.0
    start_at = start + origin
    extent = (start_at - 0.5, start_at + len(delta) - 0.5, len(alphabet) - 0.5, -0.5)
    image = ax.imshow(delta.T, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", extent=extent,
                      interpolation="nearest")
    for p, base in enumerate(sequence[start : start + len(delta)]):
        if base in alphabet:
            ax.plot(start_at + p, alphabet.index(base), "o", ms=1.8, color="black")
    ax.set_yticks(range(len(alphabet)), list(alphabet), fontsize=7 if len(alphabet) > 4 else None)
    ax.set_xlabel(f"position ({'1-based' if origin == 1 else f'{origin}-based'})")
    ax.figure.colorbar(image, ax=ax, label=label, fraction=0.025, pad=0.01)
    return image


def importance_track(ax: Any, tracks: dict[str, np.ndarray], *, window: tuple[int, int] | None = None,
                     motif: tuple[int, int] | None = None) -> None:
    """Per-position importance lines (one per method, each scaled to its max |value|), with the
    important window and the motif match shaded."""
    for name, values in tracks.items():
        values = np.asarray(values, dtype=np.float64)
        scale = np.abs(values).max() or 1.0
        ax.plot(np.arange(len(values)), values / scale, label=f"{name} (max |value| {scale:.3g})", lw=1.2)
    if window is not None:
        ax.axvspan(window[0] - 0.5, window[1] - 0.5, color="#999999", alpha=0.25, label="important window")
    if motif is not None:
        ax.axvspan(motif[0] - 0.5, motif[1] - 0.5, fill=False, hatch="//", edgecolor="#7b3294", label="motif match")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlim(-0.5, len(next(iter(tracks.values()))) - 0.5)
    ax.set_ylabel("importance (scaled)")
    ax.legend(loc="upper right", fontsize=7, ncols=2)


def _glyph(ax: Any, letter: str, x: float | int, bottom: float, height: float) -> None:
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    path = TextPath((0, 0), letter, size=1, prop=FontProperties(family="DejaVu Sans", weight="bold"))
    box = path.get_extents()
    transform = (Affine2D().translate(-box.x0, -box.y0).scale(0.9 / box.width, abs(height) / box.height)
                 .translate(x - 0.45, bottom))
    ax.add_patch(PathPatch(transform.transform_path(path), color=COLORS[letter], lw=0))


def sequence_logo(ax: Any, weights: Float[np.ndarray, "W 4"], *, start: int = 0) -> None:
    """A logo of a ``(W, 4)`` matrix: at each position positive letters stack upwards and negative
    ones downwards, each as tall as its value, the largest furthest from zero."""
    weights = np.asarray(weights, dtype=np.float64)
    for p, row in enumerate(weights):
        up, down = 0.0, 0.0
        for a in np.argsort(np.abs(row)):
            value = row[a]
            if value > 0:
                _glyph(ax, BASES[a], start + p, up, value)
                up += value
            elif value < 0:
                down += value
                _glyph(ax, BASES[a], start + p, down, -value)
    from matplotlib.ticker import MaxNLocator

    ax.set_xlim(start - 0.5, start + len(weights) - 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    low, high = min(weights.clip(max=0).sum(1).min(), 0.0), max(weights.clip(min=0).sum(1).max(), 0.0)
    pad = 0.05 * ((high - low) or 1.0)
    ax.set_ylim(low - pad, high + pad)
    ax.axhline(0, color="black", lw=0.5)


def attribution_figure(
    sequence: str,
    x: Float[np.ndarray, "L 4"],
    *,
    ism: Float[np.ndarray, "L 4"] | None = None,
    gradients: Float[np.ndarray, "L 4"] | None = None,
    window: tuple[int, int] | None = None,
    motif: tuple[int, int] | None = None,
    title: str = "",
) -> Any:
    """Heat map of ISM effects, importance tracks (ISM and gradient x input) and a logo of the
    important window (ISM importance at the present base, else gradient x input)."""
    from ._gradients import gradient_importance
    from ._ism import ism_importance

    if ism is None and gradients is None:
        raise ValueError("give ism, gradients or both")
    tracks: dict[str, np.ndarray] = {}
    if ism is not None:
        tracks["ISM: -mean effect"] = ism_importance(ism[None], x[None])[0]
    if gradients is not None:
        tracks["gradient x input"] = gradient_importance(gradients[None], x[None])[0]
    rows = 3 if ism is not None else 2
    fig, axes = _rows(rows)
    axes = list(axes)
    if ism is not None:
        mutation_heatmap(axes.pop(0), ism, sequence, label="ISM effect")
    importance_track(axes[0], tracks, window=window, motif=motif)
    w0, w1 = window or (0, len(sequence))
    logo_values = next(iter(tracks.values()))[w0:w1, None] * np.asarray(x)[w0:w1]
    sequence_logo(axes[1], logo_values, start=w0)
    axes[1].set_xlabel(f"important window {span_text(w0, w1)}, {next(iter(tracks))}")
    if title:
        fig.suptitle(title)
    return fig


def _rows(n: int) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 2.4 * n), layout="constrained")
    return fig, fig.subplots(n, 1)
