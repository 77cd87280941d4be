"""Joining a Ray cluster, and what every worker sets up before its first batch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.extras import require

__all__ = ["COMPILE_CACHE_ENV", "connect", "enable_compile_cache"]

#: A folder for JAX's persistent compilation cache, shared by the workers (a shared disk on a cluster).
COMPILE_CACHE_ENV = "BIOLENS_COMPILE_CACHE"


def ray_module() -> Any:
    return require("ray", extra="ray", purpose="The Ray backend (--backend ray)")


def connect(address: str | None = None) -> bool:
    """Join the cluster at ``address`` (``auto``, ``HOST:PORT``), or start one on this machine.

    Returns True when this call started Ray (the caller then shuts it down). A cluster already
    joined in this process (``ray.init`` by the caller) is used as it is. A cluster started
    here runs its workers on the same ``biolens`` package as this process.
    """
    ray = ray_module()
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(include_dashboard=False, log_to_driver=False, runtime_env=local_runtime_env())
    return True


def local_runtime_env(*extra_paths: str | Path) -> dict[str, Any]:
    """A runtime env whose workers import this process's ``biolens`` (and ``extra_paths``)."""
    source = Path(__file__).resolve().parents[2]  # the folder that holds this process's biolens package
    paths = [str(p) for p in extra_paths] + [str(source)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}


def enable_compile_cache(path: str | Path | None) -> Path | None:
    """Point JAX's persistent compilation cache at ``path`` (default ``$BIOLENS_COMPILE_CACHE``),
    so a worker started later reuses the programs an earlier one compiled. None: leave it off."""
    path = path or os.environ.get(COMPILE_CACHE_ENV)
    if not path:
        return None
    import jax

    Path(path).mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return Path(path)
