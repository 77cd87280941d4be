"""A persistent JAX compilation cache, so the second run of any command starts warm.

Compiled XLA executables are written to a folder and read back by later processes that
compile the same function with the same shapes. The folder is ``$BIOLENS_JIT_CACHE`` or
``$XDG_CACHE_HOME/biolens/jax`` (``~/.cache`` by default); ``BIOLENS_JIT_CACHE=off``
turns it off. The CLI calls :func:`configure_jit_cache` once at start
(``biolens --jit-cache DIR ...`` / ``biolens --no-jit-cache ...``).

The cache is trusted code: keep it in a folder only you can write to.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

__all__ = ["configure_jit_cache", "default_jit_cache_dir"]

_OFF = {"", "0", "off", "false", "no", "none"}


def default_jit_cache_dir() -> Path | None:
    """``$BIOLENS_JIT_CACHE`` (``None`` when set to ``off``) or the user cache folder."""
    value = os.environ.get("BIOLENS_JIT_CACHE")
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "biolens" / "jax"


def configure_jit_cache(directory: str | Path | None = None, *, enabled: bool = True) -> Path | None:
    """Point JAX's persistent compilation cache at ``directory`` (default:
    :func:`default_jit_cache_dir`); ``enabled=False`` turns it off. Returns the folder in
    use, or ``None`` when off. Every compilation is cached (no minimum time or size).

    Before JAX is imported this only sets the ``JAX_*`` environment variables JAX reads
    at import (so commands that never use JAX do not pay for importing it); afterwards it
    updates ``jax.config``. Safe to call again with another folder in the same process."""
    path = Path(directory).expanduser() if directory is not None else default_jit_cache_dir()
    if enabled and path is not None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            warnings.warn(f"JIT cache off: cannot create {path}: {exc.strerror}", stacklevel=2)
            path = None
    if not enabled or path is None:
        _apply({"jax_enable_compilation_cache": False, "jax_compilation_cache_dir": None})
        return None
    _apply({
        "jax_enable_compilation_cache": True,
        "jax_compilation_cache_dir": str(path),
        "jax_persistent_cache_min_compile_time_secs": 0.0,
        "jax_persistent_cache_min_entry_size_bytes": -1,
    })
    return path


def _apply(settings: dict[str, object]) -> None:
    if "jax" not in sys.modules:
        for name, value in settings.items():
            if value is None:
                os.environ.pop(name.upper(), None)
            else:
                os.environ[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
        return
    import jax
    from jax._src import compilation_cache

    if jax.config.jax_compilation_cache_dir != settings["jax_compilation_cache_dir"]:
        compilation_cache.reset_cache()  # the cache object remembers its folder
    for name, value in settings.items():
        jax.config.update(name, value)
