"""Maps and figures of what a protein language model learned (the book's chapter 1).

* :func:`token_map` -- the input embedding table (ESM2 / ``mlm:RUN``: ``(33, D)``; UniRep:
  ``(26, 10)``) projected to 2-D, each token labelled and coloured by amino-acid property group
  (:data:`PROPERTY_GROUPS`);
* :func:`protein_map` -- pooled embeddings of labelled proteins projected to 2-D, coloured by label,
  drawn as a figure and as a hover-able SVG page (id, label, length);
* :func:`probability_figure` -- per chosen position, a bar chart of the model's probabilities
  over the 20 amino acids with the true residue marked.

Projections are :func:`biolens.report.project_2d` (``pca``, ``tsne``, ``umap``), deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from jaxtyping import Float

from ...core.errors import InputError
from ...report import interactive_map, project_2d, scatter_map
from ..encoders._base import Encoder
from ._scoring import AMINO_ACIDS

__all__ = ["PROPERTY_GROUPS", "MapResult", "probability_figure", "property_group", "protein_map", "token_embeddings",
           "token_map"]

#: Amino-acid property groups of the token map (letters not listed are "non-standard").
PROPERTY_GROUPS = {"hydrophobic": "AVILMFW", "polar": "STNQY", "charged": "DEKRH", "special": "CGP"}
GROUP_ORDER = ("hydrophobic", "polar", "charged", "special", "non-standard", "special token")


def property_group(token: str) -> str:
    """The group of a token: an amino-acid group, ``non-standard`` (X, B, Z, U, O, gaps) or ``special token``."""
    if len(token) != 1 or not (token.isalpha() or token in ".-"):
        return "special token"
    return next((g for g, letters in PROPERTY_GROUPS.items() if token in letters), "non-standard")


def _unirep_tokens() -> list[str]:
    from ..encoders.unirep._encoder import UNIREP_CODES

    names = ["<pad>"] + [""] * 25
    for letter, code in UNIREP_CODES.items():
        names[code] = letter if not names[code] else f"{names[code]}/{letter}"
    names[24], names[25] = "<start>", "<stop>"
    return names


def token_embeddings(encoder: Encoder) -> tuple[list[str], Float[np.ndarray, "V E"]]:
    """The token names and input embedding table of an ESM2-family or UniRep encoder."""
    from ..encoders.esm2._encoder import ESM2Encoder
    from ..encoders.esm2._io import ESM_TOKENS
    from ..encoders.unirep._encoder import UniRepEncoder

    if isinstance(encoder, ESM2Encoder):
        # ESM C's table has 64 rows; ids past ESM_TOKENS are never produced by the tokenizer
        return list(ESM_TOKENS), np.asarray(encoder.model.embed[: len(ESM_TOKENS)], dtype=np.float64)
    if isinstance(encoder, UniRepEncoder):
        return _unirep_tokens(), np.asarray(encoder.model.embedding, dtype=np.float64)
    raise InputError(f"encoder {encoder.name} has no token embedding table (use esm2-*, esm2:DIR, mlm:RUN or unirep-*)")


@dataclass
class MapResult:
    """A 2-D map: coordinates, one label (colour) and one name per point, and the figure."""

    coords: Float[np.ndarray, "N 2"]
    labels: list[str]
    names: list[str]
    figure: Any
    svg: str | None = None


def token_map(encoder: Encoder, *, method: str = "tsne", seed: int = 0, skip_unused: bool = True) -> MapResult:
    """The token-embedding map; ``skip_unused`` leaves out rows no input uses (``<null_1>``, UniRep's unused codes)."""
    names, table = token_embeddings(encoder)
    keep = [i for i, n in enumerate(names) if n and not (skip_unused and n in ("<null_1>", "<stop>"))]
    names, table = [names[i] for i in keep], table[keep]
    coords = project_2d(table, method, seed=seed, perplexity=5.0)
    groups = [property_group(n.split("/")[0]) for n in names]
    fig = scatter_map(coords, groups, title=f"{encoder.name}: token embeddings ({method})", annotations=names,
                      order=GROUP_ORDER, method=method)
    return MapResult(coords, groups, names, fig)


def protein_map(embeddings: Float[np.ndarray, "N D"], labels: Sequence[str], ids: Sequence[str],
                lengths: Sequence[int], *, method: str = "tsne", seed: int = 0, title: str = "") -> MapResult:
    """Pooled protein embeddings projected to 2-D: a figure and an interactive SVG (hover: id, label, length)."""
    coords = project_2d(np.asarray(embeddings), method, seed=seed)
    labels = [str(v) for v in labels]
    fig = scatter_map(coords, labels, title=title, method=method)
    svg = interactive_map(coords, labels, list(ids), lengths=list(lengths), title=title, method=method)
    return MapResult(coords, labels, list(ids), fig, svg)


def probability_figure(probs: Float[np.ndarray, "P 20"], sequence: str, positions: Sequence[int], *,
                       title: str = "", columns: int = 3) -> Any:
    """One bar chart per 0-based position: the probability of each amino acid; the true residue's
    bar is drawn in another colour and marked with a triangle."""
    from ...report import new_figure

    rows = -(-len(positions) // columns)
    fig, _ = new_figure(width=4.2 * min(columns, len(positions)), height=2.6 * rows)
    fig.clear()
    axes = np.atleast_1d(fig.subplots(rows, min(columns, len(positions)), squeeze=False).ravel())
    x = np.arange(20)
    for ax, p, row in zip(axes, positions, probs, strict=False):
        true = AMINO_ACIDS.find(sequence[p])
        colours = ["#D55E00" if i == true else "#0072B2" for i in x]
        ax.bar(x, row, color=colours)
        if true >= 0:
            ax.plot([true], [row[true] + 0.02 * max(row.max(), 1e-9) * 5], "v", color="#D55E00", ms=6)
        ax.set_xticks(x, list(AMINO_ACIDS), fontsize=7)
        ax.set_ylim(0, max(float(row.max()) * 1.15, 0.05))
        ax.set_title(f"position {p + 1} (true {sequence[p]}, p = {row[true]:.2f})" if true >= 0 else f"position {p + 1}",
                     fontsize=9)
        ax.set_ylabel("probability", fontsize=8)
    for ax in axes[len(positions):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
