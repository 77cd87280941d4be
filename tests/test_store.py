import multiprocessing as mp
import sqlite3

import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.core.store import EmbeddingStore, sequence_hash


def test_put_get_roundtrip_and_keys(tmp_path):
    with EmbeddingStore(tmp_path / "s.sqlite") as store:
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        store.put_many("enc1", "mean", [("h1", a[0]), ("h2", a[1])])
        store.put_many("enc1", "residues", [("h1", a)])
        got = store.get_many("enc1", "mean", ["h1", "h2", "h3"])
        assert set(got) == {"h1", "h2"} and np.array_equal(got["h2"], a[1])
        assert np.array_equal(store.get_many("enc1", "residues", ["h1"])["h1"], a)
        assert store.get_many("enc2", "mean", ["h1"]) == {}
        assert store.count() == 3 and store.count("enc1") == 3


def test_wal_mode_and_concurrent_reader(tmp_path):
    path = tmp_path / "s.sqlite"
    writer = EmbeddingStore(path)
    writer.put_many("e", "mean", [("h", np.ones(2, np.float32))])
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader = EmbeddingStore(path, readonly=True)
    writer.put_many("e", "mean", [("g", np.zeros(2, np.float32))])
    assert set(reader.get_many("e", "mean", ["h", "g"])) == {"h", "g"}
    reader.close()
    writer.close()


def test_reader_of_a_store_still_being_created_sees_it_empty(tmp_path):
    path = tmp_path / "s.sqlite"
    sqlite3.connect(path).close()  # the file exists, the writer has not made the tables yet
    with EmbeddingStore(path, readonly=True) as reader:
        assert reader.count() == 0 and reader.get_many("e", "mean", ["h"]) == {}


def test_not_a_store(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="not a usable embedding store"):
        EmbeddingStore(bad)


def test_sequence_hash_is_stable():
    import hashlib

    assert sequence_hash("MKV") == hashlib.sha256(b"MKV").hexdigest()
    assert len(sequence_hash("MKV")) == 64 and sequence_hash("MKV") != sequence_hash("MKA")


def _writer(path, start, n):
    store = EmbeddingStore(path)
    for i in range(start, start + n):
        store.put_many("e", "mean", [(f"h{i}", np.full(4, i, np.float32))])
    store.close()


def test_two_writer_processes(tmp_path):
    path = tmp_path / "s.sqlite"
    EmbeddingStore(path).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, k * 50, 50)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    with EmbeddingStore(path) as store:
        assert store.count("e") == 100
