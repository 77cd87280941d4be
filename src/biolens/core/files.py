"""Atomic writes, content hashes and a JSON reader whose errors name the file."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .errors import InputError

__all__ = ["atomic_path", "atomic_write", "atomic_write_bytes", "atomic_write_text", "check_free_space", "check_output", "file_digest",
           "os_cause", "os_words", "read_json", "remove_temporaries", "text_digest"]

_DIGESTS: dict[tuple[str, int, int], str] = {}
_ERRNO_WORDS = {
    errno.EISDIR: "is a folder, not a file", errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EROFS: "is on a read-only file system", errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded", errno.EACCES: "permission denied", errno.EPERM: "not permitted",
    errno.ENOENT: "not found", errno.EEXIST: "already exists", errno.ENAMETOOLONG: "the name is too long",
    errno.EMFILE: "too many open files", errno.EIO: "an input/output error of the device",
}


def os_words(exc: OSError) -> str:
    """A file-system failure in words (``no space left on the device``), without the file name."""
    return _ERRNO_WORDS.get(exc.errno or 0) or exc.strerror or str(exc)


def check_output(path: str | Path, what: str = "output", *, folder: bool = False) -> None:
    """Before any work: refuse an output file that is a folder (``folder=False``) or an output
    folder that is a file, or a place that cannot be made or written (a trial file is created
    there and removed).

    Raises:
        InputError: naming the path and the problem.
    """
    path = Path(path)
    if path.is_dir() and not folder:
        raise InputError(f"the {what} is a folder; give a file name", source=str(path))
    if path.is_file() and folder:
        raise InputError(f"the {what} is a file; give a folder", source=str(path))
    where = path if folder else path.parent
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, trial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".check", dir=where)
        os.close(fd)
        os.unlink(trial)
    except OSError as exc:
        raise InputError(f"cannot write the {what} here ({os_words(exc)})", source=str(path)) from None


def check_free_space(path: str | Path, needed: int, what: str = "output") -> None:
    """Before the expensive work: refuse when the disk that will hold ``path`` has less free space
    than the ``needed`` bytes (an estimate of the output; the atomic write needs all of it beside
    any old file). A place whose free space cannot be read is not refused here.

    Raises:
        InputError: naming the path, the estimate and the free space.
    """
    import shutil

    where = Path(path).parent
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = shutil.disk_usage(where).free
    except OSError:
        return
    if needed > free:
        raise InputError(f"the {what} needs about {needed:,} bytes, but its disk has {free:,} bytes free; free some "
                         "space or write it elsewhere (nothing was computed)", source=str(path))


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it: done once, at import
    os.umask(mask)
    return mask


_UMASK = _umask()


def _publish(tmp: str | Path, path: Path) -> None:
    """Give the temporary file the mode a plain ``open(path, "w")`` would (``mkstemp`` makes it
    owner-only), then rename it over ``path``."""
    os.chmod(tmp, 0o666 & ~_UMASK)
    os.replace(tmp, path)


def os_cause(exc: BaseException) -> OSError | None:
    """``exc`` if it is an ``OSError``, else the ``OSError`` it was raised from (a serialiser such as
    equinox's wraps a failed write of a file: ``TreePathError`` from ``OSError(ENOSPC)``), or ``None``."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _temporary(path: Path) -> tuple[int, str]:
    """A new temporary sibling of ``path`` (its folder made); failures name ``path``, not the temporary."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write ({os_words(exc)})", source=str(path)) from None


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write a file through ``write(fh)`` into a temporary sibling, fsync, then rename over ``path``.

    A reader sees the old file or the complete new one, never a torn write.
    """
    path = Path(path)
    fd, tmp = _temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        cause = os_cause(exc) if isinstance(exc, Exception) else None
        if cause is not None:  # a full disk, say, also when the writer wrapped it
            raise InputError(f"cannot write ({os_words(cause)})", source=str(path)) from exc
        raise


def atomic_path(path: str | Path, write: Callable[[Path], None]) -> None:
    """Like :func:`atomic_write` for writers that need a file name (HDF5, SQLite, savers)."""
    path = Path(path)
    fd, tmp = _temporary(path)
    os.close(fd)
    try:
        write(Path(tmp))
        _publish(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        cause = os_cause(exc) if isinstance(exc, Exception) else None
        if cause is not None:  # a full disk, say, also when the writer wrapped it
            raise InputError(f"cannot write ({os_words(cause)})", source=str(path)) from exc
        raise


#: a temporary of :func:`atomic_write` (``.NAME.XXXXXXXX.tmp``) or of a folder written whole
#: (``.NAME.XXXXXXXX``, :func:`biolens.core.checkpoint.save_checkpoint`): ``tempfile``'s 8 random letters
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}(\.tmp)?$")


def remove_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporaries of atomic writes that a killed process left anywhere in ``folder``
    (files ``.NAME.XXXXXXXX.tmp``, folders ``.NAME.XXXXXXXX``); returns them. Only for a folder no
    other process writes in (a run folder whose lock is held): another writer's temporary would go."""
    gone = []
    for path in sorted(Path(folder).rglob(".*"), reverse=True):  # deepest first
        if _TEMPORARY.match(path.name) and (path.is_dir() or path.name.endswith(".tmp")):
            try:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            except OSError:
                continue
            gone.append(path)
    return gone


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda fh: fh.write(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, memoised per (path, size, mtime) within the process."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def text_digest(text: str) -> str:
    """SHA-256 of a string (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def read_json(path: str | Path, *, mapping: bool = False) -> Any:
    """The JSON document in ``path`` (``mapping``: it must be a JSON object, as every config is).

    Raises:
        InputError: naming the file and, for invalid JSON or UTF-8, the line and column / byte offset;
            with ``mapping``, a document that is not an object.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
        if mapping and not isinstance(doc, dict):
            raise InputError(f"holds a JSON {_JSON_KINDS.get(type(doc), type(doc).__name__)}, not the object "
                             "of settings expected", source=str(path))
        return doc
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at column {exc.colno}: {exc.msg}", source=str(path), line=exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}: {exc.reason})", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
