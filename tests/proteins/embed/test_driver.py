import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import biolens
from biolens.core.errors import InputError
from biolens.core.store import EmbeddingStore
from biolens.proteins.embed import embed_sequences
from toy_encoders import ContextEncoder

RNG = np.random.default_rng(0)
AA = "ACDEFGHIKLMNPQRSTVWY"


def random_seqs(n, lo=5, hi=120):
    return ["".join(RNG.choice(list(AA), size=RNG.integers(lo, hi))) for _ in range(n)]


def test_pooling_ignores_padding_and_specials():
    enc = ContextEncoder()
    seqs = random_seqs(30)
    batched, _ = embed_sequences(seqs, enc, pooling="mean")
    for seq, got in zip(seqs, batched, strict=True):
        alone, _ = embed_sequences([seq], ContextEncoder(), pooling="mean", token_budget=len(seq) + 2)
        assert np.allclose(got, alone[0], atol=1e-6)
        assert np.allclose(got, enc.residues(seq).mean(0), atol=1e-5)


def test_max_meanmax_cls_and_per_residue():
    enc = ContextEncoder()
    seqs = random_seqs(5)
    maxed, _ = embed_sequences(seqs, enc, pooling="max")
    both, _ = embed_sequences(seqs, enc, pooling="mean+max")
    cls, _ = embed_sequences(seqs, enc, pooling="cls")
    res, _ = embed_sequences(seqs, enc, per_residue=True)
    for i, s in enumerate(seqs):
        r = enc.residues(s)
        assert np.allclose(maxed[i], r.max(0)) and np.allclose(both[i], np.r_[r.mean(0), r.max(0)])
        assert np.allclose(cls[i], len(s)) and np.allclose(res[i], r)


def test_duplicates_computed_once_and_cache_reused(tmp_path):
    seqs = random_seqs(20)
    with EmbeddingStore(tmp_path / "s.sqlite") as store:
        enc = ContextEncoder()
        first, stats = embed_sequences(seqs + seqs[:5], enc, store=store)
        assert stats.unique == 20 and stats.computed == 20 and stats.cache_hits == 0
        again, stats2 = embed_sequences(seqs, ContextEncoder(), store=store)
        assert stats2.computed == 0 and stats2.cache_hits == 20
        assert all(np.array_equal(a, b) for a, b in zip(first, again))
        # a different setting is a different fingerprint: nothing is reused
        _, stats3 = embed_sequences(seqs, ContextEncoder(k=2), store=store)
        assert stats3.computed == 20


def test_long_proteins_are_windowed_not_truncated():
    long = random_seqs(1, 3000, 3001)[0]
    enc = ContextEncoder(k=3, max_residues=500)
    res, stats = embed_sequences([long, "MKV"], enc, per_residue=True, overlap=64)
    assert stats.windowed == 1 and res[0].shape == (3000, 20)
    assert np.allclose(res[0], ContextEncoder(k=3).residues(long))  # context 3 << overlap/2
    mean, _ = embed_sequences([long], enc, pooling="mean", overlap=64)
    assert np.allclose(mean[0], res[0].mean(0), atol=1e-5)
    assert max(length for _, length in enc.shapes) <= 504


def test_40k_residue_protein_embeds_in_bounded_batches():
    titin_like = random_seqs(1, 40_000, 40_001)[0]
    enc = ContextEncoder(k=2, max_residues=1022)
    out, stats = embed_sequences([titin_like], enc, pooling="mean")
    assert out[0].shape == (20,) and stats.windowed == 1
    assert all(rows * length <= 8192 for rows, length in enc.shapes)


@pytest.mark.parametrize("in_flight", [1, 3])
def test_crash_mid_run_keeps_committed_batches(tmp_path, in_flight):
    seqs = random_seqs(200)
    with EmbeddingStore(tmp_path / "s.sqlite") as store:
        with pytest.raises(RuntimeError, match="simulated crash"):
            embed_sequences(seqs, ContextEncoder(fail_after=3), store=store, token_budget=512, in_flight=in_flight)
        saved = store.count()
        assert 0 < saved < 200
        out, stats = embed_sequences(seqs, ContextEncoder(), store=store, token_budget=512, in_flight=in_flight)
        assert stats.cache_hits == saved and stats.computed == 200 - saved
        clean, _ = embed_sequences(seqs, ContextEncoder(), in_flight=1)
        assert all(np.array_equal(a, b) for a, b in zip(out, clean, strict=True))


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{tests!r}, {src!r}]
    import numpy as np
    from toy_encoders import ContextEncoder
    from biolens.core.store import EmbeddingStore
    from biolens.proteins.embed import embed_sequences
    seqs = [l.strip() for l in open({seqs!r})]
    store = EmbeddingStore({store!r})
    out, stats = embed_sequences(seqs, ContextEncoder(delay={delay}), store=store, token_budget=256, in_flight=2)
    print("computed", stats.computed)
    """
)


def test_sigkill_then_resume_recomputes_only_missing(tmp_path):
    seqs = random_seqs(120, 20, 60)
    (tmp_path / "seqs.txt").write_text("\n".join(seqs))
    store_path = tmp_path / "s.sqlite"
    script = tmp_path / "run.py"
    paths = {"tests": str(Path(__file__).resolve().parents[2]), "src": os.path.dirname(os.path.dirname(biolens.__file__))}
    script.write_text(KILL_SCRIPT.format(**paths, seqs=str(tmp_path / "seqs.txt"), store=str(store_path), delay=0.05))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
        if store_path.exists():
            with EmbeddingStore(store_path, readonly=True) as s:
                if s.count() >= 10:
                    break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with EmbeddingStore(store_path) as s:
        saved = s.count()
    assert 10 <= saved < 120
    script.write_text(KILL_SCRIPT.format(**paths, seqs=str(tmp_path / "seqs.txt"), store=str(store_path), delay=0.0))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"computed {120 - saved}"


def test_public_embed_api_shapes_and_validation():
    out = biolens.embed(["MKVLA", "GGA"], encoder="composition", cache=False)
    assert out.shape == (2, 20) and np.allclose(out.sum(1), 1.0)
    with pytest.raises(InputError, match=r"record '#1'.*gap"):
        biolens.embed(["MKV", "MK-V"], encoder="onehot", cache=False)
    fixed = biolens.embed(["MKV", "MK-V"], encoder="onehot", on_invalid="replace", cache=False)
    assert fixed.shape == (2, 20)
    with pytest.raises(InputError, match="single string"):
        biolens.embed("MKV", encoder="onehot")
    assert biolens.embed([], encoder="onehot", cache=False).shape == (0, 20)


def test_unsupported_requests_are_clear():
    with pytest.raises(InputError, match="no per-residue output"):
        biolens.embed(["MKV"], encoder="composition", per_residue=True)
    with pytest.raises(InputError, match="onehot has no CLS token"):
        biolens.embed(["MKV"], encoder="onehot", pooling="cls")
    with pytest.raises(InputError, match="unknown encoder 'esm3'"):
        biolens.embed(["MKV"], encoder="esm3")


def test_probe_store_row_of_wrong_width_is_refused_not_returned(tmp_path):
    """Issue 14: a row under the encoder's fingerprint whose width is not the encoder's (a consistent,
    checksummed row written by something else) is an error naming the store, sequence and shapes."""
    from biolens.core.store import StoreRowError, sequence_hash

    seqs = random_seqs(3)
    enc = ContextEncoder()
    path = tmp_path / "s.sqlite"
    with EmbeddingStore(path) as store:
        embed_sequences(seqs, enc, store=store)
        store.put_many(enc.fingerprint(), "mean", [(sequence_hash(seqs[1]), np.zeros(7, np.float32))])
        with pytest.raises(StoreRowError, match=r"shape \[7\], but .* gives \[20\]") as info:
            embed_sequences(seqs, enc, store=store)
        assert str(path) in str(info.value) and sequence_hash(seqs[1])[:16] in str(info.value)
        store.put_many(enc.fingerprint(), "residues", [(sequence_hash(seqs[0]), np.zeros((2, 20), np.float32))])
        with pytest.raises(StoreRowError, match=r"shape \[2, 20\], but .* gives \[\d+, 20\]"):
            embed_sequences(seqs[:1], enc, store=store, per_residue=True)
        assert len(store.verify(repair=True)) == 1  # the narrow pooled row; the short (2, 20) one is not detectable
        # without its sequence; the embed run names it instead


def test_probe_store_row_tampered_cli_exits_2_and_verify_repairs(tmp_path, capsys):
    import sqlite3

    from biolens.cli import main

    fasta = tmp_path / "p.fasta"
    fasta.write_text(">a\nMKTAYIAKQR\n>b\nMKVLAAGIVG\n")
    cache = tmp_path / "s.sqlite"
    args = ["embed", str(fasta), "--encoder", "onehot", "--cache", str(cache), "-q"]
    assert main([*args, "--out", str(tmp_path / "e1.npz")]) == 0
    db = sqlite3.connect(cache)
    with db:
        db.execute("UPDATE embeddings SET data = substr(data, 1, 12) WHERE rowid = 1")
    db.close()
    assert main([*args, "--out", str(tmp_path / "e2.npz")]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and str(cache) in err and "holds 12 bytes" in err and "Traceback" not in err
    assert main(["store", "verify", "--cache", str(cache)]) == 1
    assert "1 bad" in capsys.readouterr().err
    assert main(["store", "verify", "--cache", str(cache), "--repair"]) == 0
    assert main([*args, "--out", str(tmp_path / "e3.npz")]) == 0
    first, again = np.load(tmp_path / "e1.npz"), np.load(tmp_path / "e3.npz")
    assert np.array_equal(first["embeddings"], again["embeddings"])


@pytest.mark.parametrize(("option", "value", "problem"), [
    ("--overlap", "-10", r"overlap \(--overlap\) must be an integer >= 0, got -10"),
    ("--token-budget", "0", r"token budget \(--token-budget\) must be a positive integer, got 0"),
])
def test_probe_embed_option_out_of_range_is_refused_before_work(tmp_path, capsys, option, value, problem):
    from biolens.cli import main

    fasta = tmp_path / "p.fasta"
    fasta.write_text(">a\nMKTAYIAKQR\n")
    assert main(["embed", str(fasta), "-e", "onehot", "-o", str(tmp_path / "e.npz"), "--no-cache", option, value, "-q"]) == 2
    assert re.search(problem, capsys.readouterr().err) and not (tmp_path / "e.npz").exists()


def test_probe_overlap_not_below_the_window_is_refused():
    enc = ContextEncoder()
    enc.max_residues = 50
    with pytest.raises(InputError, match=r"below .* window of 50 residues, got 50"):
        embed_sequences(["M" * 80], enc, overlap=50)


@pytest.mark.parametrize("where", ["folder", "read_only"])
def test_probe_embed_out_unwritable_is_refused_before_work(tmp_path, capsys, where):
    from biolens.cli import main

    fasta = tmp_path / "p.fasta"
    fasta.write_text(">a\nMKTAYIAKQR\n")
    if where == "folder":
        out = tmp_path / "dir.npz"
        out.mkdir()
        expected = "the --out file is a folder; give a file name"
    else:
        out = Path("/proc/biolens-probe/e.npz")  # procfs: nothing can be created there, even as root
        expected = "cannot write the --out file here"
    cache = tmp_path / "s.sqlite"
    assert main(["embed", str(fasta), "-e", "onehot", "-o", str(out), "--cache", str(cache), "-q"]) == 2
    err = capsys.readouterr().err
    assert expected in err and str(out) in err
    assert not cache.exists()  # refused before the store was opened or anything embedded


@pytest.mark.parametrize(("flag", "needed"), [((), 2 * 20 * 4), (("--per-residue",), (10 + 12) * 20 * 4)])
def test_probe_embed_out_on_a_full_disk_is_refused_before_work(tmp_path, capsys, monkeypatch, flag, needed):
    """Issue 14: a full disk was reported only after all the embedding work, at the write."""
    import shutil
    from collections import namedtuple

    from biolens.cli import main

    fasta = tmp_path / "p.fasta"
    fasta.write_text(">a\nMKTAYIAKQR\n>b\nMKTAYIAKQRQI\n")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda where: usage(10**9, 10**9 - needed + 1, needed - 1))
    out, cache = tmp_path / "e.npz", tmp_path / "s.sqlite"
    assert main(["embed", str(fasta), "-e", "onehot", "-o", str(out), "--cache", str(cache), *flag, "-q"]) == 2
    err = capsys.readouterr().err
    assert f"{out}: the --out file needs about {needed:,} bytes, but its disk has {needed - 1:,} bytes free" in err
    assert not out.exists() and not cache.exists()  # refused before the store was opened or anything embedded
    monkeypatch.setattr(shutil, "disk_usage", lambda where: usage(10**9, 10**9 - needed, needed))
    assert main(["embed", str(fasta), "-e", "onehot", "-o", str(out), "--no-cache", *flag, "-q"]) == 0
    assert out.stat().st_size > needed  # the estimate is of the arrays alone: the file holds them and ids
