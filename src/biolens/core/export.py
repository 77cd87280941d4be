"""Export embeddings keyed by record id to .npz, .h5 or .parquet.

Pooled embeddings: ``ids`` (N,) and ``embeddings`` (N, D).
Per-residue embeddings: ``ids`` (N,), ``lengths`` (N,), ``offsets`` (N + 1,) and
``embeddings`` (sum of lengths, D): record ``i`` is ``embeddings[offsets[i]:offsets[i+1]]``.
No format needs pickle to read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import InputError
from .extras import require
from .files import atomic_path, atomic_write
from .npzfile import read_npz

__all__ = ["EXPORT_FORMATS", "export_embeddings", "load_embeddings"]

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


def export_embeddings(path: str | Path, ids: Sequence[str], embeddings) -> Path:
    """Write ``embeddings`` (an (N, D) array, or a list of (L_i, D) arrays) keyed by ``ids``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {suffix!r}; use one of {EXPORT_FORMATS}", source=str(path))
    if len(set(ids)) != len(ids):
        raise InputError("duplicate ids cannot key an export", source=str(path))
    arrays = _flat(ids, embeddings)
    if suffix == ".npz":
        atomic_write(path, lambda fh: np.savez(fh, **arrays))
    elif suffix in (".h5", ".hdf5"):
        _write_h5(path, arrays)
    else:
        _write_parquet(path, arrays)
    return path


def _write_h5(path: Path, arrays: dict[str, np.ndarray]) -> None:
    h5py = require("h5py", extra="h5", purpose="Writing .h5 files")

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            for name, arr in arrays.items():
                if name == "ids":
                    f.create_dataset(name, data=arr.astype(object), dtype=h5py.string_dtype("utf-8"))
                else:
                    f.create_dataset(name, data=arr)

    atomic_path(path, write)


def _write_parquet(path: Path, arrays: dict[str, np.ndarray]) -> None:
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
    atomic_write(path, lambda fh: frame.write_parquet(fh))


def load_embeddings(path: str | Path) -> tuple[list[str], np.ndarray | list[np.ndarray]]:
    """Read an export back: ``(ids, (N, D) array)`` or ``(ids, list of (L_i, D) arrays)``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        arrays = read_npz(path)
    elif suffix in (".h5", ".hdf5"):
        h5py = require("h5py", extra="h5", purpose="Reading .h5 files")
        with h5py.File(path, "r") as f:
            arrays = {k: f[k][()] for k in f}
        arrays["ids"] = np.asarray([i.decode() if isinstance(i, bytes) else i for i in arrays["ids"]])
    elif suffix == ".parquet":
        import polars as pl

        frame = pl.read_parquet(path)
        ids = frame["id"].to_list()
        if "length" in frame.columns:
            return ids, [np.asarray(r, dtype=np.float32).reshape(-1, frame["embedding"].dtype.inner.size) for r in frame["embedding"].to_list()]
        return ids, frame["embedding"].to_numpy().astype(np.float32)
    else:
        raise InputError(f"unknown embedding file format {suffix!r}", source=str(path))
    ids = [str(i) for i in arrays["ids"]]
    if "offsets" in arrays:
        off = arrays["offsets"]
        return ids, [arrays["embeddings"][off[i] : off[i + 1]] for i in range(len(ids))]
    return ids, arrays["embeddings"]
