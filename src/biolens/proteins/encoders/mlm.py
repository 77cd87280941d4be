"""``mlm:RUN``: a masked protein language model pretrained with ``biolens pretrain``.

A run folder holds the model in the Hugging Face ESM2 layout (``checkpoint/config.json`` +
``checkpoint/model.safetensors``; runs from before the run contract hold them at the top), so it loads through the ESM2 path (:class:`.esm2.ESM2Encoder`): the same
tokens, pooling, windows and batching. ``RUN`` is a folder, or the name of a model shipped
inside biolens (:data:`SHIPPED`: ``mlm:small``). Options: ``layer=`` (hidden-state index).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from ...core.errors import InputError, MissingWeightsError
from .base import Encoder

__all__ = ["SHIPPED", "availability", "build", "resolve_run"]

#: Models shipped inside the package: name -> folder under ``biolens/data/models``.
SHIPPED = {"small": "mlm-small"}


def _shipped(name: str) -> Path | None:
    if name not in SHIPPED:
        return None
    path = Path(str(resources.files("biolens.data") / "models" / SHIPPED[name]))
    return path if (path / "config.json").is_file() else None


def resolve_run(arg: str) -> tuple[Path, str]:
    """The folder of ``mlm:ARG`` and the encoder's name (a shipped name stays short; a folder
    becomes its absolute path, so the name does not depend on the working directory)."""
    folder = Path(arg).expanduser()
    if (folder / "checkpoint" / "config.json").is_file():  # a run folder (core.runs layout)
        return (folder / "checkpoint").resolve(), f"mlm:{folder.resolve()}"
    if (folder / "config.json").is_file() and (folder / "model.safetensors").is_file():  # the model folder itself
        return folder.resolve(), f"mlm:{folder.resolve()}"
    shipped = _shipped(arg)
    if shipped is not None and not folder.exists():
        return shipped, f"mlm:{arg}"
    why = f"{folder} is not a folder" if not folder.is_dir() else f"{folder} has no config.json"
    raise MissingWeightsError(f"mlm:{arg}: {why}. Give a run folder written by `biolens pretrain CORPUS --out RUN` "
                              f"(it holds checkpoint/config.json and checkpoint/model.safetensors), or a shipped model: "
                              f"{', '.join('mlm:' + n for n in SHIPPED)}")


def build(name: str, arg: str | None, **options: Any) -> Encoder:
    """Registry hook: ``mlm:RUN`` with option ``layer=``."""
    from .esm2 import ESM2Encoder, _layer

    unknown = sorted(set(options) - {"layer"})
    if unknown:
        raise InputError(f"encoder mlm:RUN takes the option layer, not {unknown}")
    if not arg:
        raise InputError("mlm needs a run folder: --encoder mlm:RUN")
    folder, full_name = resolve_run(arg)
    return ESM2Encoder.from_folder(folder, name=full_name, layer=_layer(options))


def availability(name: str) -> tuple[bool, str]:
    shipped = [f"mlm:{n}" for n in SHIPPED if _shipped(n) is not None]
    return True, "a run folder of `biolens pretrain`: mlm:RUN" + (f"; shipped: {', '.join(shipped)}" if shipped else "")
