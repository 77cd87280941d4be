"""The ``esm`` ``extract.py`` convention: several layers and views at once, one file per protein.

``biolens embed INPUT -e esm2-8m --repr-layers -1 3 --include mean per_tok bos --out-dir DIR``
writes ``DIR/<id>.npz`` per protein with one array per (view, layer), named as ``extract.py``
names its dictionary entries: ``mean_<layer>`` ``(D,)``, ``per_tok_<layer>`` ``(L, D)`` (special
tokens stripped), ``bos_<layer>`` ``(D,)``; layers are resolved indices (``-1`` on a 6-layer ESM2
is ``6``; 0 is the embedding layer). Each file also holds ``metadata`` (JSON: id, encoder,
fingerprint, layers). Every (layer, view) is one pass of the embedding driver through the store,
so a killed run resumes from the cache and a rerun computes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InputError
from ..core.files import atomic_write
from ..core.seqio import Record
from ..core.store import EmbeddingStore
from .embed import EmbedStats, embed_sequences
from .encoders.registry import get_encoder

__all__ = ["INCLUDE", "ExtractResult", "extract"]

#: What ``--include`` can ask for, and the driver's view that gives it.
INCLUDE: Mapping[str, str] = {"mean": "mean", "per_tok": "per_residue", "bos": "cls"}


@dataclass
class ExtractResult:
    """Where the files went and what the driver did for each (layer, view)."""

    files: list[Path] = field(default_factory=list)
    layers: list[int] = field(default_factory=list)
    stats: list[EmbedStats] = field(default_factory=list)


def _file_name(record: Record, source: str) -> str:
    name = record.id
    if not name or "/" in name or "\0" in name or name in (".", ".."):
        raise InputError(f"id {name!r} cannot name a file in --out-dir ('/' and empty ids are not file names); "
                         "rename the record or write one file with --out", source=source, line=record.line)
    return f"{name}.npz"


def _check_include(include: Sequence[str]) -> list[str]:
    unknown = [v for v in include if v not in INCLUDE]
    if "contacts" in unknown:
        raise InputError("--include contacts is not available: biolens has no contact-prediction head; "
                         f"choose from {', '.join(INCLUDE)}")
    if unknown or not include:
        raise InputError(f"--include takes {', '.join(INCLUDE)}; got {' '.join(include) or 'nothing'}")
    return list(dict.fromkeys(include))


def extract(records: Sequence[Record], encoder: str, out_dir: str | Path, *, layers: Sequence[int] | None = None,
            include: Sequence[str] = ("mean",), store: EmbeddingStore | None = None, token_budget: int | None = None,
            progress: bool = False, source: str = "input", **encoder_options: Any) -> ExtractResult:
    """Embed ``records`` at every layer in ``layers`` with every view in ``include`` and write one
    ``.npz`` per record into ``out_dir`` (see the module docstring for the names). ``layers=None``:
    the encoder's default layer only (the only choice for encoders without layers, e.g. ``onehot``,
    whose arrays are named with layer ``-1``)."""
    views = _check_include(include)
    names = [_file_name(r, source) for r in records]
    if len(set(names)) != len(names):
        raise InputError("duplicate ids would write one file twice; use --dedupe", source=source)
    if layers is not None and not layers:
        raise InputError("--repr-layers needs at least one layer")
    result = ExtractResult()
    per_record: list[dict[str, np.ndarray]] = [{} for _ in records]
    sequences = [r.sequence for r in records]
    if layers is None:
        encoders = [get_encoder(encoder, **encoder_options)]
    else:
        encoders = [get_encoder(encoder, layer=layer, **encoder_options) for layer in layers]
    for enc in encoders:
        resolved = enc.settings().get("layer", -1)
        result.layers.append(resolved)
        for view in views:
            pooling = INCLUDE[view]
            if pooling == "cls" and not enc.has_cls:
                raise InputError(f"--include bos needs an encoder with a BOS/CLS token; {enc.name} has none")
            arrays, stats = embed_sequences(sequences, enc, pooling="mean" if pooling == "per_residue" else pooling,
                                            per_residue=pooling == "per_residue", store=store,
                                            token_budget=token_budget, progress=progress)
            result.stats.append(stats)
            for slot, array in zip(per_record, arrays, strict=True):
                slot[f"{view}_{resolved}"] = array
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    first = encoders[0]
    for record, name, arrays in zip(records, names, per_record, strict=True):
        meta = {"id": record.id, "encoder": first.name, "fingerprints": [e.fingerprint() for e in encoders],
                "layers": result.layers, "include": views, "length": len(record.sequence)}
        path = out / name
        atomic_write(path, lambda fh, a=arrays, m=meta: np.savez(fh, **a, metadata=np.asarray(json.dumps(m))))
        result.files.append(path)
    return result
