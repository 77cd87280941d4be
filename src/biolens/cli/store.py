"""``biolens store``: the embedding store (SQLite) and the Ray backend's shards."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import err_console

PathType = click.Path(path_type=Path)


@click.group("store")
def store_group() -> None:
    """The embedding store."""


@store_group.command("import")
@click.argument("shards", type=PathType)
@click.option("--cache", type=PathType, default=None, help="Embedding store (default: $BIOLENS_CACHE or ~/.cache/biolens).")
def import_command(shards: Path, cache: Path | None) -> int:
    """Bring the Parquet shards under SHARDS (from `biolens embed --backend ray`) into the store."""
    from ..core.store import EmbeddingStore, default_store_path
    from ..distributed import import_shards

    with EmbeddingStore(cache or default_store_path()) as store:
        n_shards, rows = import_shards(shards, store)
    err_console.print(f"imported {rows} embeddings from {n_shards} shard(s) into {store.path}")
    return 0


def register(group: click.Group) -> None:
    group.add_command(store_group)
