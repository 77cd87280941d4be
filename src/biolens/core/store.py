"""Content-addressed embedding cache in one SQLite file (WAL mode).

Rows are keyed by (encoder fingerprint, sequence hash, pooling): identical sequences are
computed once, a different encoder setting never collides, and a killed run keeps every
batch committed before it died. WAL lets readers run while one process writes.

Every row carries its dtype, its shape and a SHA-256 checksum of the three together with its
bytes; :meth:`EmbeddingStore.get_many` verifies them and raises :class:`StoreRowError` (naming the
store, the row and the problem) rather than hand back a wrong array. Stores written before the
checksum existed (schema 1) are migrated when opened for writing (the column is added; their old
rows keep no checksum and are checked by dtype and length only). :meth:`EmbeddingStore.verify`
checks every row and can delete the bad ones, which the next run then recomputes
(``biolens store verify --repair``). The checksum detects corruption and careless edits, not a
deliberate forgery: anyone who can write the file can write a matching checksum, so a store is
as trustworthy as its file permissions.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .errors import InputError
from .files import text_digest

__all__ = ["EmbeddingStore", "StoreRowError", "default_store_path", "row_checksum", "sequence_hash"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    encoder  TEXT NOT NULL,
    seq_hash TEXT NOT NULL,
    pooling  TEXT NOT NULL,
    dtype    TEXT NOT NULL,
    shape    TEXT NOT NULL,
    data     BLOB NOT NULL,
    checksum TEXT,
    PRIMARY KEY (encoder, seq_hash, pooling)
);
CREATE TABLE IF NOT EXISTS encoders (
    fingerprint TEXT PRIMARY KEY,
    description TEXT NOT NULL
);
"""
_CHUNK = 500  # SQLite parameter limit is 999 on old builds
_SQLITE_MAGIC = b"SQLite format 3\x00"
SCHEMA_VERSION = 2  # 2: rows carry a checksum (1: dtype, shape and bytes only)
_DTYPES = frozenset({"<f2", "<f4", "<f8", "<i1", "<i2", "<i4", "<i8", "|i1", "|u1", "<u2", "<u4", "<u8", "|b1"})


class StoreRowError(InputError):
    """A stored row is not the array it claims to be (truncated, wrong width, altered bytes)."""


def row_checksum(dtype: str, shape: Sequence[int], data: bytes) -> str:
    """SHA-256 over a row's dtype, shape and bytes (changing any of the three changes it)."""
    digest = hashlib.sha256(f"{dtype}|{','.join(map(str, shape))}|".encode())
    digest.update(data)
    return digest.hexdigest()


def _parse_shape(text: str) -> list[int]:
    try:
        shape = json.loads(text)
    except (ValueError, TypeError):
        shape = None
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"its shape {str(text)[:40]!r} is not a list of sizes")
    return shape


def _decode_row(dtype: str, shape_text: str, data: bytes, checksum: str | None) -> np.ndarray:
    """The array of one stored row, after checking it; ``ValueError`` says what is wrong."""
    if dtype not in _DTYPES:
        raise ValueError(f"its dtype {str(dtype)[:20]!r} is not a numeric array type")
    shape = _parse_shape(shape_text)
    if not isinstance(data, bytes):
        raise ValueError(f"its data is a {type(data).__name__}, not bytes")
    need = math.prod(shape) * np.dtype(dtype).itemsize
    if len(data) != need:
        raise ValueError(f"it holds {len(data)} bytes but shape {shape} of {dtype} needs {need} (truncated or altered)")
    if checksum is not None and checksum != row_checksum(dtype, shape, data):
        raise ValueError("its checksum does not match its dtype, shape and bytes (corrupted or altered)")
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def _check_store_file(path: Path, *, readonly: bool) -> None:
    """Refuse a path that is a folder, a file that is not SQLite (never overwritten: SQLite would
    silently turn a short file into a database), or a folder that cannot be made."""
    if path.is_dir():
        raise InputError("is a folder; the embedding store is one SQLite file (give a file path)", source=str(path))
    if path.is_file() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            if fh.read(16) != _SQLITE_MAGIC:
                raise InputError("is not an SQLite embedding store (left untouched); give another --cache path",
                                 source=str(path))
    elif readonly and not path.exists():
        raise InputError("embedding store not found", source=str(path))
    if not readonly:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the store's folder {path.parent} ({exc.strerror or exc})",
                             source=str(path)) from None


def default_store_path() -> Path:
    """``$BIOLENS_CACHE`` or ``$XDG_CACHE_HOME/biolens/embeddings.sqlite`` (``~/.cache`` default)."""
    if os.environ.get("BIOLENS_CACHE"):
        return Path(os.environ["BIOLENS_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "biolens" / "embeddings.sqlite"


def sequence_hash(sequence: str) -> str:
    """The store's key for a sequence: SHA-256 of its (validated, upper-case) letters."""
    return text_digest(sequence)


class EmbeddingStore:
    """A persistent map ``(encoder, sequence hash, pooling) -> array``.

    Args:
        path: the SQLite file (created with its folder if missing).
        readonly: open without write access (for concurrent readers).
    """

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        _check_store_file(self.path, readonly=readonly)
        try:
            if readonly:
                self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=60.0)
            else:
                self._db = sqlite3.connect(self.path, timeout=60.0)
        except sqlite3.Error as exc:
            raise InputError(f"cannot open the embedding store ({exc})", source=str(self.path)) from None
        try:
            if not readonly:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
                self._migrate()
            self._db.execute("PRAGMA busy_timeout=60000")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise InputError(f"not a usable embedding store ({exc})", source=str(self.path)) from None

    def _columns(self) -> set[str]:
        return {row[1] for row in self._db.execute("PRAGMA table_info(embeddings)")}

    def _migrate(self) -> None:
        """Schema 1 -> 2: add the checksum column (old rows keep NULL: checked by dtype and length)."""
        if "checksum" not in self._columns():
            with self._db:
                self._db.execute("ALTER TABLE embeddings ADD COLUMN checksum TEXT")
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _checksum_column(self) -> str:
        return "checksum" if "checksum" in self._columns() else "NULL"

    def row_error(self, encoder: str, pooling: str, seq_hash: str, problem: str) -> StoreRowError:
        """The error for an unusable row: names the store, the row and ``problem``, and the remedy."""
        return StoreRowError(
            f"the stored {pooling} embedding of sequence {seq_hash[:16]} (encoder {encoder[:16]}) is unusable: "
            f"{problem}. Run `biolens store verify --repair --cache {self.path}` to delete bad rows "
            "(they are recomputed on the next run), or embed with --no-cache",
            source=str(self.path), record=seq_hash,
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EmbeddingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def register_encoder(self, fingerprint: str, description: dict) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO encoders VALUES (?, ?)",
                (fingerprint, json.dumps(description, sort_keys=True)),
            )

    def _ready(self) -> bool:
        """False while a read-only store's writer has not created the tables yet (an empty store)."""
        found = self._db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='embeddings'").fetchone()
        return found is not None

    def get_many(self, encoder: str, pooling: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored arrays among ``hashes`` (missing ones are absent from the result)."""
        out: dict[str, np.ndarray] = {}
        if not self._ready():
            return out
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT seq_hash, dtype, shape, data, {self._checksum_column()} FROM embeddings "
                f"WHERE encoder = ? AND pooling = ? AND seq_hash IN ({marks})",
                (encoder, pooling, *chunk),
            )
            for seq_hash, dtype, shape, data, checksum in rows:
                try:
                    out[seq_hash] = _decode_row(dtype, shape, data, checksum)
                except ValueError as exc:
                    raise self.row_error(encoder, pooling, seq_hash, str(exc)) from None
        return out

    def put_many(self, encoder: str, pooling: str, items: Iterable[tuple[str, np.ndarray]]) -> int:
        """Store arrays in one transaction (a crash keeps all or none of them). Returns the count."""
        rows = []
        for seq_hash, array in items:
            array = np.ascontiguousarray(array)
            data, shape = array.tobytes(), list(array.shape)
            rows.append((encoder, seq_hash, pooling, array.dtype.str, json.dumps(shape), data,
                         row_checksum(array.dtype.str, shape, data)))
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO embeddings (encoder, seq_hash, pooling, dtype, shape, data, checksum) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.OperationalError as exc:  # disk full, locked past the timeout, read-only
            raise InputError(f"cannot write to the embedding store ({exc}); every batch committed before is kept "
                             "and a rerun resumes from it (free space, or embed with --no-cache)",
                             source=str(self.path)) from None
        return len(rows)

    def _widths(self) -> dict[str, int]:
        """Encoder fingerprint -> output width, from the registered descriptions."""
        out = {}
        for fingerprint, description in self._db.execute("SELECT fingerprint, description FROM encoders"):
            try:
                width = json.loads(description).get("width")
            except (ValueError, TypeError, AttributeError):
                continue
            if type(width) is int and width > 0:
                out[fingerprint] = width
        return out

    def verify(self, *, repair: bool = False) -> list[tuple[str, str, str, str]]:
        """Check every row: dtype, length against shape, checksum, and its width against the
        encoder's registered width (``(L, width)`` per-residue rows; pooled rows ``width`` wide,
        or 2x / 3x for concatenated poolings such as ``mean+max``). Returns ``(encoder, pooling,
        seq_hash, problem)`` of the bad rows and, with ``repair``, deletes them in one transaction
        so that the next run recomputes them."""
        if not self._ready():
            return []
        bad, widths = [], self._widths()
        query = f"SELECT encoder, pooling, seq_hash, dtype, shape, data, {self._checksum_column()} FROM embeddings"
        for encoder, pooling, seq_hash, dtype, shape, data, checksum in self._db.execute(query):
            try:
                array = _decode_row(dtype, shape, data, checksum)
                _check_width(array.shape, widths.get(encoder), residues=pooling.startswith("residues"))
            except ValueError as exc:
                bad.append((encoder, pooling, seq_hash, str(exc)))
        if repair and bad:
            with self._db:
                self._db.executemany("DELETE FROM embeddings WHERE encoder = ? AND pooling = ? AND seq_hash = ?",
                                     [row[:3] for row in bad])
        return bad

    def count(self, encoder: str | None = None) -> int:
        if not self._ready():
            return 0
        if encoder is None:
            return self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        return self._db.execute("SELECT COUNT(*) FROM embeddings WHERE encoder = ?", (encoder,)).fetchone()[0]


def _check_width(shape: tuple[int, ...], width: int | None, *, residues: bool) -> None:
    if width is None:
        return
    if residues and (len(shape) != 2 or shape[1] != width):
        raise ValueError(f"its shape {list(shape)} is not (length, {width}) for its encoder")
    if not residues and (len(shape) != 1 or shape[0] not in (width, 2 * width, 3 * width)):
        raise ValueError(f"its shape {list(shape)} is not a pooled vector of its encoder's width {width}")
