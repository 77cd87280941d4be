"""core.npzfile: bounded, checked .npz reading (issue 14: zip members decompressed without a limit)."""

import io
import zipfile

import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.core.npzfile import npz_names, read_npz


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=True)
    return buf.getvalue()


def _zip(path, members: dict[str, bytes], compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compress) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_reads_what_numpy_writes(tmp_path):
    arrays = {"i": np.arange(6).reshape(2, 3), "f": np.asfortranarray(np.ones((3, 2), np.float32)),
              "s": np.array(["a", "bb"]), "b": np.array([True, False]), "z": np.zeros((0, 2))}
    for save in (np.savez, np.savez_compressed):
        save(tmp_path / "a.npz", **arrays)
        got = read_npz(tmp_path / "a.npz")
        assert set(got) == set(arrays) and npz_names(tmp_path / "a.npz") == list(arrays)
        for k, v in arrays.items():
            assert got[k].dtype == v.dtype and np.array_equal(got[k], v) and got[k].flags.writeable
    assert set(read_npz(tmp_path / "a.npz", select=lambda k: k in ("i", "s"))) == {"i", "s"}


def test_probe_npz_zip_member_bomb_refused_before_decompressing(tmp_path):
    """A 64 MiB member compressed to ~64 KiB is refused by its declared size, before any of it is read."""
    header = _npy(np.zeros((8 << 20,), np.int64))
    path = _zip(tmp_path / "bomb.npz", {"edge.npy": header})
    assert path.stat().st_size < 200_000
    with pytest.raises(InputError, match=r"declare 67,108,992 bytes, more than the 16,777,216 allowed") as info:
        read_npz(path, max_bytes=16 << 20)
    assert str(path) in str(info.value)


def test_probe_npz_header_claiming_more_than_the_member_holds(tmp_path):
    small = _npy(np.zeros(4, np.int64))
    lying = small.replace(b"(4,)", b"(9,)")
    path = _zip(tmp_path / "lie.npz", {"edge.npy": lying})
    with pytest.raises(InputError, match=r"member edge.npy: its header declares shape \[9\] of int64 \(72 bytes\)"):
        read_npz(path)


@pytest.mark.parametrize("cut", [10, 100, -30])
def test_probe_npz_truncated_is_a_named_error(tmp_path, cut):
    np.savez(tmp_path / "a.npz", x=np.arange(100))
    data = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "t.npz").write_bytes(data[:cut])
    with pytest.raises(InputError, match=r"not a readable \.npz file") as info:
        read_npz(tmp_path / "t.npz")
    assert str(tmp_path / "t.npz") in str(info.value)


def test_probe_npz_object_array_never_unpickled(tmp_path):
    path = _zip(tmp_path / "o.npz", {"x.npy": _npy(np.array([{"a": 1}], dtype=object))})
    with pytest.raises(InputError, match="dtype object are not read"):
        read_npz(path)


def test_npz_member_that_is_not_an_array(tmp_path):
    path = _zip(tmp_path / "m.npz", {"x.npy": _npy(np.arange(3)), "readme.txt": b"hello"})
    with pytest.raises(InputError, match=r"member readme\.txt is not an \.npy array"):
        read_npz(path)
    with pytest.raises(InputError, match="file not found"):
        read_npz(tmp_path / "missing.npz")
