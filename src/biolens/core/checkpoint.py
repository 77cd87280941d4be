"""Checkpoints: weights (Equinox leaf serialisation, no pickle) + JSON metadata, written atomically.

A checkpoint is a folder::

    model.eqx   the model's array leaves (``eqx.tree_serialise_leaves``)
    meta.json   everything needed to rebuild and use it: the model config, label names,
                the encoder fingerprint, the task, the biolens version
    NAME.npy    optional arrays saved with the model (``arrays=``), e.g. node representations

To load, the caller rebuilds a skeleton of the model from ``meta.json`` (same structure,
any values) and the leaves are read into it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import numpy as np

from .._version import __version__
from .errors import CheckpointMismatchError, InputError
from .files import os_cause, os_words, read_json

__all__ = ["check_encoder", "load_array", "load_checkpoint", "read_meta", "save_checkpoint"]

MODEL_FILE = "model.eqx"
META_FILE = "meta.json"


def save_checkpoint(path: str | Path, model: Any, meta: dict[str, Any], *,
                    arrays: dict[str, np.ndarray] | None = None) -> Path:
    """Write ``model``, ``meta`` and ``arrays`` (``NAME.npy`` each) to the folder ``path``, replacing it atomically."""

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as exc:
        raise InputError(f"cannot write the checkpoint ({os_words(exc)})", source=str(path)) from exc
    try:
        eqx.tree_serialise_leaves(tmp / MODEL_FILE, model)
        for name, value in (arrays or {}).items():
            np.save(tmp / f"{name}.npy", np.asarray(value), allow_pickle=False)
        payload = {"biolens_version": __version__, **meta}
        (tmp / META_FILE).write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        cause = os_cause(exc) if isinstance(exc, Exception) else None
        if cause is not None:  # a full disk, say (equinox wraps it in a TreePathError)
            raise InputError(f"cannot write the checkpoint ({os_words(cause)})", source=str(path)) from exc
        raise
    return path


def read_meta(path: str | Path) -> dict[str, Any]:
    """The metadata of a checkpoint folder (clear errors for a missing or broken one)."""
    path = Path(path)
    meta_file = path / META_FILE
    if not meta_file.exists():
        raise InputError(f"not a biolens checkpoint (no {META_FILE})", source=str(path))
    return read_json(meta_file, mapping=True)


def load_checkpoint(path: str | Path, skeleton: Callable[[dict[str, Any]], Any]) -> tuple[Any, dict[str, Any]]:
    """Load a checkpoint: ``skeleton(meta)`` builds a model of the right structure, whose leaves
    are then replaced by the saved ones. Returns ``(model, meta)``."""
    path = Path(path)
    meta = read_meta(path)
    like = skeleton(meta)
    try:
        model = eqx.tree_deserialise_leaves(path / MODEL_FILE, like)
    except (OSError, ValueError, RuntimeError) as exc:
        raise InputError(f"cannot read the weights in {MODEL_FILE}: {exc}", source=str(path)) from None
    return model, meta


def load_array(path: str | Path, name: str) -> np.ndarray:
    """An array saved with a checkpoint (``save_checkpoint(..., arrays={name: ...})``)."""
    file = Path(path) / f"{name}.npy"
    try:
        return np.load(file, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {file.name}: {exc}", source=str(path)) from None


def check_encoder(meta: dict[str, Any], encoder_name: str, fingerprint: str, *, source: str | None = None) -> None:
    """Refuse to use a checkpoint with an encoder other than the one it was trained on."""
    want_name, want_fp = meta.get("encoder"), meta.get("encoder_fingerprint")
    if want_fp is None or want_fp == fingerprint:
        return
    if want_name != encoder_name:
        why = f"it was trained on {want_name!r} embeddings, not {encoder_name!r}"
    else:
        why = (f"the encoder {encoder_name!r} here differs from the one it was trained with "
               "(other weights, layer or settings)")
    raise CheckpointMismatchError(
        f"{source or 'checkpoint'}: refusing to predict: {why} "
        f"(fingerprint {fingerprint} here, {want_fp} in the checkpoint). Use the same encoder "
        "and weights, or retrain."
    )
