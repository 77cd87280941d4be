"""``biolens embed`` killed or failed at each of its file operations (tests/faults.py): the rerun
writes the very embeddings, store rows and --out file of an uninterrupted run. A kill may leave a
temporary beside --out (``.e.npz.XXXX.tmp``; no lock tells embed that no other process writes there).

Kill points: every operation (embed's are cheap: one store transaction per batch, one atomic write
of --out), before it and after the last one."""

from pathlib import Path

import pytest

from biolens.cli import main
from faults import DISK_FULL, FileOps, Killed, assert_same_run, fail_point, kill_points

TINY_ESM2 = Path(__file__).resolve().parents[2] / "data" / "esm2_tiny"
#: 12 proteins of 5..27 residues (two repeated): with a 96-token budget, 3 batches of other lengths
SEQUENCES = ["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"[: 5 + 2 * i] for i in range(10)] + ["MKTAYIA", "MKTAYIAKQ"]


def embed(root: Path, fasta: Path) -> int:
    return main(["embed", str(fasta), "-e", f"esm2:{TINY_ESM2}", "--cache", str(root / "store.sqlite"),
                 "--out", str(root / "e.npz"), "--token-budget", "96", "-q"])


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    base = tmp_path_factory.mktemp("embed-faults")
    fasta = base / "p.fasta"
    fasta.write_text("".join(f">p{i}\n{s}\n" for i, s in enumerate(SEQUENCES)))
    with FileOps(base / "straight") as ops:
        assert embed(base / "straight", fasta) == 0
    return base, fasta, ops.ops


def test_embed_writes_the_store_batch_by_batch_then_the_out_file(straight):
    _, _, ops = straight
    names = [str(op) for op in ops]
    assert names.count("store.put_many store.sqlite") == 3  # one transaction per batch
    assert names[-4:] == ["create e.npz", "fsync e.npz", "chmod e.npz", "replace e.npz"]


def test_a_kill_at_every_file_operation_of_embed_reruns_to_the_same_result(straight, capsys):
    base, fasta, ops = straight
    for k, when in kill_points(ops, "every"):
        folder, where = base / f"{when}-{k}", f"killed {when} operation {k} ({ops[k]})"
        with FileOps(folder, kill=(k, when)) as killed, pytest.raises(Killed):
            embed(folder, fasta)
        assert killed.ops == ops[: k + 1], where
        assert embed(folder, fasta) == 0, where
        assert_same_run(base / "straight", folder, where, temporaries=True)
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(("op", "target"), [("store.put_many", "store.sqlite"), ("fsync", "e.npz")])
def test_a_full_disk_is_a_named_error_and_the_rerun_finishes(straight, capsys, op, target):
    base, fasta, ops = straight
    folder = base / f"full-{op}"
    with FileOps(folder, fail=(fail_point(ops, op, target), DISK_FULL)):
        assert embed(folder, fasta) != 0
    err = capsys.readouterr().err
    assert f"{folder / target}: cannot write" in err and "Traceback" not in err, err
    assert embed(folder, fasta) == 0
    assert_same_run(base / "straight", folder, f"after a full disk at {op} {target}")
