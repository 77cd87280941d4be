"""The benchmark's embedding maps: one 2-D projection (t-SNE, UMAP or PCA) per encoder of the
pooled embeddings of one task's proteins, coloured by label on the report page.

The task is ``config.map_task`` when the benchmark has it, else its first task with class
labels; at most ``config.map_proteins`` of its proteins (a seeded subsample) are drawn. Projections are saved under ``DIR/maps/`` keyed by what determines them (encoder
fingerprint, pooling, method, seed and the proteins), so a rerun draws the same maps without
computing them again. An encoder whose pooled embeddings equal another's (mean-pooled one-hot
*is* the composition) gets no second map.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.files import atomic_write_bytes, text_digest
from ..proteins.embed import embed_sequences
from ..proteins.encoders import Encoder
from ..proteins.tasks import TASK_KINDS, TaskData

if TYPE_CHECKING:
    from ._suite import BenchmarkConfig

__all__ = ["MAP_KINDS", "MapData", "embedding_maps", "map_task"]

#: Task kinds whose labels can colour a map: class labels per protein (binary, multiclass, multilabel).
MAP_KINDS = tuple(k for k, spec in TASK_KINDS.items() if spec.classification and not spec.per_residue)


@dataclass
class MapData:
    """2-D coordinates of one task's proteins, per encoder.

    Attributes:
        coords: encoder -> ``(N, 2)`` projection; ``widths``: encoder -> embedding width.
        same_as: encoder -> the earlier encoder whose pooled embeddings it equals (no map of its own).
        computed / reused: projections computed in this run / read back from ``DIR/maps``.
    """

    task: str
    method: str
    ids: list[str]
    labels: list[str]
    lengths: list[int]
    coords: dict[str, np.ndarray] = field(default_factory=dict)
    widths: dict[str, int] = field(default_factory=dict)
    same_as: dict[str, str] = field(default_factory=dict)
    computed: int = 0
    reused: int = 0


def map_task(config: BenchmarkConfig, data: dict[str, TaskData]) -> str | None:
    """``config.map_task`` if the benchmark has it with class labels, else the first such task."""
    names = [config.map_task, *(t.name for t in config.tasks)]
    return next((n for n in names if n in data and data[n].task.kind in MAP_KINDS), None)


def _label_text(data: TaskData, y: Any) -> str:
    names = data.task.label_names
    return data.task.spec.label_text(y, names) or "none"


def _projection(x: np.ndarray, path: Path, method: str, seed: int) -> tuple[np.ndarray, bool]:
    """``(coords, reused)``: read back from ``path`` or projected and saved there."""
    from ..report import project_2d

    if path.exists():
        try:
            coords = np.load(path, allow_pickle=False)
            if coords.shape == (len(x), 2):
                return coords, True
        except (OSError, ValueError):
            pass  # a damaged file is recomputed
    coords = project_2d(x, method, seed=seed)
    buf = io.BytesIO()
    np.save(buf, coords, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())
    return coords, False


def embedding_maps(config: BenchmarkConfig, data: dict[str, TaskData], encoders: dict[str, Encoder], store: Any,
                   out: Path) -> MapData | None:
    """The maps of the module docstring (``None`` when no task has class labels)."""
    name = map_task(config, data)
    if name is None:
        return None
    task = data[name]
    if len(task) > config.map_proteins:  # a seeded subsample: t-SNE's cost grows faster than the proteins
        keep = np.sort(np.random.default_rng(config.seed).choice(len(task), config.map_proteins, replace=False))
        task = task.subset(keep.tolist())
    maps = MapData(task=name, method=config.map_method, ids=list(task.ids),
                   labels=[_label_text(task, y) for y in task.labels], lengths=[len(s) for s in task.sequences])
    proteins = text_digest("\n".join(task.sequences))
    seen: dict[str, np.ndarray] = {}
    for enc_name, enc in encoders.items():
        if config.pooling not in enc.poolings:
            continue
        arrays, _ = embed_sequences(task.sequences, enc, pooling=config.pooling, store=store)
        x = np.stack(arrays)
        same = next((k for k, y in seen.items() if y.shape == x.shape and np.allclose(x, y, atol=1e-6)), None)
        if same is not None:
            maps.same_as[enc_name] = same
            continue
        seen[enc_name] = x
        key = text_digest(json.dumps([enc.fingerprint(), config.pooling, config.map_method, config.seed, proteins]))
        maps.coords[enc_name], reused = _projection(x, out / "maps" / f"{key[:20]}.npy", config.map_method, config.seed)
        maps.widths[enc_name] = x.shape[1]
        maps.reused += reused
        maps.computed += not reused
    return maps
