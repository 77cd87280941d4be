"""Read ``.npz`` archives with bounded memory and one error type.

``numpy.load`` trusts a member's ``.npy`` header: a few hundred compressed bytes can declare (and
make numpy allocate) gigabytes, and a truncated or corrupt archive raises ``BadZipFile``,
``zlib.error``, ``EOFError`` or ``ValueError`` depending on where it breaks. :func:`read_npz`
checks every member before it is decompressed -- its declared size against a byte budget for the
whole file, its header's shape x dtype against that size, no object (pickled) arrays -- reads it no
further than it declares, and turns every failure into an :class:`~biolens.core.errors.InputError`
naming the file and the member.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .errors import InputError

__all__ = ["MAX_ARRAY_BYTES", "npz_names", "read_npz"]

#: All bytes one archive's arrays may unpack to (the same budget as the safe ``.pt`` reader's).
MAX_ARRAY_BYTES = 4 << 30
_KINDS = "biufcUS"  # numbers, booleans and fixed-width text; never objects or raw records
_MALFORMED = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, OSError, NotImplementedError,
              RuntimeError, OverflowError, TypeError)


def _header(fh, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fh)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fh)
    raise ValueError(f"member {name}: .npy format version {version} is not read")


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member, its header checked against the size the archive declares for it."""
    with archive.open(info) as fh:
        shape, fortran, dtype = _header(fh, info.filename)
        if dtype.kind not in _KINDS or dtype.hasobject:
            raise ValueError(f"member {info.filename}: arrays of dtype {dtype} are not read (never unpickled)")
        if any(n < 0 for n in shape):
            raise ValueError(f"member {info.filename}: negative size in shape {list(shape)}")
        need = math.prod(shape) * dtype.itemsize
        if fh.tell() + need != info.file_size:
            raise ValueError(f"member {info.filename}: its header declares shape {list(shape)} of {dtype} "
                             f"({need} bytes), but the member holds {info.file_size - fh.tell()}")
        array = np.empty(math.prod(shape), dtype=dtype)
        got = fh.readinto(memoryview(array.view(np.uint8)))
        if got != need:
            raise ValueError(f"member {info.filename}: truncated ({got} of {need} bytes)")
    return array.reshape(shape, order="F" if fortran else "C")


def _open(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise InputError("file not found" if not path.exists() else "is not a file", source=str(path))
    return zipfile.ZipFile(path)


def npz_names(path: str | Path) -> list[str]:
    """The array names in an ``.npz`` (from its directory; nothing is decompressed)."""
    path = Path(path)
    try:
        with _open(path) as archive:
            return [n.removesuffix(".npy") for n in archive.namelist()]
    except _MALFORMED as exc:
        raise InputError(f"not a readable .npz file ({type(exc).__name__}: {exc})", source=str(path)) from None


def read_npz(path: str | Path, *, select: Callable[[str], bool] | None = None,
             max_bytes: int = MAX_ARRAY_BYTES) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file (``numpy.savez`` / ``savez_compressed`` output).

    Args:
        path: the archive.
        select: read only the arrays whose name it accepts (default: all).
        max_bytes: the most bytes the selected arrays may unpack to, checked before decompressing.

    Raises:
        InputError: naming the file (and member) for a missing, truncated, corrupt or over-budget
            archive, a member that is not an ``.npy`` array, or an object (pickle) array.
    """
    path = Path(path)
    try:
        with _open(path) as archive:
            infos = [i for i in archive.infolist() if select is None or select(i.filename.removesuffix(".npy"))]
            bad = [i.filename for i in infos if not i.filename.endswith(".npy")]
            if bad:
                raise ValueError(f"member {bad[0]} is not an .npy array")
            total = sum(i.file_size for i in infos)
            if total > max_bytes:
                raise ValueError(f"its arrays declare {total:,} bytes, more than the {max_bytes:,} allowed")
            return {i.filename.removesuffix(".npy"): _member(archive, i) for i in infos}
    except InputError:
        raise
    except _MALFORMED as exc:
        problem = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        raise InputError(f"not a readable .npz file ({problem})", source=str(path)) from None
