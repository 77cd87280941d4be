"""The safe .pt reader bounds the memory of every tensor it rebuilds (issue 14)."""

from __future__ import annotations

import tracemalloc
import zipfile

import numpy as np
import pytest

from biolens.core.errors import BiolensError, InputError
from biolens.core.ptfile import PtFileError, UnsupportedPickle, read_pt_file
from biolens.graphs import read_split
from pt_files import dict_pickle, integer, stride_zero_bomb, tensor, text, zip_pt


def test_stride_zero_file_of_the_issue_is_refused_with_bounded_memory(tmp_path):
    path = stride_zero_bomb(tmp_path / "valid.pt")
    assert path.stat().st_size < 1024  # the issue's file is 582 bytes
    tracemalloc.start()
    try:
        with pytest.raises(PtFileError, match=r"valid.pt: tensor of size \(50000000, 2\) with stride \(0, 0\) repeats"):
            read_pt_file(path)
        with pytest.raises(InputError, match="repeats the 1 items of its storage into 100,000,000 elements"):
            read_split(path, 10)  # never handed on to torch.load either
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20  # the old reader built 800 MB (7.3 GiB peak through graph evaluate)


def test_small_broadcast_view_is_materialised(tmp_path):
    values = np.array([5, 7], np.int64)
    path = zip_pt(tmp_path / "v.pt", dict_pickle({"edge": tensor((3, 2), (0, 1), numel=2)}), {"0": values.tobytes()})
    assert read_pt_file(path)["edge"].tolist() == [[5, 7]] * 3


@pytest.mark.parametrize("size, stride, offset, why", [
    ((3, 2), (2, 1), 1, "does not fit its storage of 6 items"),  # last element one past the end
    ((4, 2), (1, 4), 0, "does not fit its storage"),  # strides reach past the end
    ((2, 2), (2,), 0, "size \\(2, 2\\), stride \\(2,\\)"),
    ((2, -1), (1, 1), 0, "size \\(2, -1\\) is not a tuple of integers"),
])
def test_tensor_outside_its_storage_is_refused(tmp_path, size, stride, offset, why):
    path = zip_pt(tmp_path / "v.pt", dict_pickle({"edge": tensor(size, stride, offset=offset, numel=6)}),
                  {"0": np.arange(6, dtype=np.int64).tobytes()})
    with pytest.raises(PtFileError, match=why):
        read_pt_file(path)


def test_zip_member_size_is_checked_before_decompressing(tmp_path):
    zeros = bytes(8 << 20)  # 8 MiB of zeros deflate to ~8 KiB
    path = zip_pt(tmp_path / "bomb.pt", dict_pickle({"edge": tensor((1 << 20,), (1,), numel=1 << 20)}),
                  {"0": zeros}, compress=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 64 << 10
    tracemalloc.start()
    try:
        with pytest.raises(PtFileError, match=r"zip member archive/data/0 needs 8,388,608 bytes, over the reader's budget"):
            read_pt_file(path, max_bytes=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert read_pt_file(path)["edge"].shape == (1 << 20,)  # within the default budget it reads


def test_zip_member_that_lies_about_its_size_is_refused(tmp_path):
    path = zip_pt(tmp_path / "v.pt", dict_pickle({"edge": tensor((2,), (1,), numel=2)}), {"0": bytes(16)})
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("archive/data/0")
    # the central directory's uncompressed size (offset 24 in its entry) claims 8 bytes for 16 stored
    entry = raw.index(b"archive/data/0", raw.index(b"PK\x01\x02")) - 46
    raw[entry + 24:entry + 28] = (8).to_bytes(4, "little")
    raw[info.header_offset + 22:info.header_offset + 26] = (8).to_bytes(4, "little")
    (tmp_path / "lie.pt").write_bytes(bytes(raw))
    with pytest.raises(PtFileError, match=r"lie.pt: not a readable torch.save file .*Bad CRC"):
        read_pt_file(tmp_path / "lie.pt")


def test_odd_dtype_and_malformed_opcodes_are_input_errors(tmp_path):
    legacy = b"".join([b"\x80\x02" + integer(0x1950A86A20F9469CFC6C) + b".", b"\x80\x02M\xe9\x03.", b"\x80\x02}."])
    odd = b"\x80\x02cnumpy\ndtype\n(" + text("zz9") + b"\x89\x88tR."
    (tmp_path / "odd.pt").write_bytes(legacy + odd + b"\x80\x02].")
    with pytest.raises(PtFileError, match=r"odd.pt: dtype 'zz9' is not a numpy type code"):
        read_pt_file(tmp_path / "odd.pt")
    wrong_args = b"\x80\x02cnumpy\ndtype\n)R."
    (tmp_path / "args.pt").write_bytes(legacy + wrong_args + b"\x80\x02].")
    with pytest.raises(PtFileError, match=r"call of numpy.dtype with 0 arguments"):
        read_pt_file(tmp_path / "args.pt")
    (tmp_path / "empty_stack.pt").write_bytes(legacy + b"\x80\x02s.")
    with pytest.raises(PtFileError, match=r"not a readable torch.save file \(IndexError"):
        read_pt_file(tmp_path / "empty_stack.pt")
    path = zip_pt(tmp_path / "bf16.pt", dict_pickle({"edge": tensor((1,), (1,), storage="BFloat16Storage")}), {"0": b"\x80\x3f"})
    assert read_pt_file(path)["edge"].astype(np.float32).tolist() == [1.0]  # bf16 is read (ESM C weights)
    path = zip_pt(tmp_path / "qint.pt", dict_pickle({"edge": tensor((1,), (1,), storage="QInt8Storage")}), {"0": b"\0"})
    with pytest.raises(UnsupportedPickle, match="QInt8Storage, which is not read here"):
        read_pt_file(path)
    for name in ("odd.pt", "args.pt", "empty_stack.pt"):
        with pytest.raises(BiolensError):
            read_split(tmp_path / name, 4)
