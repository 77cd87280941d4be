"""Atomic writes: readers never see a torn file, failures leave nothing behind, and the file gets
the mode a plain ``open()`` would give it (not ``mkstemp``'s owner-only 0600)."""

import os
import stat

import pytest

from biolens.core.files import atomic_path, atomic_write_text


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_atomic_files_get_the_usual_mode(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "hello")
    atomic_path(tmp_path / "b.bin", lambda p: p.write_bytes(b"x"))
    plain = tmp_path / "c.txt"
    plain.write_text("plain")
    want = stat.S_IMODE(plain.stat().st_mode)
    assert want == 0o666 & ~_umask()
    for name in ("a.txt", "b.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == want
    assert (tmp_path / "a.txt").read_text() == "hello"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")

    def boom(path):
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_path(target, boom)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_probe_atomic_write_failure_names_the_target_not_the_temporary(tmp_path):
    """Issue 14 re-run: a failed write named '.NAME.xxxx.tmp: not found'; now the file asked for."""
    from biolens.core.errors import InputError
    from biolens.core.files import atomic_write_text, check_output

    target = "/proc/biolens-probe/out.json"
    with pytest.raises(InputError, match=r"^/proc/biolens-probe/out.json: cannot write \(") as info:
        atomic_write_text(target, "{}")
    assert ".tmp" not in str(info.value)
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file; give a folder"):
        check_output(tmp_path / "f", "run folder", folder=True)
    check_output(tmp_path / "new" / "run", "run folder", folder=True)
    assert (tmp_path / "new" / "run").is_dir()


def test_probe_checkpoint_meta_and_configs_that_are_broken_name_the_file(tmp_path):
    """Issue 14: a checkpoint's meta.json or a config with a byte that is not UTF-8 (or valid JSON of
    another shape) escaped as UnicodeDecodeError / AttributeError without the file's name."""
    import dataclasses

    from biolens.core.checkpoint import read_meta
    from biolens.core.config import load_config
    from biolens.core.errors import InputError
    from biolens.core.files import read_json

    (tmp_path / "meta.json").write_bytes(b'{"task": "\xff"}')
    with pytest.raises(InputError, match=r"meta.json: not UTF-8 text \(byte 10: invalid start byte\)"):
        read_meta(tmp_path)
    (tmp_path / "meta.json").write_text("[1, 2]")
    with pytest.raises(InputError, match=r"meta.json: holds a JSON array, not the object of settings expected"):
        read_meta(tmp_path)

    @dataclasses.dataclass
    class Config:
        lr: float = 0.1

    (tmp_path / "c.json").write_text('"lr"')
    with pytest.raises(InputError, match=r"c.json: holds a JSON string, not the object"):
        load_config(Config, tmp_path / "c.json")
    assert read_json(tmp_path / "c.json") == "lr"  # only configs must be objects


def test_remove_temporaries_deletes_what_a_killed_write_left_and_nothing_else(tmp_path):
    """Issue 14 (fault suite): a run killed inside an atomic write left its temporary for good."""
    from biolens.core.files import remove_temporaries

    keep = [tmp_path / ".lock", tmp_path / "state.eqx", tmp_path / ".hidden", tmp_path / "train" / ".notes.tmp"]
    stale = [tmp_path / "train" / ".state.eqx.ab12_z9q.tmp", tmp_path / ".result.json.k2j4h6g8.tmp"]
    for path in keep + stale:
        path.parent.mkdir(exist_ok=True)
        path.write_text("x")
    (tmp_path / ".checkpoint.qwertyui").mkdir()
    (tmp_path / ".checkpoint.qwertyui" / "model.eqx").write_text("x")
    gone = remove_temporaries(tmp_path)
    assert sorted(gone) == sorted([*stale, tmp_path / ".checkpoint.qwertyui"])
    assert all(p.exists() for p in keep) and not any(p.exists() for p in gone)


def test_a_full_disk_under_a_serialiser_is_named_not_a_traceback(tmp_path, monkeypatch):
    """Issue 14 (fault suite): equinox wraps a failed write in a TreePathError, which atomic writes and
    checkpoints let through as a traceback instead of naming the file."""
    import errno

    import equinox as eqx
    import jax.numpy as jnp

    from biolens.core.checkpoint import save_checkpoint
    from biolens.core.errors import InputError
    from biolens.core.files import atomic_write

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    tree = {"w": jnp.ones(3)}
    with pytest.raises(InputError, match=r"state\.eqx: cannot write \(no space left on the device\)"):
        atomic_write(tmp_path / "state.eqx", lambda fh: eqx.tree_serialise_leaves(Full(fh), tree))
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nor a temporary left
    real = eqx.tree_serialise_leaves
    monkeypatch.setattr(eqx, "tree_serialise_leaves", lambda path, t: real(Full(path), t))  # the disk fills up
    with pytest.raises(InputError, match=r"checkpoint: cannot write the checkpoint \(no space left on the device\)"):
        save_checkpoint(tmp_path / "checkpoint", tree, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == []
