"""Content-keyed Parquet shards: the Ray backend's cache and output.

A shard's name is the SHA-256 of what it holds -- the encoder fingerprint, the view (a pooling
or ``residues``) and the sorted hashes of its sequences -- so the same work always lands in the
same file and a rerun finds it done. A shard is written to a temporary sibling and renamed:
it is complete or absent. Layout under the shard folder::

    <fingerprint[:16]>/<view>/<key>.parquet    columns seq_hash, pooling (the store's key),
                                               shape, embedding (float32, flattened);
                                               file metadata: the full fingerprint, the encoder
    pending/<key>.parquet                      a shard's input (seq_hash, sequence), until done
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from ..core.files import atomic_path, text_digest
from ..core.store import EmbeddingStore

__all__ = ["import_shards", "read_shard", "shard_key", "shard_path", "write_input", "write_shard"]


def shard_key(fingerprint: str, view: str, hashes: Iterable[str]) -> str:
    return text_digest("\n".join([fingerprint, view, *sorted(hashes)]))[:32]


def shard_path(root: Path, fingerprint: str, view: str, key: str) -> Path:
    return root / fingerprint[:16] / view.replace("+", "_") / f"{key}.parquet"


def _write(path: Path, table) -> None:
    import pyarrow.parquet as pq

    atomic_path(path, lambda tmp: pq.write_table(table, tmp))


def write_input(path: Path, hashes: Sequence[str], sequences: Sequence[str]) -> None:
    import pyarrow as pa

    _write(path, pa.table({"seq_hash": list(hashes), "sequence": list(sequences)}))


def read_input(path: Path) -> tuple[list[str], list[str]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return table.column("seq_hash").to_pylist(), table.column("sequence").to_pylist()


def write_shard(path: Path, fingerprint: str, description: dict, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
    """Write ``(seq_hash, store key, array)`` rows as one complete-or-absent shard."""
    import pyarrow as pa

    arrays = [np.ascontiguousarray(a, dtype=np.float32) for _, _, a in rows]
    table = pa.table({
        "seq_hash": [h for h, _, _ in rows],
        "pooling": [k for _, k, _ in rows],
        "shape": pa.array([list(a.shape) for a in arrays], type=pa.list_(pa.int64())),
        "embedding": pa.array([a.ravel() for a in arrays], type=pa.list_(pa.float32())),
    })
    meta = {b"biolens.fingerprint": fingerprint.encode(), b"biolens.encoder": json.dumps(description).encode()}
    _write(path, table.replace_schema_metadata(meta))


def read_shard(path: Path) -> tuple[str, dict, list[tuple[str, str, np.ndarray]]]:
    """``(fingerprint, encoder description, rows)`` of a shard; refuses a file that is not one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot be read as an embedding shard ({exc})", source=str(path)) from None
    meta = table.schema.metadata or {}
    if b"biolens.fingerprint" not in meta or not {"seq_hash", "pooling", "shape", "embedding"} <= set(table.column_names):
        raise InputError("is not a biolens embedding shard (no fingerprint or columns)", source=str(path))
    rows = []
    for h, k, shape, flat in zip(*(table.column(c).to_pylist() for c in ("seq_hash", "pooling", "shape")),
                                 table.column("embedding").to_numpy(zero_copy_only=False), strict=True):
        rows.append((h, k, np.asarray(flat, dtype=np.float32).reshape(shape)))
    return meta[b"biolens.fingerprint"].decode(), json.loads(meta[b"biolens.encoder"]), rows


def _shard_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.parquet")):
        if "pending" not in path.relative_to(root).parts and not path.name.startswith("."):
            yield path


def import_shards(root: str | Path, store: EmbeddingStore) -> tuple[int, int]:
    """Bring every shard under ``root`` into ``store``. Returns ``(shards, rows)``."""
    root = Path(root)
    if not root.is_dir():
        raise InputError("is not a folder of embedding shards", source=str(root))
    shards = rows = 0
    for path in _shard_files(root):
        fingerprint, description, items = read_shard(path)
        store.register_encoder(fingerprint, description)
        for key in sorted({k for _, k, _ in items}):
            rows += store.put_many(fingerprint, key, [(h, a) for h, k2, a in items if k2 == key])
        shards += 1
    if not shards:
        raise InputError("holds no embedding shards (*.parquet)", source=str(root))
    return shards, rows
