"""Benchmark cells (encoder x task x seed) as Ray tasks: each runs where it finds a CPU slot
or ``num_gpus`` of a GPU, writes its own run folder, and reads its embeddings from the store.

The run folders make it resumable: a cell whose folder is finished is read back by
:func:`biolens.proteins.supervised.run_task`, never recomputed, so a killed driver rerun with the same
``--out`` redoes only the cells that had not finished. A task lost with its worker is retried
by Ray (``max_retries``). The store and the folders must be on a disk every node sees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..core.store import EmbeddingStore, default_store_path
from ._cluster import connect, ray_module

__all__ = ["run_cells_ray", "store_location"]


def store_location(cache: Any) -> Path | None:
    """The file behind a ``cache=`` argument (workers open their own connection to it)."""
    if cache is None or cache is False:
        return None
    if isinstance(cache, EmbeddingStore):
        return cache.path
    return default_store_path() if cache is True else Path(cache)


def _cell_task(run_cell: Callable, cell: Any, data: Any, config: Any, store_path: Path | None) -> tuple:
    from ..proteins.embed import open_store
    from ..proteins.encoders import get_encoder

    encoder = get_encoder(cell.model.encoder, **config.options_for(cell.model.encoder))
    store = open_store(store_path)
    try:
        run_cell(cell, data, encoder, config, store, False)
    finally:
        if store is not None:
            store.close()
    return cell.result, cell.error, cell.seconds


def run_cells_ray(cells: Sequence[Any], data: dict[str, Any], config: Any, cache: Any, *, run_cell: Callable,
                  finished: Callable[[Any], None], address: str | None = None, num_gpus: float = 0.0,
                  retries: int = 3) -> None:
    """Run ``run_cell`` for every cell as a Ray task; ``finished(cell)`` is called as each ends."""
    ray = ray_module()
    started = connect(address)
    try:
        task = ray.remote(num_cpus=0 if num_gpus else 1, num_gpus=num_gpus or None, max_retries=retries)(_cell_task)
        where = store_location(cache)
        refs = {task.remote(run_cell, cell, data[cell.task.name], config, where): cell for cell in cells}
        waiting = list(refs)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            cell = refs[done[0]]
            cell.result, cell.error, cell.seconds = ray.get(done[0])
            finished(cell)
    finally:
        if started:
            ray.shutdown()
