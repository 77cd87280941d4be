"""Fault injection for the run contract (issue 14): record every file operation a run makes under
one folder, then kill the run (a stand-in for ``kill -9``) before or after any one of them, or fail
one (disk full, an I/O error), and compare the rerun's folder with the uninterrupted one.

What counts as a file operation (each recorded with the file it is for, relative to the root; a
temporary sibling ``.NAME.XXXX.tmp`` of an atomic write is named by its target ``NAME``):

* ``create`` (``os.open`` with ``O_CREAT``: ``tempfile.mkstemp``, ``Path.touch``), ``open-w`` /
  ``open-a`` / ``open-x`` (the built-in ``open`` for writing or appending: plain writes, the
  training log, the lock file), ``fsync``, ``chmod``, ``replace``, ``rename``, ``unlink``,
  ``rmdir``, ``mkdir`` (of a folder not there yet; ``os.makedirs`` and ``Path.mkdir`` make theirs
  through it). The project's atomic writes (:mod:`biolens.core.files`) are ``create``, ``fsync``,
  ``chmod``, ``replace`` of one target; writers in C (SQLite, HDF5, safetensors) write into such a
  temporary, so their file shows up at its ``chmod`` and ``replace``.
* the embedding store, which SQLite writes in C: ``store.open``, ``store.register`` and
  ``store.put_many`` (one transaction each), wrapped at :class:`~biolens.core.store.EmbeddingStore`.

A kill raises :class:`Killed`, which nothing in biolens catches; from then on every file operation
under the root raises it again without running, so the cleanup a real ``kill -9`` never runs does
not run here either. A failure raises ``OSError(errno)`` at the operation (a write through ``open``
writes half of its text first: a torn append), or SQLite's ``database or disk is full`` at a store
transaction, through the project's own error handling.
"""

from __future__ import annotations

import base64
import builtins
import errno as errnos
import io
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from biolens.core.store import EmbeddingStore

__all__ = ["FileOps", "Killed", "Op", "assert_same_run", "comparable", "kill_points"]


class Killed(BaseException):
    """Stands for kill -9: nothing in biolens catches it."""


@dataclass(frozen=True)
class Op:
    """One file operation: what (``replace``, ``store.put_many``...) and the file it is for."""

    name: str
    target: str

    def __str__(self) -> str:
        return f"{self.name} {self.target}"


_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}(\.tmp|\.check)?$")  # tempfile's 8 random letters
_REAL = {"open": builtins.open}


def target_name(relative: str) -> str:
    """``train/.state.eqx.ab12cd34.tmp`` -> ``train/state.eqx``, ``.checkpoint.ab12cd34/meta.json`` ->
    ``checkpoint/meta.json`` (a temporary file or folder is named by its target)."""
    return "/".join(m["name"] if (m := _TEMPORARY.match(part)) else part for part in relative.split("/"))


class _Torn:
    """A file opened for writing whose first write stores half of its data, then fails."""

    def __init__(self, fh: Any, error: OSError) -> None:
        self._fh, self._error = fh, error

    def write(self, data: Any) -> int:
        self._fh.write(data[: len(data) // 2])
        self._fh.flush()
        raise self._error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __enter__(self) -> _Torn:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


class _FullDisk:
    """An SQLite connection whose writes fail as on a full disk."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, *args: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    executemany = execute

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def __enter__(self) -> Any:
        return self._db.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        return self._db.__exit__(*exc)


class FileOps:
    """Inside ``with FileOps(root) as ops:`` every file operation under ``root`` is recorded in
    ``ops.ops`` (a list of :class:`Op`, in order).

    Args:
        kill: ``(k, "before" | "after")``: raise :class:`Killed` before operation ``k`` runs, or
            right after it.
        fail: ``(k, errno)``: operation ``k`` fails with that ``OSError`` (see the module docstring).
        note: called at each operation; its values are kept in ``ops.notes`` (say, the step it ran at).
    """

    def __init__(self, root: str | Path, *, kill: tuple[int, str] | None = None,
                 fail: tuple[int, int] | None = None, note: Callable[[], Any] | None = None) -> None:
        self.root = os.path.abspath(root)
        self.kill, self.fail, self.note = kill, fail, note
        self.ops: list[Op] = []
        self.notes: list[Any] = []
        self.dead = False
        self._mp = pytest.MonkeyPatch()

    # ------------------------------------------------------------------------------ recording
    def _target(self, path: Any) -> str | None:
        if isinstance(path, int) or not isinstance(path, (str, os.PathLike)):
            return None
        full = os.path.abspath(os.fspath(path))
        if not full.startswith(self.root + os.sep):
            return None
        return target_name(os.path.relpath(full, self.root))

    def _enter(self, name: str, target: str) -> int:
        """Record one operation; raise the kill or the failure due before it. Returns its index."""
        if self.dead:
            raise Killed(f"(already killed) {name} {target}")
        index = len(self.ops)
        self.ops.append(Op(name, target))
        if self.note is not None:
            self.notes.append(self.note())
        if self.kill == (index, "before"):
            self.dead = True
            raise Killed(f"before operation {index}: {name} {target}")
        return index

    def _failing(self, index: int) -> int | None:
        return self.fail[1] if self.fail is not None and self.fail[0] == index else None

    def _leave(self, index: int) -> None:
        if self.kill == (index, "after"):
            self.dead = True
            raise Killed(f"after operation {index}: {self.ops[index]}")

    def _error(self, code: int, path: Any) -> OSError:
        return OSError(code, os.strerror(code), os.fspath(path))

    def _wrap_path(self, name: str, real: Callable, arg: int = 0, skip: Callable[[str], bool] | None = None):
        def op(*args: Any, **kwargs: Any) -> Any:
            path = args[arg] if len(args) > arg else kwargs.get("dst" if arg else "path")
            target = self._target(path)
            if target is None or (skip is not None and skip(os.fspath(path))):
                return real(*args, **kwargs)
            index = self._enter(name, target)
            code = self._failing(index)
            if code is not None:
                raise self._error(code, path)
            out = real(*args, **kwargs)
            self._leave(index)
            return out

        return op

    def _wrap_fsync(self, real: Callable):
        def fsync(fd: Any) -> None:
            number = fd if isinstance(fd, int) else fd.fileno()
            try:
                path = os.readlink(f"/proc/self/fd/{number}")
            except OSError:
                return real(fd)
            target = self._target(path)
            if target is None:
                return real(fd)
            index = self._enter("fsync", target)
            code = self._failing(index)
            if code is not None:
                raise self._error(code, path)
            real(fd)
            self._leave(index)

        return fsync

    def _wrap_os_open(self, real: Callable):
        def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            target = self._target(path) if flags & os.O_CREAT else None
            if target is None:
                return real(path, flags, *args, **kwargs)
            index = self._enter("create", target)
            code = self._failing(index)
            if code is not None:
                raise self._error(code, path)
            fd = real(path, flags, *args, **kwargs)
            self._leave(index)
            return fd

        return os_open

    def _wrap_open(self, real: Callable):
        def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            target = self._target(file) if isinstance(mode, str) and set(mode) & set("wax+") else None
            if target is None:
                return real(file, mode, *args, **kwargs)
            kind = "a" if "a" in mode else "x" if "x" in mode else "w"
            index = self._enter(f"open-{kind}", target)
            fh = real(file, mode, *args, **kwargs)
            code = self._failing(index)
            if code is not None:
                return _Torn(fh, self._error(code, file))
            try:
                self._leave(index)
            except Killed:
                fh.close()
                raise
            return fh

        return open_

    def _wrap_store(self, name: str, real: Callable, path_of: Callable[..., Any]):
        def method(store: Any, *args: Any, **kwargs: Any) -> Any:
            target = self._target(path_of(store, *args, **kwargs))
            if target is None:
                return real(store, *args, **kwargs)
            index = self._enter(name, target)
            if self._failing(index) is not None and name != "store.open":
                db, store._db = store._db, _FullDisk(store._db)
                try:
                    return real(store, *args, **kwargs)
                finally:
                    store._db = db
            out = real(store, *args, **kwargs)
            self._leave(index)
            return out

        return method

    # -------------------------------------------------------------------------- the patches
    def __enter__(self) -> FileOps:
        mp = self._mp
        for name in ("replace", "rename"):
            mp.setattr(os, name, self._wrap_path(name, getattr(os, name), arg=1))
        for name in ("chmod", "unlink", "remove", "rmdir"):
            mp.setattr(os, name, self._wrap_path("unlink" if name == "remove" else name, getattr(os, name)))
        mp.setattr(os, "mkdir", self._wrap_path("mkdir", os.mkdir, skip=os.path.isdir))
        mp.setattr(os, "fsync", self._wrap_fsync(os.fsync))
        mp.setattr(os, "open", self._wrap_os_open(os.open))
        opener = self._wrap_open(_REAL["open"])
        mp.setattr(builtins, "open", opener)
        mp.setattr(io, "open", opener)
        mp.setattr(EmbeddingStore, "__init__", self._wrap_store("store.open", EmbeddingStore.__init__,
                                                                lambda store, path, readonly=False: None if readonly else path))
        for name in ("register_encoder", "put_many"):
            label = "store.register" if name == "register_encoder" else f"store.{name}"
            mp.setattr(EmbeddingStore, name, self._wrap_store(label, getattr(EmbeddingStore, name),
                                                             lambda store, *a, **kw: store.path))
        return self

    def __exit__(self, *exc: object) -> None:
        self._mp.undo()

    def targets(self) -> list[str]:
        return list(dict.fromkeys(op.target for op in self.ops))


def kill_points(ops: list[Op], rule: str = "every") -> list[tuple[int, str]]:
    """Where to kill a run whose operations were ``ops``, as ``(k, "before" | "after")``.

    ``every``: before each operation, and after the last one. ``stages`` (for a run folder; a kill
    at every operation of a save of the training state is tests/core/test_train_state.py's): before
    the first operation in ``train/`` (config.json and every data file written, say split.csv),
    before the last save of the training state (the rerun resumes mid-training, from the save
    before it), before the first operation on each top-level file or folder the run writes after
    training (``checkpoint/``, each result file, ``report.html``, ``result.json``: the folder as
    each stage left it), and after the run's last operation.
    """
    if rule == "every":
        points = list(range(len(ops)))
    elif rule == "stages":
        first: dict[str, int] = {}
        for i, op in enumerate(ops):
            first.setdefault(op.target.split("/")[0], i)
        final_save = max(i for i, op in enumerate(ops) if str(op).startswith("replace train/") and op.target.endswith("state.eqx"))
        points = sorted({final_save} | {i for top, i in first.items()
                                        if top == "train" or i > first["train"]})
    else:
        raise ValueError(f"unknown rule {rule!r}")
    return [(k, "before") for k in points] + [(len(ops) - 1, "after")]


def check_kills(base: Path, straight: Path, ops: list[Op], points: list[tuple[int, str]],
                run: Callable[[Path], Any], *, temporaries: bool = False) -> None:
    """For each kill point: run in a new folder under ``base``, killed there; run again to the end;
    the folder must equal the uninterrupted run's (``straight``, whose operations were ``ops``)."""
    for k, when in points:
        folder, where = base / f"{when}-{k}", f"killed {when} operation {k} ({ops[k]})"
        with FileOps(folder, kill=(k, when)) as killed, pytest.raises(Killed):
            run(folder)
        assert killed.ops == ops[: k + 1], f"{where}: the run's operations differ from the uninterrupted run's"
        run(folder)
        assert_same_run(straight, folder, where, temporaries=temporaries)


def check_failure(base: Path, straight: Path, ops: list[Op], k: int, code: int, run: Callable[[Path], Any], *,
                  names: str | None = None) -> str:
    """Operation ``k`` fails with ``OSError(code)``: the run stops with a BiolensError naming the file
    (``names``: this one, relative to the run folder, e.g. the folder written whole), and a rerun in
    the same folder finishes as the uninterrupted run. Returns the message."""
    from biolens.core.errors import BiolensError

    folder = base / f"failed-{k}"
    with FileOps(folder, fail=(k, code)), pytest.raises(BiolensError) as err:
        run(folder)
    assert f"{folder / (names or ops[k].target)}:" in str(err.value), f"{ops[k]}: {err.value}"
    run(folder)
    assert_same_run(straight, folder, f"rerun after {os.strerror(code)} at operation {k} ({ops[k]})")
    return str(err.value)


def fail_point(ops: list[Op], name: str, target: str | None = None, *, after: int = -1) -> int:
    """The index of the first operation called ``name`` (on a file ending in ``target``) after
    operation ``after``."""
    return next(i for i, op in enumerate(ops)
                if i > after and op.name == name and (target is None or op.target.endswith(target)))


_PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEANl9ngAAAAABJRU5ErkJggg==")


@contextmanager
def undrawn_figures() -> Iterator[None]:
    """Inside, matplotlib saves every figure as the same 1-pixel PNG (to a file object, or to a file
    name through ``open``, as ``savefig`` does) instead of drawing it: the fault tests check the
    run's files, not its pictures, and drawing them is most of a tiny run's time."""
    from matplotlib.figure import Figure

    def savefig(self: Figure, fname: Any, **kwargs: Any) -> None:
        if hasattr(fname, "write"):
            fname.write(_PIXEL)
        else:
            with open(fname, "wb") as fh:
                fh.write(_PIXEL)

    mp = pytest.MonkeyPatch()
    mp.setattr(Figure, "savefig", savefig)
    try:
        yield
    finally:
        mp.undo()


# ------------------------------------------------------------------------------ comparing runs
_TIMING = re.compile(r"seconds|(^|_)s$|rss|^resumed_from$")  # how the run went, not what it found
_SKIP = re.compile(r"(^|/)\.lock$|\.html$|-wal$|-shm$|-journal$")


def comparable(obj: Any, root: str | Path) -> Any:
    """``obj`` (JSON-ready) without the fields of how the run went (wall-clock ``seconds``, ``*_s``,
    ``peak_rss_mb``; ``resumed_from``), with the run's folder ``root`` written as ``ROOT``."""
    root = os.path.abspath(root)
    if isinstance(obj, dict):
        return {k: comparable(v, root) for k, v in obj.items() if not _TIMING.search(str(k))}
    if isinstance(obj, list):
        return [comparable(v, root) for v in obj]
    if isinstance(obj, str):
        return obj.replace(root, "ROOT")
    return obj


def _store_rows(path: Path) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT encoder, seq_hash, pooling, dtype, shape, data, checksum FROM embeddings "
                          "ORDER BY encoder, seq_hash, pooling").fetchall()
        encoders = db.execute("SELECT fingerprint, description FROM encoders ORDER BY fingerprint").fetchall()
    return rows + encoders


def _state(path: Path, root: Path) -> tuple[Any, bytes]:
    from biolens.core.train import STATE_MAGIC

    data = path.read_bytes()
    start = len(STATE_MAGIC) + 8  # the magic, the header's length, the header, the arrays
    size = int.from_bytes(data[len(STATE_MAGIC):start], "little")
    return comparable(json.loads(data[start:start + size]), root), data[start + size:]


def _content(path: Path, root: Path) -> Any:
    """What must be equal between two runs' copies of one file."""
    if path.suffix == ".json":
        return comparable(json.loads(path.read_text()), root)
    if path.suffix == ".jsonl":
        return [comparable(json.loads(line), root) for line in path.read_text().splitlines()]
    if path.suffix == ".npz":  # zip members carry their write time: compare the arrays
        with np.load(path, allow_pickle=False) as f:
            return {k: (f[k].dtype.str, f[k].shape, f[k].tobytes()) for k in f.files}
    if path.suffix == ".sqlite":
        return _store_rows(path)
    if path.name == "state.eqx":  # its header holds the log's last metrics (wall-clock fields too)
        return _state(path, root)
    return path.read_bytes()


def run_files(root: Path) -> list[str]:
    """Every file under ``root`` that two runs must share (not the lock, the report pages, SQLite's
    side files), relative to it."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not _SKIP.search(p.relative_to(root).as_posix()) and not _TEMPORARY.match(p.name))


def assert_same_run(want: Path, got: Path, where: str, *, temporaries: bool = False) -> None:
    """``got`` holds the same files as ``want`` with the same content (up to wall-clock fields)
    and a report page where ``want`` has one; no temporary of an atomic write is left in it
    (``temporaries``: they may be, as where no lock says that no other process is writing)."""
    assert temporaries or not leftovers(got), f"{where}: temporaries left: {leftovers(got)}"
    names = run_files(want)
    assert run_files(got) == names, f"{where}: other files: {sorted(set(run_files(got)) ^ set(names))}"
    for name in names:
        assert _content(got / name, got) == _content(want / name, want), f"{where}: {name} differs"
    reports = sorted(p.relative_to(want) for p in want.rglob("*.html"))
    assert sorted(p.relative_to(got) for p in got.rglob("*.html")) == reports, f"{where}: report pages differ"


def leftovers(root: Path) -> list[str]:
    """Temporaries of atomic writes left in ``root`` (what a kill -9 leaves behind)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if _TEMPORARY.match(p.name))


DISK_FULL = errnos.ENOSPC
IO_ERROR = errnos.EIO


def module_fixtures(train: Callable[[Path], Any], name: str) -> tuple[Any, Any]:
    """The two module-scoped fixtures of a train command's fault tests: figures undrawn for the
    module (autouse), and ``straight``: ``(base folder, the uninterrupted run's operations)``."""

    @pytest.fixture(scope="module", autouse=True)
    def undrawn() -> Iterator[None]:
        with undrawn_figures():
            yield

    @pytest.fixture(scope="module")
    def straight(tmp_path_factory: Any) -> tuple[Path, list[Op]]:
        base = tmp_path_factory.mktemp(name)
        with FileOps(base / "straight") as ops:
            train(base / "straight")
        return base, ops.ops

    return undrawn, straight


def check_state_save_failure(straight: tuple[Path, list[Op]], train: Callable[[Path], Any]) -> None:
    """A full disk at the first save of the training state is a named error, and the rerun finishes."""
    base, ops = straight
    message = check_failure(base, base / "straight", ops, fail_point(ops, "fsync", "train/state.eqx"), DISK_FULL, train)
    assert "no space left on the device" in message
