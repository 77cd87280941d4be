"""The Ray backend on a real local cluster (one per module: Ray's start-up is the main cost)."""

import gzip
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from biolens.cli import main
from biolens.core.alphabets import PROTEIN
from biolens.core.errors import InputError
from biolens.core.export import load_embeddings, load_metadata
from biolens.core.seqio import load_sequences, read_sequences
from biolens.core.store import EmbeddingStore
from biolens.data import sample_path
from biolens.distributed import embed_file_ray, import_shards, iter_records, read_shard
from biolens.proteins.embed import embed_sequences
from toy_encoders import ContextEncoder

ray = pytest.importorskip("ray", reason="the Ray backend needs the `ray` extra: pip install 'biolens[ray]'")

DEEPLOC = sample_path("deeploc")
SOLUBILITY = sample_path("solubility")


@pytest.fixture(scope="module", autouse=True)
def cluster():
    from biolens.distributed._cluster import local_runtime_env

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env=local_runtime_env(Path(__file__).resolve().parents[1]))  # workers import toy_encoders too
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def _fasta(path, records):
    path.write_text("".join(f">{r.id}\n{r.sequence}\n" for r in records))
    return path


def test_streaming_readers_match_the_local_readers(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    fasta = read_sequences(DEEPLOC)
    assert [(r.id, r.sequence, r.line) for r in iter_records(DEEPLOC)] == [(r.id, r.sequence, r.line) for r in fasta]
    table = read_sequences(SOLUBILITY)
    gz = tmp_path / "s.csv.gz"
    gz.write_bytes(gzip.compress(Path(SOLUBILITY).read_bytes()))
    assert [(r.id, r.sequence, r.line) for r in iter_records(gz)] == [(r.id, r.sequence, r.line) for r in table]
    pq.write_table(pa.table({"id": [r.id for r in fasta], "sequence": [r.sequence for r in fasta]}), tmp_path / "p.parquet")
    assert [(r.id, r.sequence) for r in iter_records(tmp_path / "p.parquet", chunk=7)] == [(r.id, r.sequence) for r in fasta]


def test_cli_ray_backend_writes_the_local_file(tmp_path):
    for backend in ("local", "ray"):
        args = ["embed", str(DEEPLOC), "--encoder", "composition", "--pooling", "mean", "--backend", backend,
                "--out", str(tmp_path / f"{backend}.npz"), "--cache", str(tmp_path / f"{backend}.sqlite"), "-q"]
        assert main(args) == 0
    ids, local = load_embeddings(tmp_path / "local.npz")
    ray_ids, remote = load_embeddings(tmp_path / "ray.npz")
    assert ray_ids == ids and len(ids) == 300
    np.testing.assert_allclose(remote, local, atol=1e-6)
    assert load_metadata(tmp_path / "ray.npz") == load_metadata(tmp_path / "local.npz") != {}
    # the shards come into a store: the local backend then computes nothing
    assert main(["store", "import", str(tmp_path / "ray.shards"), "--cache", str(tmp_path / "imported.sqlite")]) == 0
    recs, _ = load_sequences(DEEPLOC, PROTEIN)
    from biolens.proteins.encoders import get_encoder

    with EmbeddingStore(tmp_path / "imported.sqlite") as store:
        again, stats = embed_sequences([r.sequence for r in recs], get_encoder("composition"), store=store)
    assert stats.computed == 0 and stats.cache_hits == 300
    np.testing.assert_array_equal(np.stack(again), local)


def test_jitted_encoder_same_vectors_and_rerun_computes_nothing(tmp_path):
    from biolens.proteins.encoders import get_encoder

    recs = read_sequences(DEEPLOC)[:24]
    path = _fasta(tmp_path / "few.fasta", recs)
    enc = get_encoder("unirep-64")
    local, _ = embed_sequences([r.sequence for r in recs], enc)
    first = embed_file_ray(path, "unirep-64", shards=tmp_path / "shards", shard_size=8, workers=1)
    assert first.computed == 24 and len(first.shards) == 3 and first.shards_reused == 0
    np.testing.assert_allclose(np.stack(first.arrays()), np.stack(local), atol=1e-6)
    again = embed_file_ray(path, "unirep-64", shards=tmp_path / "shards", shard_size=8)
    assert again.computed == 0 and again.shards_reused == 3 and not again.worker_pids
    assert again.ids == [r.id for r in recs]
    np.testing.assert_array_equal(np.stack(again.arrays()), np.stack(first.arrays()))
    assert not list((tmp_path / "shards" / "pending").iterdir())


def _worker_pids():
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"_ShardWorker" in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def test_killed_worker_loses_and_duplicates_nothing(tmp_path):
    recs = read_sequences(DEEPLOC)[:40]
    path = _fasta(tmp_path / "forty.fasta", recs)
    killed = []

    def kill_one():  # SIGKILL a worker once the first shard is on disk: it is mid-way through another
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            done = [p for p in (tmp_path / "shards").rglob("*.parquet") if "pending" not in p.parts]
            if done and (pids := _worker_pids()):
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.05)

    thread = threading.Thread(target=kill_one)
    thread.start()
    result = embed_file_ray(path, ContextEncoder(delay=0.15), shards=tmp_path / "shards", shard_size=4, workers=1)
    thread.join()
    assert killed, "no worker was found to kill"
    assert not Path(f"/proc/{killed[0]}").exists() and result.worker_pids - set(killed)  # a restarted one finished
    assert result.ids == [r.id for r in recs] and len(set(result.hashes)) == 40
    local, _ = embed_sequences([r.sequence for r in recs], ContextEncoder())
    np.testing.assert_array_equal(np.stack(result.arrays()), np.stack(local))
    rows = [h for s in set(result.shards) for h, _, _ in read_shard(s)[2]]
    assert sorted(rows) == sorted(set(result.hashes))  # every record in exactly one shard


def test_bad_input_fails_with_the_local_message(tmp_path):
    recs = read_sequences(DEEPLOC)[:5]
    bad = tmp_path / "bad.fasta"
    bad.write_text(_fasta(tmp_path / "ok.fasta", recs).read_text() + ">broken_one\nMKV-LA\n")
    with pytest.raises(InputError) as local:
        load_sequences(bad, PROTEIN)
    with pytest.raises(InputError) as remote:
        embed_file_ray(bad, "composition", shards=tmp_path / "shards")
    assert str(remote.value) == str(local.value) and "broken_one" in str(remote.value)
    assert main(["embed", str(bad), "--encoder", "composition", "--backend", "ray", "--out",
                 str(tmp_path / "x.npz"), "--no-cache"]) == 2
    with pytest.raises(InputError, match="not a biolens embedding shard"):
        (tmp_path / "junk").mkdir()
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"a": [1]}), tmp_path / "junk" / "x.parquet")
        import_shards(tmp_path / "junk", EmbeddingStore(tmp_path / "s.sqlite"))


def test_benchmark_cells_as_ray_tasks_match_local_and_are_never_recomputed(tmp_path):
    import json

    tiny = ["benchmark", "--suite", "quick", "--encoders", "composition", "--heads", "linear", "--tasks", "gb1",
            "--pooled-epochs", "5", "--bootstrap", "10", "--map", "pca", "--quiet", "--cache", str(tmp_path / "c.sqlite")]
    assert main([*tiny, "--out", str(tmp_path / "local")]) == 0
    assert main([*tiny, "--out", str(tmp_path / "ray"), "--backend", "ray"]) == 0
    assert main([*tiny, "--out", str(tmp_path / "ray"), "--backend", "ray"]) == 0  # the rerun reuses every cell
    history = json.loads((tmp_path / "ray" / "benchmark.json").read_text())["history"]
    assert [(h["cells_computed"], h["cells_reused"]) for h in history] == [(1, 0), (0, 1)]
    assert (tmp_path / "ray" / "leaderboard.csv").read_text() == (tmp_path / "local" / "leaderboard.csv").read_text()
