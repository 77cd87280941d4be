"""Content-addressed embedding cache in one SQLite file (WAL mode).

Rows are keyed by (encoder fingerprint, sequence hash, pooling): identical sequences are
computed once, a different encoder setting never collides, and a killed run keeps every
batch committed before it died. WAL lets readers run while one process writes.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .errors import InputError
from .files import text_digest

__all__ = ["EmbeddingStore", "default_store_path", "sequence_hash"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    encoder  TEXT NOT NULL,
    seq_hash TEXT NOT NULL,
    pooling  TEXT NOT NULL,
    dtype    TEXT NOT NULL,
    shape    TEXT NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (encoder, seq_hash, pooling)
);
CREATE TABLE IF NOT EXISTS encoders (
    fingerprint TEXT PRIMARY KEY,
    description TEXT NOT NULL
);
"""
_CHUNK = 500  # SQLite parameter limit is 999 on old builds


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
        if readonly:
            if not self.path.exists():
                raise InputError("embedding store not found", source=str(self.path))
            uri = f"file:{self.path}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, timeout=60.0)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60.0)
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
            except sqlite3.DatabaseError as exc:
                self._db.close()
                raise InputError(f"not a usable embedding store ({exc})", source=str(self.path)) from None
        self._db.execute("PRAGMA busy_timeout=60000")

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
                f"SELECT seq_hash, dtype, shape, data FROM embeddings "
                f"WHERE encoder = ? AND pooling = ? AND seq_hash IN ({marks})",
                (encoder, pooling, *chunk),
            )
            for seq_hash, dtype, shape, data in rows:
                out[seq_hash] = np.frombuffer(data, dtype=dtype).reshape(json.loads(shape))
        return out

    def put_many(self, encoder: str, pooling: str, items: Iterable[tuple[str, np.ndarray]]) -> int:
        """Store arrays in one transaction (a crash keeps all or none of them). Returns the count."""
        rows = []
        for seq_hash, array in items:
            array = np.ascontiguousarray(array)
            rows.append((encoder, seq_hash, pooling, array.dtype.str, json.dumps(list(array.shape)), array.tobytes()))
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def count(self, encoder: str | None = None) -> int:
        if not self._ready():
            return 0
        if encoder is None:
            return self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        return self._db.execute("SELECT COUNT(*) FROM embeddings WHERE encoder = ?", (encoder,)).fetchone()[0]
