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


@store_group.command("verify")
@click.option("--cache", type=PathType, default=None, help="Embedding store (default: $BIOLENS_CACHE or ~/.cache/biolens).")
@click.option("--repair", is_flag=True, help="Delete the bad rows (the next run recomputes them).")
def verify_command(cache: Path | None, repair: bool) -> int:
    """Check every stored embedding (dtype, length, checksum, width); exit 1 if any is bad."""
    from ..core.store import EmbeddingStore, default_store_path

    path = cache or default_store_path()
    if not path.is_file():
        from ..core.errors import InputError

        raise InputError("embedding store not found", source=str(path))
    with EmbeddingStore(path) as store:
        total, bad = store.count(), store.verify(repair=repair)
    for encoder, pooling, seq_hash, problem in bad:
        err_console.print(f"bad row: encoder {encoder[:16]}, {pooling}, sequence {seq_hash[:16]}: {problem}", markup=False)
    done = f"; deleted {len(bad)} (recomputed on the next run)" if repair and bad else ""
    err_console.print(f"{path}: {total} rows, {len(bad)} bad{done}", markup=False)
    return 1 if bad and not repair else 0


def register(group: click.Group) -> None:
    group.add_command(store_group)
