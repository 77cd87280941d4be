"""Export embeddings keyed by record id to .npz, .h5 or .parquet.

.npz (and the arrays inside a .parquet): pooled embeddings are ``ids`` (N,) and ``embeddings``
(N, D); per-residue embeddings are ``ids`` (N,), ``lengths`` (N,), ``offsets`` (N + 1,) and
``embeddings`` (sum of lengths, D): record ``i`` is ``embeddings[offsets[i]:offsets[i+1]]``.

.h5 follows the field's convention (bio_embeddings, ProtSpace): one dataset per record, named by
its id, ``(D,)`` pooled or ``(L, D)`` per residue, with the id again as the ``original_id``
attribute; what made the vectors (encoder, fingerprint, layer, pooling) is in the file's
attributes. Files written before that layout (``ids`` + ``embeddings`` datasets) still read back.

``metadata`` is stored with every format: .h5 file attributes, a ``metadata`` JSON string in the
.npz, Parquet key-value metadata. No format needs pickle to read back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .extras import require
from .files import atomic_path, atomic_write
from .npzfile import read_npz

__all__ = ["EXPORT_FORMATS", "export_embeddings", "load_embeddings", "load_metadata"]

EXPORT_FORMATS = (".npz", ".h5", ".hdf5", ".parquet")


def _flat(ids: Sequence[str], embeddings) -> dict[str, np.ndarray]:
    ids_arr = np.asarray(list(ids), dtype=str)
    if isinstance(embeddings, np.ndarray) and embeddings.ndim == 2:
        if len(embeddings) != len(ids_arr):
            raise ValueError(f"{len(ids_arr)} ids but {len(embeddings)} embeddings")
        return {"ids": ids_arr, "embeddings": embeddings}
    lengths = np.asarray([len(e) for e in embeddings], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    width = embeddings[0].shape[-1] if len(embeddings) else 0
    flat = np.concatenate(list(embeddings)) if len(embeddings) else np.zeros((0, width), np.float32)
    return {"ids": ids_arr, "lengths": lengths, "offsets": offsets, "embeddings": flat}


def export_embeddings(path: str | Path, ids: Sequence[str], embeddings,
                      metadata: Mapping[str, str | int | float | bool | None] | None = None) -> Path:
    """Write ``embeddings`` (an (N, D) array, or a list of (L_i, D) arrays) keyed by ``ids``.

    ``metadata``: what made the vectors (e.g. ``encoder``, ``fingerprint``, ``layer``, ``pooling``),
    stored with the file and read back by :func:`load_metadata`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {suffix!r}; use one of {EXPORT_FORMATS}", source=str(path))
    if len(set(ids)) != len(ids):
        raise InputError("duplicate ids cannot key an export", source=str(path))
    meta = {k: v for k, v in (metadata or {}).items() if v is not None}
    if suffix in (".h5", ".hdf5"):
        _write_h5(path, list(ids), embeddings, meta)
        return path
    arrays = _flat(ids, embeddings)
    if suffix == ".npz":
        extra = {"metadata": np.asarray(json.dumps(meta, sort_keys=True))} if meta else {}
        atomic_write(path, lambda fh: np.savez(fh, **arrays, **extra))
    else:
        _write_parquet(path, arrays, meta)
    return path


def _h5_name(record_id: str, path: Path) -> str:
    if not record_id or "/" in record_id or record_id in (".", ".."):
        raise InputError(f"id {record_id!r} cannot name an HDF5 dataset ('/' separates HDF5 groups); "
                         "rename the record or export to .npz or .parquet", source=str(path))
    return record_id


def _write_h5(path: Path, ids: list[str], embeddings, meta: dict[str, Any]) -> None:
    h5py = require("h5py", extra="h5", purpose="Writing .h5 files")
    names = [_h5_name(i, path) for i in ids]
    if isinstance(embeddings, np.ndarray) and embeddings.ndim == 2 and len(embeddings) != len(ids):
        raise ValueError(f"{len(ids)} ids but {len(embeddings)} embeddings")

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w", track_order=True) as f:  # datasets read back in input order
            f.attrs["biolens_layout"] = "per_id"
            f.attrs["per_residue"] = not (isinstance(embeddings, np.ndarray) and embeddings.ndim == 2)
            for key, value in meta.items():
                f.attrs[key] = value
            for name, record_id, arr in zip(names, ids, embeddings, strict=True):
                f.create_dataset(name, data=np.asarray(arr, dtype=np.float32)).attrs["original_id"] = record_id

    atomic_path(path, write)


def _read_h5(path: Path) -> tuple[list[str], np.ndarray | list[np.ndarray]]:
    h5py = require("h5py", extra="h5", purpose="Reading .h5 files")
    with h5py.File(path, "r") as f:
        if f.attrs.get("biolens_layout") != "per_id":  # the layout before per-id datasets
            arrays = {k: f[k][()] for k in f}
            arrays["ids"] = np.asarray([i.decode() if isinstance(i, bytes) else i for i in arrays["ids"]])
            return _unflat(arrays)
        ids = [str(f[name].attrs.get("original_id", name)) for name in f]
        values = [f[name][()] for name in f]
        per_residue = bool(f.attrs.get("per_residue"))
    if per_residue:
        return ids, values
    width = values[0].shape[-1] if values else 0
    return ids, np.stack(values) if values else np.zeros((0, width), np.float32)


def load_metadata(path: str | Path) -> dict[str, Any]:
    """What :func:`export_embeddings` stored as ``metadata`` (empty for files without any)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as f:
            return json.loads(str(f["metadata"])) if "metadata" in f.files else {}
    if suffix in (".h5", ".hdf5"):
        h5py = require("h5py", extra="h5", purpose="Reading .h5 files")
        with h5py.File(path, "r") as f:
            skip = {"biolens_layout", "per_residue"}
            return {k: v.item() if hasattr(v, "item") else v for k, v in f.attrs.items() if k not in skip}
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        raw = pq.read_schema(path).metadata or {}
        return json.loads(raw[b"biolens"]) if b"biolens" in raw else {}
    raise InputError(f"unknown embedding file format {suffix!r}", source=str(path))


def _write_parquet(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    import polars as pl

    emb = arrays["embeddings"]
    if "offsets" in arrays:
        off = arrays["offsets"]
        rows = [emb[off[i] : off[i + 1]].tolist() for i in range(len(arrays["ids"]))]
        frame = pl.DataFrame(
            {"id": arrays["ids"], "length": arrays["lengths"], "embedding": rows},
            schema={"id": pl.String, "length": pl.Int64, "embedding": pl.List(pl.Array(pl.Float32, emb.shape[1]))},
        )
    else:
        frame = pl.DataFrame({"id": arrays["ids"]}).with_columns(
            pl.Series("embedding", emb, dtype=pl.Array(pl.Float32, emb.shape[1]))
        )
    if not meta:
        atomic_write(path, lambda fh: frame.write_parquet(fh))
        return
    import pyarrow.parquet as pq

    table = frame.to_arrow()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"biolens": json.dumps(meta).encode()})
    atomic_path(path, lambda tmp: pq.write_table(table, tmp))


def load_embeddings(path: str | Path) -> tuple[list[str], np.ndarray | list[np.ndarray]]:
    """Read an export back: ``(ids, (N, D) array)`` or ``(ids, list of (L_i, D) arrays)``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        arrays = read_npz(path, select=lambda k: k != "metadata")
    elif suffix in (".h5", ".hdf5"):
        return _read_h5(path)
    elif suffix == ".parquet":
        import polars as pl

        frame = pl.read_parquet(path)
        ids = frame["id"].to_list()
        if "length" in frame.columns:
            return ids, [np.asarray(r, dtype=np.float32).reshape(-1, frame["embedding"].dtype.inner.size) for r in frame["embedding"].to_list()]
        return ids, frame["embedding"].to_numpy().astype(np.float32)
    else:
        raise InputError(f"unknown embedding file format {suffix!r}", source=str(path))
    return _unflat(arrays)


def _unflat(arrays: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray | list[np.ndarray]]:
    ids = [str(i) for i in arrays["ids"]]
    if "offsets" in arrays:
        off = arrays["offsets"]
        return ids, [arrays["embeddings"][off[i] : off[i + 1]] for i in range(len(ids))]
    return ids, arrays["embeddings"]
