"""``biolens.embed``: the top-level embedding call, in this process or on a Ray cluster.

It sits above both :mod:`biolens.proteins` (local) and :mod:`biolens.distributed` (Ray), so
neither imports the other's way of running.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .core.errors import InputError
from .proteins.embed import embed as embed_here

__all__ = ["embed"]


def embed(sequences: Sequence[str] | str, encoder: Any = "unirep-64", pooling: str = "mean", *,
          backend: str = "local", address: str | None = None, **options: Any) -> np.ndarray | list[np.ndarray]:
    """Embed protein sequences: ``(N, D)`` float32 pooled vectors, or ``(L_i, D)`` arrays with ``per_residue=True``.

    ``backend``: ``local`` (this process, :func:`biolens.proteins.embed.embed`, whose keywords
    ``options`` are) or ``ray`` (a Ray cluster at ``address``, default: one started here; its shards
    sit beside the store, see :func:`biolens.distributed.embed_ray`).
    """
    if backend == "local":
        if address is not None:
            raise InputError("address= is the Ray cluster's; pass backend='ray' with it")
        return embed_here(sequences, encoder, pooling, **options)
    if backend == "ray":
        from .distributed import embed_ray  # the Ray extra is imported only when asked for

        return embed_ray(sequences, encoder, pooling, address=address, **options)
    raise InputError(f"unknown backend {backend!r}; use 'local' or 'ray'")
