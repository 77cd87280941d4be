"""Optional dependencies, imported lazily with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtraError

__all__ = ["require"]


def require(module: str, *, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the pip extra.

    Args:
        module: the importable module name, e.g. ``"h5py"``.
        extra: the biolens extra that installs it, e.g. ``"h5"``.
        purpose: what the caller needs it for, used in the message.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(
            f"{purpose} needs the optional package {module!r}, which is not installed. "
            f"Install it with: pip install 'biolens[{extra}]'"
        ) from exc
