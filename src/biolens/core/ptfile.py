"""Read arrays out of PyTorch ``.pt`` files without unpickling them.

OGB ships its split files (``split/<name>/valid.pt``) as ``torch.save`` output: a pickled dict of
arrays. Unpickling runs whatever the file says, so biolens never does it. Instead the pickle's
opcodes are tokenised with :mod:`pickletools` (a disassembler: it executes nothing) and a tiny
stack machine interprets a closed list of them. The only callables it knows are numpy's array
and dtype reconstructors, ``_codecs.encode`` and torch's tensor rebuilder, each re-implemented
here for plain numeric arrays; anything else stops the read with an :class:`UnsupportedPickle`.

Two container formats are read:

* the legacy format (torch < 1.6, OGB's own files): a sequence of pickles (magic number,
  protocol, system info, the object) in one file, arrays stored inline as numpy arrays;
* the zip format (torch >= 1.6): ``<name>/data.pkl`` plus one raw file per tensor storage.

Legacy files holding torch tensors (storages appended after the pickles) are not handled here;
:func:`read_split` then falls back to ``torch.load(weights_only=True)`` when torch is installed.

Memory is bounded: every tensor is checked against its storage before it is built (its element
count and its largest offset, from shape *and* strides), a view with more elements than its storage
holds (stride 0, overlapping strides) is materialised only up to ``EXPAND_BYTES``, every zip member's
declared size is checked before it is decompressed and read no further than that size, and all the
bytes read or built for one file count against one budget (``max_bytes``). A file that breaks any
of these, or is malformed in any other way, raises :class:`PtFileError` (an :class:`InputError`)
naming the file; nothing in it is ever executed.
"""

from __future__ import annotations

import io
import math
import pickletools
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np

from .errors import InputError

__all__ = ["EXPAND_BYTES", "MAX_BYTES", "PtFileError", "UnsupportedPickle", "read_pt_file"]

MAX_BYTES = 4 << 30  # all bytes read and built for one file
EXPAND_BYTES = 64 << 20  # a view larger than its storage (stride 0, overlap) is built only up to this

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_NUMERIC_KINDS = "biufc"
_STORAGE_DTYPES = {
    "DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
    "BFloat16Storage": ml_dtypes.bfloat16,
}


class UnsupportedPickle(InputError):
    """The file uses a pickle feature outside the small safe subset read here (a well-formed file
    that PyTorch's own restricted loader may still read)."""


class PtFileError(InputError):
    """The file is malformed or asks for more memory than its data justifies; no loader should try it."""


class _Budget:
    """Bytes one file may still read or build."""

    def __init__(self, max_bytes: int) -> None:
        self.left = max_bytes
        self.max_bytes = max_bytes

    def take(self, nbytes: int, what: str) -> None:
        if nbytes > self.left:
            raise PtFileError(f"{what} needs {nbytes:,} bytes, over the reader's budget of "
                              f"{self.max_bytes:,} bytes for one file")
        self.left -= nbytes


class _Global:
    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"


class _ArrayStub:
    """What ``numpy.core.multiarray._reconstruct`` returns until ``BUILD`` fills it in."""

    array: np.ndarray | None = None


class _Storage:
    def __init__(self, dtype: np.dtype | type[np.generic], data: bytes, name: str) -> None:
        dtype = np.dtype(dtype).newbyteorder("<")
        if len(data) % dtype.itemsize:
            raise PtFileError(f"storage {name} has {len(data)} bytes, not a whole number of {dtype} items")
        self.values = np.frombuffer(data, dtype=dtype)


def _numeric_dtype(spec: Any) -> np.dtype:
    if not isinstance(spec, str):
        raise UnsupportedPickle(f"dtype {spec!r} is not a type code")
    try:
        dtype = np.dtype(spec)
    except (TypeError, ValueError):
        raise PtFileError(f"dtype {spec!r} is not a numpy type code") from None
    if dtype.kind not in _NUMERIC_KINDS:
        raise UnsupportedPickle(f"dtype {dtype} is not numeric (only numeric arrays are read)")
    return dtype


def _reduce_reconstruct(cls, shape, code) -> _ArrayStub:
    if not (isinstance(cls, _Global) and cls.name == "ndarray"):
        raise UnsupportedPickle(f"array subclass {cls!r}")
    return _ArrayStub()


def _reduce_dtype(spec, *_flags) -> np.dtype:
    return _numeric_dtype(spec)


def _reduce_encode(text, encoding="utf-8") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsupportedPickle("_codecs.encode with an unexpected argument")
    return text.encode("latin1")


def _int_tuple(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or not all(type(v) is int and v >= 0 for v in value):
        raise PtFileError(f"tensor {what} {value!r} is not a tuple of integers >= 0")
    return tuple(value)


def _reduce_tensor(storage, offset, size, stride, *_rest, budget: _Budget) -> np.ndarray:
    if not isinstance(storage, _Storage):
        raise UnsupportedPickle("a tensor without a storage")
    values = storage.values
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if type(offset) is not int or offset < 0 or len(size) != len(stride):
        raise PtFileError(f"tensor with size {size}, stride {stride}, offset {offset!r}")
    count = math.prod(size)
    nbytes = count * values.dtype.itemsize
    if count == 0:
        budget.take(0, "an empty tensor")
        return np.zeros(size, dtype=values.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if last >= len(values):  # never read outside the storage
        raise PtFileError(f"tensor of size {size} and stride {stride} (offset {offset}) does not fit its "
                          f"storage of {len(values)} items")
    if count > len(values) - offset and nbytes > EXPAND_BYTES:  # a broadcast or overlapping view
        raise PtFileError(f"tensor of size {size} with stride {stride} repeats the {len(values)} items of its "
                          f"storage into {count:,} elements ({nbytes:,} bytes, over the {EXPAND_BYTES:,} "
                          "allowed for such views)")
    budget.take(nbytes, f"tensor of size {size}")
    itemsize = values.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        values[offset:], shape=size, strides=tuple(s * itemsize for s in stride), writeable=False
    )
    return np.array(view)


def _reduce_ordered_dict(*args) -> dict:
    if args:
        raise UnsupportedPickle("OrderedDict with arguments")
    return {}


_CALLABLES: dict[tuple[str, str], Callable[..., Any]] = {
    ("numpy.core.multiarray", "_reconstruct"): _reduce_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reduce_reconstruct,
    ("numpy", "dtype"): _reduce_dtype,
    ("_codecs", "encode"): _reduce_encode,
    ("torch._utils", "_rebuild_tensor_v2"): _reduce_tensor,
    ("collections", "OrderedDict"): _reduce_ordered_dict,
}
_BUDGETED = {_reduce_tensor}
_CLASSES = {("numpy", "ndarray")} | {("torch", name) for name in _STORAGE_DTYPES}


def _build(obj: Any, state: Any, budget: _Budget) -> Any:
    """The ``BUILD`` opcode: ``__setstate__`` of numpy arrays and dtypes only."""
    if isinstance(obj, _ArrayStub):
        if not (isinstance(state, tuple) and len(state) == 5):
            raise PtFileError("array state is not (version, shape, dtype, fortran, data)")
        _version, shape, dtype, fortran, raw = state
        if not isinstance(dtype, np.dtype) or not isinstance(raw, bytes):
            raise UnsupportedPickle("array state without a numeric dtype and raw bytes")
        shape = _int_tuple(shape, "shape")
        if len(raw) != math.prod(shape) * dtype.itemsize:
            raise PtFileError(f"array of shape {shape} has {len(raw)} bytes of data")
        budget.take(len(raw), f"array of shape {shape}")
        return np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C").copy()
    if isinstance(obj, np.dtype):
        if not (isinstance(state, tuple) and len(state) > 1):
            raise PtFileError("dtype state without a byte order")
        order = state[1]
        return obj.newbyteorder(">") if order == ">" else obj
    if isinstance(obj, dict) and isinstance(state, dict):
        return obj  # an OrderedDict's attributes (a state dict's ``_metadata``): not items, dropped
    raise UnsupportedPickle(f"BUILD of {type(obj).__name__}")


_PUSH = {
    "NONE": lambda a: None, "NEWTRUE": lambda a: True, "NEWFALSE": lambda a: False,
    "EMPTY_DICT": lambda a: {}, "EMPTY_LIST": lambda a: [], "EMPTY_TUPLE": lambda a: (),
}
_VALUES = {
    "BININT", "BININT1", "BININT2", "LONG1", "LONG4", "BINFLOAT", "BINUNICODE", "SHORT_BINUNICODE",
    "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BINSTRING", "SHORT_BINSTRING", "INT", "LONG",
}


class _Machine:
    """The stack machine for one pickle; ``persistent`` resolves storages (zip format)."""

    def __init__(self, budget: _Budget, persistent: Callable[[Any], Any] | None = None) -> None:
        self.stack: list[Any] = []
        self.marks: list[int] = []
        self.memo: dict[int, Any] = {}
        self.persistent = persistent
        self.budget = budget

    def _pop_mark(self) -> list[Any]:
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def run(self, stream: io.BufferedIOBase | io.BytesIO) -> Any:
        for op, arg, _pos in pickletools.genops(stream):
            name = op.name
            if name == "STOP":
                return self.stack.pop()
            self.step(name, arg)
        raise UnsupportedPickle("the pickle has no STOP")

    def step(self, name: str, arg: Any) -> None:
        """Apply one opcode: plain values and the memo here, containers and objects below."""
        st = self.stack
        if name in ("PROTO", "FRAME"):
            return
        if name in _PUSH:
            st.append(_PUSH[name](arg))
        elif name in _VALUES:
            st.append(arg)
        elif name == "MARK":
            self.marks.append(len(st))
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            self.memo[int(arg)] = st[-1]
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = st[-1]
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            st.append(self.memo[int(arg)])
        elif not (self._container(name) or self._object(name, arg)):
            raise UnsupportedPickle(f"pickle opcode {name}")

    def _container(self, name: str) -> bool:
        st = self.stack
        if name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = tuple(st[-n:])
            del st[-n:]
            st.append(items)
        elif name == "TUPLE":
            st.append(tuple(self._pop_mark()))
        elif name in ("SETITEMS", "SETITEM"):
            items = self._pop_mark() if name == "SETITEMS" else [st.pop(-2), st.pop()]
            if not isinstance(st[-1], dict):
                raise UnsupportedPickle("SETITEM on something that is not a dict")
            st[-1].update(zip(items[::2], items[1::2], strict=True))
        elif name in ("APPENDS", "APPEND"):
            items = self._pop_mark() if name == "APPENDS" else [st.pop()]
            if not isinstance(st[-1], list):
                raise UnsupportedPickle("APPEND on something that is not a list")
            st[-1].extend(items)
        else:
            return False
        return True

    def _object(self, name: str, arg: Any) -> bool:
        st = self.stack
        if name in ("GLOBAL", "STACK_GLOBAL"):
            module, qual = arg.split(" ", 1) if name == "GLOBAL" else (st.pop(-2), st.pop())
            self._push_global(module, qual)
        elif name == "REDUCE":
            args, func = st.pop(), st.pop()
            st.append(self._call(func, args))
        elif name == "BUILD":
            state, old = st.pop(), st[-1]
            st[-1] = _build(old, state, self.budget)
            for key, value in self.memo.items():  # later references see the built object
                if value is old:
                    self.memo[key] = st[-1]
        elif name in ("BINPERSID", "PERSID") and self.persistent is not None:
            st.append(self.persistent(st.pop() if name == "BINPERSID" else arg))
        else:
            return False
        return True

    def _push_global(self, module: str, name: str) -> None:
        if (module, name) not in _CALLABLES and (module, name) not in _CLASSES:
            raise UnsupportedPickle(f"the file refers to {module}.{name}, which is not read here")
        self.stack.append(_Global(module, name))

    def _call(self, func: Any, args: Any) -> Any:
        if not isinstance(func, _Global) or (func.module, func.name) not in _CALLABLES:
            raise UnsupportedPickle(f"call of {func!r}")
        if not isinstance(args, tuple):
            raise PtFileError(f"call of {func!r} without an argument tuple")
        fn = _CALLABLES[(func.module, func.name)]
        try:
            return fn(*args, budget=self.budget) if fn in _BUDGETED else fn(*args)
        except TypeError:  # wrong number of arguments
            raise PtFileError(f"call of {func!r} with {len(args)} arguments") from None


def _read_legacy(data: bytes, budget: _Budget) -> Any:
    stream = io.BytesIO(data)
    magic = _Machine(budget).run(stream)
    if magic != LEGACY_MAGIC:
        raise UnsupportedPickle("not a torch.save file (no magic number)")
    _Machine(budget).run(stream)  # protocol version
    _Machine(budget).run(stream)  # system info (endianness, type sizes)
    obj = _Machine(budget).run(stream)
    keys = _Machine(budget).run(stream)
    if keys:
        raise UnsupportedPickle("a legacy file with tensor storages")
    return obj


def _read_member(archive: zipfile.ZipFile, name: str, budget: _Budget) -> bytes:
    """One zip member, its declared size checked against the budget before it is decompressed."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise PtFileError(f"the zip has no member {name}") from None
    budget.take(info.file_size, f"zip member {name}")
    with archive.open(info) as fh:
        data = fh.read(info.file_size + 1)  # never more than it declares
    if len(data) != info.file_size:
        raise PtFileError(f"zip member {name} holds {len(data)} bytes, not the {info.file_size} it declares")
    return data


def _read_zip(path: Path, budget: _Budget) -> Any:
    with zipfile.ZipFile(path) as archive:
        pkl = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise UnsupportedPickle("a zip file without exactly one data.pkl")
        root = pkl[0][: -len("data.pkl")]
        storages: dict[str, _Storage] = {}

        def storage(pid: Any) -> _Storage:
            if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
                raise UnsupportedPickle(f"persistent id {pid!r}")
            kind, key = pid[1], pid[2]
            if not isinstance(kind, _Global) or kind.name not in _STORAGE_DTYPES:
                raise UnsupportedPickle(f"storage type {kind!r}")
            if not isinstance(key, str):
                raise PtFileError(f"storage key {key!r} is not a name")
            if key not in storages:  # tensors sharing a storage read it once
                name = f"{root}data/{key}"
                storages[key] = _Storage(_STORAGE_DTYPES[kind.name], _read_member(archive, name, budget), name)
            return storages[key]

        return _Machine(budget, storage).run(io.BytesIO(_read_member(archive, pkl[0], budget)))


_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError, EOFError, OverflowError,
              UnicodeDecodeError, struct.error, zlib.error, zipfile.BadZipFile, NotImplementedError, OSError,
              RuntimeError)  # OSError: a seek outside the file; RuntimeError: an encrypted member


def read_pt_file(path: str | Path, *, max_bytes: int = MAX_BYTES) -> Any:
    """The object in a ``torch.save`` file, if it is built only of dicts, lists, tuples,
    numbers, strings and numeric arrays/tensors (returned as numpy arrays).

    Args:
        path: the ``.pt`` file.
        max_bytes: the most bytes read and built for this file (zip members, arrays, tensors).

    Raises:
        UnsupportedPickle: the file needs a feature outside the subset (nothing has been executed).
        PtFileError: the file is malformed, or needs more memory than ``max_bytes`` / its storages allow.
    """
    path = Path(path)
    budget = _Budget(max_bytes)
    try:
        if zipfile.is_zipfile(path):
            return _read_zip(path, budget)
        budget.take(path.stat().st_size, "the file")
        return _read_legacy(path.read_bytes(), budget)
    except InputError as exc:
        raise type(exc)(exc.problem, source=str(path)) from None
    except _MALFORMED as exc:
        raise PtFileError(f"not a readable torch.save file ({type(exc).__name__}: {exc})", source=str(path)) from None
