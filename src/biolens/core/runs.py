"""One run folder for every training pipeline: :class:`RunFolder`.

Layout (every domain)::

    RUN/config.json    what the run is: its kind, settings and data identity (content digest)
    RUN/train/         the training loop's log (metrics.jsonl) and resumable state (core.train)
    RUN/checkpoint/    the trained model (core.checkpoint: model.eqx + meta.json)
    RUN/result.json    the run's result (a frozen :class:`RunResult`), written atomically, last
    RUN/report.html    the run's report
    RUN/split_hashes.npz  per split, the sorted 64-bit prefixes of its sequences' hashes (the embedding
                       store's :func:`~biolens.core.store.sequence_hash`): what ``evaluate`` checks new
                       data against (:meth:`RunFolder.overlap`)
    RUN/.lock          held (``flock``) by the one process working in the folder; who takes it first
                       deletes the temporaries of atomic writes a killed run left (``.NAME.XXXXXXXX.tmp``)

:meth:`RunFolder.open` is the one start-up check: it takes the folder's lock (a second process
stops at once with :class:`~biolens.core.errors.RunLockedError`), then either records a new
run or compares the saved identity with this one and refuses with one
:class:`~biolens.core.errors.RunMismatchError` naming every field that differs (``old → new``).
The identity is the settings plus a content digest of the data (:func:`content_digest`): a
file edited in place is another run, a file moved elsewhere is the same one.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

from .config import config_from_dict
from .errors import InputError, RunLockedError, RunMismatchError
from .files import atomic_write, atomic_write_text, os_words, read_json, remove_temporaries

__all__ = ["IN_MEMORY", "RunFolder", "RunResult", "content_digest", "identity_diff", "sequence_keys"]

CONFIG = "config.json"
TRAIN = "train"
CHECKPOINT = "checkpoint"
RESULT = "result.json"
REPORT = "report.html"
LOCK = ".lock"
SPLIT_HASHES = "split_hashes.npz"

R = TypeVar("R", bound="RunResult")


def _feed(h: Any, obj: Any) -> None:
    """Hash ``obj`` unambiguously: every value is tagged with its type (and arrays with dtype and shape)."""
    if isinstance(obj, np.ndarray) or (hasattr(obj, "__array__") and not isinstance(obj, (str, bytes))):
        arr = np.ascontiguousarray(np.asarray(obj))
        if arr.dtype == object:
            _feed(h, arr.tolist())
            return
        h.update(f"a{arr.dtype.str}{arr.shape}:".encode())
        h.update(arr.tobytes())
    elif isinstance(obj, str):
        data = obj.encode("utf-8")
        h.update(f"s{len(data)}:".encode())
        h.update(data)
    elif isinstance(obj, bytes):
        h.update(f"b{len(obj)}:".encode())
        h.update(obj)
    elif isinstance(obj, Mapping):
        h.update(f"d{len(obj)}:".encode())
        for key in sorted(obj, key=str):
            _feed(h, str(key))
            _feed(h, obj[key])
    elif isinstance(obj, (list, tuple)):
        h.update(f"l{len(obj)}:".encode())
        for item in obj:
            _feed(h, item)
    elif obj is None or isinstance(obj, (bool, int, float, np.generic)):
        h.update(f"v{obj!r}:".encode())
    else:
        raise TypeError(f"content_digest cannot hash a {type(obj).__name__}")


def content_digest(*parts: Any) -> str:
    """SHA-256 of the content of ``parts`` (strings, numbers, numpy arrays, lists, dicts).

    Use it for a run's data identity: the records (ids, sequences, labels, masks...) the run
    trains on, not where they came from.
    """
    h = hashlib.sha256()
    _feed(h, list(parts))
    return h.hexdigest()


def sequence_keys(sequences: Any) -> np.ndarray:
    """Sorted unique ``uint64`` keys of ``sequences``: the first 8 bytes of each one's
    :func:`~biolens.core.store.sequence_hash` (a chance collision among 10⁶ sequences is ~10⁻⁸)."""
    return np.unique(_keys(sequences))


def _keys(sequences: Any) -> np.ndarray:
    from .store import sequence_hash

    return np.array([int(sequence_hash(s.upper())[:16], 16) for s in sequences], dtype=np.uint64)


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict) and obj:
        out: dict[str, Any] = {}
        for key, value in obj.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: obj}


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def identity_diff(old: dict[str, Any], new: dict[str, Any], defaults: dict[str, Any] | None = None) -> list[str]:
    """``["field: old → new", ...]`` for every (dotted) field where two identities differ.

    ``defaults`` (shaped like the identities) holds the current defaults of settings: a field the
    old identity lacks (a setting added by a later biolens) counts as unchanged when the new value
    is its default, so upgrading biolens does not orphan finished runs. A field the new identity
    lacks, or a new field with another value, is a difference."""
    a, b = _flatten(json.loads(json.dumps(old, default=str))), _flatten(json.loads(json.dumps(new, default=str)))
    d = _flatten(json.loads(json.dumps(defaults or {}, default=str)))
    missing = object()
    lines = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, missing), b.get(key, missing)
        if va is missing and key in d and d[key] == vb:
            continue
        if va != vb:
            lines.append(f"{key}: {'(absent)' if va is missing else _short(va)} → {'(absent)' if vb is missing else _short(vb)}")
    return lines


class RunFolder:
    """A run folder (see the module docstring). Use as a context manager around the whole run::

        with RunFolder(out).open(kind="protein-task", settings=..., data={"digest": ..., "records": n}) as run:
            fit(..., run_dir=run.train_dir)
            save_checkpoint(run.checkpoint_dir, model, meta)
            write_report(run.report_path, ...)
            run.write_result(result)
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock: IO[str] | None = None

    # ---------------------------------------------------------------------------- the layout
    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def train_dir(self) -> Path:
        return self.path / TRAIN

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT

    @property
    def result_path(self) -> Path:
        return self.path / RESULT

    @property
    def report_path(self) -> Path:
        return self.path / REPORT

    # ------------------------------------------------------------------------ start-up check
    def open(self, *, kind: str, settings: dict[str, Any], data: dict[str, Any],
             info: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None) -> RunFolder:
        """Lock the folder and check (or record) the run's identity; returns ``self``.

        Args:
            kind: the pipeline (``protein-task``, ``mlm-pretrain``, ``graph-link``...).
            settings: every setting that changes the result (JSON-ready).
            data: the data identity, e.g. ``{"digest": content_digest(...), "records": n}``.
            info: saved in ``config.json`` but not compared (the data's path, notes).
            defaults: the settings' current defaults, shaped like ``settings``: a setting the saved
                run lacks is not a difference when it has its default (see :func:`identity_diff`).

        Raises:
            RunLockedError: another process holds the folder.
            RunMismatchError: the folder holds another run (every differing field is named).
        """
        self.lock()
        try:
            identity = {"kind": kind, "settings": settings, "data": data}
            saved = self.identity()
            if saved is None:
                atomic_write_text(self.config_path, json.dumps({**identity, "info": info or {}}, indent=2,
                                                               default=str) + "\n")
            else:
                diff = identity_diff(saved, identity, {"settings": defaults or {}})
                if diff:
                    raise RunMismatchError(
                        f"{self.path} holds another run ({len(diff)} field(s) differ, saved → now): "
                        + "; ".join(diff) + ". Use a new --out folder, or the same settings and data to resume it")
        except BaseException:
            self.close()
            raise
        return self

    def identity(self) -> dict[str, Any] | None:
        """The saved identity (``kind``, ``settings``, ``data``), or ``None`` for a new folder.

        Raises:
            RunMismatchError: ``config.json`` exists but was not written by a :class:`RunFolder`.
        """
        if not self.config_path.exists():
            return None
        saved = read_json(self.config_path)
        if not isinstance(saved, dict) or not {"kind", "settings", "data"} <= set(saved):
            raise RunMismatchError(
                f"{self.path} holds a run written by an older biolens (its {CONFIG} has no data digest), which "
                "cannot be resumed or checked; its results stay readable. Use a new --out folder")
        return {k: saved[k] for k in ("kind", "settings", "data")}

    def amend(self, settings: dict[str, Any]) -> None:
        """Record new ``settings`` for the run in this folder (its lock held) and drop its result, so
        it reads as unfinished until the new result is written: for a finished run continued past
        its end (``biolens pretrain --steps`` more). The data identity and ``info`` stay."""
        if self._lock is None:
            raise RuntimeError("RunFolder.amend needs the folder's lock (call lock() or open() first)")
        saved = self.config()
        atomic_write_text(self.config_path, json.dumps({**saved, "settings": settings}, indent=2, default=str) + "\n")
        self.result_path.unlink(missing_ok=True)

    def config(self) -> dict[str, Any]:
        """The whole saved ``config.json`` (identity and info)."""
        return read_json(self.config_path, mapping=True)

    # ----------------------------------------------------------------------------- the lock
    def lock(self) -> None:
        """Take the folder's exclusive lock (non-blocking); held until :meth:`close`. Then delete the
        temporaries a killed run left in the folder (:func:`~biolens.core.files.remove_temporaries`:
        with the lock held, no other process is writing them)."""
        if self._lock is not None:
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fh = (self.path / LOCK).open("a+")
        except OSError as exc:  # a read-only place, a full disk
            raise InputError(f"cannot take the run folder's lock ({os_words(exc)})", source=str(self.path / LOCK)) from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            raise RunLockedError(
                f"{self.path} is in use by another biolens process{f' (pid {holder})' if holder else ''}: wait for "
                "it to finish, or use another --out folder") from None
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
        except OSError as exc:
            fh.close()
            raise InputError(f"cannot take the run folder's lock ({os_words(exc)})", source=str(self.path / LOCK)) from None
        self._lock = fh
        remove_temporaries(self.path)

    def close(self) -> None:
        """Release the lock (the lock file stays: removing it would race with a waiting process)."""
        if self._lock is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def __enter__(self) -> RunFolder:
        if self._lock is None:
            self.lock()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the splits' sequences
    @property
    def split_hashes_path(self) -> Path:
        return self.path / SPLIT_HASHES

    def write_split_hashes(self, splits: Mapping[str, Any]) -> None:
        """Save ``{split name: its sequences}`` as :func:`sequence_keys` (no sequence is stored)."""
        arrays = {name: sequence_keys(seqs) for name, seqs in splits.items()}
        atomic_write(self.split_hashes_path, lambda fh: np.savez_compressed(fh, **arrays))

    def overlap(self, sequences: Any, splits: tuple[str, ...] = ("train", "valid")) -> dict[str, Any] | None:
        """How many of ``sequences`` the run saw in each of ``splits``: ``{"train": n, "valid": n, "of": N,
        "seen": [bool per sequence]}``; ``None`` when the folder has no saved hashes (an older run)."""
        if not self.split_hashes_path.exists():
            return None
        from .npzfile import read_npz

        saved = read_npz(self.split_hashes_path)
        keys = _keys(sequences)
        out: dict[str, Any] = {"of": len(keys)}
        seen = np.zeros(len(keys), bool)
        for name in splits:
            hit = np.isin(keys, saved[name]) if name in saved else np.zeros(len(keys), bool)
            out[name] = int(hit.sum())
            seen |= hit
        out["seen"] = seen.tolist()
        return out

    # ---------------------------------------------------------------------------- the result
    @property
    def finished(self) -> bool:
        return self.result_path.exists()

    def write_result(self, result: RunResult) -> None:
        """Write ``result.json`` atomically (a reader sees no result or the whole one)."""
        atomic_write_text(self.result_path, json.dumps(result.to_json(), indent=2, default=float) + "\n")

    def read_result(self, cls: type[R]) -> R | None:
        """The saved result as ``cls``, or ``None`` when the run has not finished."""
        return cls.from_json(read_json(self.result_path)) if self.finished else None


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists; anything else as its string."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunResult:
    """Base of every domain's frozen result: ``to_json`` / ``from_json`` through the dataclass fields
    (tuples come back as tuples, nested dataclasses as dataclasses, unknown keys are refused).

    A field declared ``field(default=None, metadata=IN_MEMORY)`` (e.g. the trained model) is handed
    to the caller but not written; ``from_json`` leaves it at its default.
    """

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.metadata.get("in_memory")}
        return json.loads(json.dumps(data, default=_plain))

    @classmethod
    def from_json(cls: type[R], data: dict[str, Any]) -> R:
        return config_from_dict(cls, data)


#: ``metadata=`` of a :class:`RunResult` field that is not saved in ``result.json``.
IN_MEMORY = {"in_memory": True}

