"""Writing attributions to a folder: arrays, known-motif checks and one figure per record
(what ``biolens dna ism|saliency`` produce; model-agnostic: it takes arrays)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import atomic_path, atomic_write_bytes, atomic_write_text
from ..report import figure_to_png
from ._gradients import gradient_importance
from ._ism import ism_importance
from ._motifs import Motif, important_window, motif_check, span_text
from ._plots import attribution_figure

__all__ = ["write_explanations"]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80] or "record"


def write_explanations(out: Path, ids: tuple[str, ...], sequences: tuple[str, ...], x: np.ndarray, *,
                       ism: np.ndarray | None, gradients: np.ndarray | None, motif: Motif | None,
                       plot: int, window: int, title: str) -> dict[str, Any]:
    """Write ``attributions.npz``, ``motif_check.json`` (when a motif is given) and one PNG per plotted
    record; returns a summary (motif agreement counts, figure paths)."""
    out.mkdir(parents=True, exist_ok=True)
    importance = ism_importance(ism, x) if ism is not None else gradient_importance(gradients, x)
    arrays = {"ids": np.asarray(ids), "importance": importance}
    if ism is not None:
        arrays["ism"] = ism
    if gradients is not None:
        arrays["gradients"] = gradients
    def save(path: Path) -> None:
        with path.open("wb") as fh:
            np.savez_compressed(fh, **arrays)

    atomic_path(out / "attributions.npz", save)
    width = motif.width if motif is not None else window
    checks = [motif_check(x[i], importance[i], motif, width) if motif is not None else None for i in range(len(ids))]
    summary: dict[str, Any] = {"records": len(ids), "figures": []}
    if motif is not None:
        summary["motif"] = {"name": motif.name, "source": motif.source,
                            "agree": sum(c.agrees for c in checks), "of": len(checks)}
        atomic_write_text(out / "motif_check.json", json.dumps(
            {"summary": summary["motif"], "records": {i: c.as_dict() for i, c in zip(ids, checks, strict=True)}},
            indent=1) + "\n")
    for i in range(min(plot, len(ids))):
        check = checks[i]
        win = check.window if check is not None else important_window(importance[i], width)
        fig = attribution_figure(sequences[i], x[i], ism=None if ism is None else ism[i],
                                 gradients=None if gradients is None else gradients[i], window=win,
                                 motif=(check.hit.start, check.hit.end) if check is not None else None,
                                 title=f"{title} {ids[i]}" + (f" -- {motif.name} match [{check.hit.start}, {check.hit.end}) "
                                                             f"({check.hit.strand}), important window "
                                                             f"{span_text(*win)}" if check is not None else ""))
        path = out / f"{i:03d}_{_safe(ids[i])}.png"
        atomic_write_bytes(path, figure_to_png(fig, dpi=120))
        summary["figures"].append(str(path))
    return summary
