"""Frozen, keyword-only dataclass configs, saved as JSON beside every run and checkpoint."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from .errors import InputError
from .files import atomic_write_text, read_json

__all__ = ["config_defaults", "config_from_dict", "config_to_dict", "load_config", "save_config"]

T = TypeVar("T")


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (possibly nested) dataclass config; tuples become lists."""
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"expected a dataclass instance, got {type(config).__name__}")
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))


def config_defaults(config: Any) -> dict[str, Any]:
    """The defaults of a (possibly nested) dataclass config, shaped like :func:`config_to_dict`:
    every field that has a default, and inside every nested config the defaults of its own fields.
    A run folder compares a saved run's settings against these, so a setting added by a later
    version, left at its default, does not make a finished run another run."""
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"expected a dataclass instance, got {type(config).__name__}")
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out[f.name] = config_defaults(value)
        elif f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return json.loads(json.dumps(out, default=_jsonable))


def _jsonable(value: Any) -> Any:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else str(value)


def _coerce(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return config_from_dict(tp, value)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None) and value is None:
                return None
            if dataclasses.is_dataclass(arg) and isinstance(value, dict):
                return config_from_dict(arg, value)
        return _coerce_tuples(value)
    if origin is tuple or tp is tuple:
        return tuple(_coerce_tuples(value))
    return value


def _coerce_tuples(value: Any) -> Any:
    return tuple(_coerce_tuples(v) for v in value) if isinstance(value, list) else value


def config_from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build ``cls`` from a dict, refusing unknown keys (a typo must not pass silently)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InputError(f"unknown {cls.__name__} setting(s) {unknown}; known: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {k: _coerce(hints.get(k, Any), v) for k, v in data.items()}
    return cls(**kwargs)


def save_config(config: Any, path: str | Path, **extra: Any) -> None:
    """Write ``{"type": ClassName, **fields, **extra}`` as JSON, atomically."""
    payload = {"type": type(config).__name__, **config_to_dict(config), **extra}
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def load_config(cls: type[T], path: str | Path, *, ignore: tuple[str, ...] = ()) -> T:
    """Read a JSON config written by :func:`save_config` (``type`` and ``ignore`` keys dropped)."""
    data = read_json(path, mapping=True)
    data.pop("type", None)
    for key in ignore:
        data.pop(key, None)
    return config_from_dict(cls, data)
