import multiprocessing as mp
import sqlite3

import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.core.store import EmbeddingStore, StoreRowError, row_checksum, sequence_hash


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
    with pytest.raises(InputError, match="not an SQLite embedding store"):
        EmbeddingStore(bad)


def test_probe_cache_that_is_a_short_text_file_is_left_untouched(tmp_path):
    """Issue 14 re-run: SQLite took a 1-byte file for an empty database and overwrote it."""
    note = tmp_path / "notes.txt"
    note.write_text("x")
    with pytest.raises(InputError, match="not an SQLite embedding store \\(left untouched\\)"):
        EmbeddingStore(note)
    assert note.read_text() == "x"


def test_probe_cache_folder_or_under_a_file_is_a_named_error(tmp_path):
    with pytest.raises(InputError, match="is a folder; the embedding store is one SQLite file") as info:
        EmbeddingStore(tmp_path)
    assert str(tmp_path) in str(info.value)
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InputError, match="cannot create the store's folder"):
        EmbeddingStore(tmp_path / "plain" / "s.sqlite")
    with pytest.raises(InputError, match="embedding store not found"):
        EmbeddingStore(tmp_path / "none.sqlite", readonly=True)


def test_probe_store_that_fills_mid_run_names_the_store_and_keeps_committed_rows(tmp_path):
    """Issue 14: a disk that fills mid-run gave a bare sqlite3.OperationalError. SQLite's own limit on
    the file's pages (max_page_count) makes the real SQLITE_FULL without filling a disk."""
    path = tmp_path / "s.sqlite"
    with EmbeddingStore(path) as store:
        store.put_many("enc", "mean", [("h0", np.ones(8, np.float32))])
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count={pages + 2}")
        big = [(f"h{i}", np.full(4096, i, np.float32)) for i in range(1, 50)]
        with pytest.raises(InputError, match=r"s\.sqlite: cannot write to the embedding store \(database or disk is "
                                             r"full\); every batch committed before is kept"):
            store.put_many("enc", "mean", big)
        assert store.count() == 1 and store.get_many("enc", "mean", ["h0", "h1"]).keys() == {"h0"}


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


# --- issue 14: a row is verified on read (shape x dtype against its bytes, checksum, width) ---

def _tamper(path, sql, *params):
    db = sqlite3.connect(path)
    with db:
        db.execute(sql, params)
    db.close()


@pytest.mark.parametrize(
    ("sql", "params", "problem"),
    [
        ("UPDATE embeddings SET data = substr(data, 1, 8)", (), "holds 8 bytes but shape \\[4\\] of <f4 needs 16"),
        ("UPDATE embeddings SET shape = ?", ("[2, 2]",), "checksum does not match"),
        ("UPDATE embeddings SET dtype = ?", ("<i4",), "checksum does not match"),
        ("UPDATE embeddings SET dtype = ?", ("O",), "dtype 'O' is not a numeric array type"),
        ("UPDATE embeddings SET shape = ?", ("not json",), "shape 'not json' is not a list of sizes"),
        ("UPDATE embeddings SET data = ?", (np.arange(4, dtype=np.float32)[::-1].tobytes(),), "checksum does not match"),
        ("UPDATE embeddings SET shape = ?", ("[3]",), "holds 16 bytes but shape \\[3\\]"),
    ],
    ids=["truncated_blob", "reshaped", "dtype_swapped", "object_dtype", "shape_not_json", "bytes_changed", "short_shape"],
)
def test_probe_store_row_tampered_is_refused_naming_store_and_row(tmp_path, sql, params, problem):
    path = tmp_path / "s.sqlite"
    with EmbeddingStore(path) as store:
        store.put_many("enc", "mean", [("h" * 64, np.arange(4, dtype=np.float32))])
    _tamper(path, sql, *params)
    with EmbeddingStore(path) as store, pytest.raises(StoreRowError, match=problem) as info:
        store.get_many("enc", "mean", ["h" * 64])
    message = str(info.value)
    assert str(path) in message and "h" * 16 in message and "store verify --repair" in message


def test_store_verify_lists_and_repairs_bad_rows(tmp_path):
    path = tmp_path / "s.sqlite"
    with EmbeddingStore(path) as store:
        store.register_encoder("enc", {"name": "toy", "width": 4, "settings": {}})
        store.put_many("enc", "mean", [("good", np.ones(4, np.float32)), ("bad", np.ones(4, np.float32)),
                                       ("wide", np.ones(5, np.float32))])
        store.put_many("enc", "residues", [("good", np.ones((3, 4), np.float32)), ("narrow", np.ones((3, 2), np.float32))])
    _tamper(path, "UPDATE embeddings SET data = substr(data, 1, 4) WHERE seq_hash = 'bad'")
    with EmbeddingStore(path) as store:
        bad = store.verify()
        assert sorted((p, h) for _, p, h, _ in bad) == [("mean", "bad"), ("mean", "wide"), ("residues", "narrow")]
        assert store.count() == 5
        store.verify(repair=True)
        assert store.count() == 2 and store.verify() == []
        assert np.array_equal(store.get_many("enc", "residues", ["good"])["good"], np.ones((3, 4), np.float32))


def _schema1_store(path, rows):
    """A store as biolens wrote it before rows carried a checksum."""
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE embeddings (encoder TEXT NOT NULL, seq_hash TEXT NOT NULL, pooling TEXT NOT NULL, "
        "dtype TEXT NOT NULL, shape TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (encoder, seq_hash, pooling));"
        "CREATE TABLE encoders (fingerprint TEXT PRIMARY KEY, description TEXT NOT NULL);"
    )
    with db:
        db.executemany("INSERT INTO embeddings VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.close()


def test_schema1_store_is_read_and_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    a = np.arange(6, dtype=np.float32)
    _schema1_store(path, [("enc", "h1", "mean", "<f4", "[6]", a.tobytes()),
                          ("enc", "h2", "mean", "<f4", "[6]", a.tobytes()[:20])])
    with EmbeddingStore(path, readonly=True) as reader:  # read-only: no migration, still checked by length
        assert np.array_equal(reader.get_many("enc", "mean", ["h1"])["h1"], a)
        with pytest.raises(StoreRowError, match="holds 20 bytes"):
            reader.get_many("enc", "mean", ["h2"])
    with EmbeddingStore(path) as store:  # writable: the checksum column is added, old rows kept
        assert "checksum" in store._columns()
        assert np.array_equal(store.get_many("enc", "mean", ["h1"])["h1"], a)
        store.put_many("enc", "mean", [("h3", a)])
    db = sqlite3.connect(path)
    sums = dict(db.execute("SELECT seq_hash, checksum FROM embeddings").fetchall())
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()
    assert sums["h1"] is None and sums["h3"] == row_checksum("<f4", [6], a.tobytes())
