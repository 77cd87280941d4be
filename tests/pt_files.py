"""Hand-written ``torch.save`` files (pickle opcodes written byte by byte), so the safe ``.pt``
reader's tests need no torch and can say exactly what each file claims."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np

PROTO2 = b"\x80\x02"


def text(s: str) -> bytes:
    """BINUNICODE."""
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def integer(n: int) -> bytes:
    """BININT1 / BININT / LONG1."""
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if -(2**31) <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def int_tuple(values) -> bytes:
    return b"(" + b"".join(integer(v) for v in values) + b"t"


def tensor(size, stride, *, offset=0, key="0", storage="LongStorage", numel=1) -> bytes:
    """Opcodes of ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())``."""
    pid = b"(" + text("storage") + b"ctorch\n" + storage.encode() + b"\n" + text(key) + text("cpu") + integer(numel) + b"tQ"
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + integer(offset) + int_tuple(size) + int_tuple(stride)
            + b"\x89ccollections\nOrderedDict\n)Rt" + b"R")


def dict_pickle(items: dict[str, bytes]) -> bytes:
    """A pickle of ``{key: <opcodes>}``."""
    body = b"".join(text(k) + v for k, v in items.items())
    return PROTO2 + b"}(" + body + b"u."


def zip_pt(path, pickle: bytes, storages: dict[str, bytes], *, compress=zipfile.ZIP_STORED):
    """The torch >= 1.6 zip layout: ``archive/data.pkl`` + ``archive/data/<key>``."""
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        z.writestr("archive/data.pkl", pickle)
        for key, data in storages.items():
            z.writestr(f"archive/data/{key}", data)
    return path


def stride_zero_bomb(path):
    """The issue's file: one int64 in storage, a tensor claiming shape (50,000,000, 2) with stride 0."""
    return zip_pt(path, dict_pickle({"edge": tensor((50_000_000, 2), (0, 0)), "edge_neg": tensor((1, 2), (0, 0))}),
                  {"0": np.int64(3).tobytes()})


def zip_bytes(pickle: bytes, storages: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    zip_pt(buf, pickle, storages)
    return buf.getvalue()
