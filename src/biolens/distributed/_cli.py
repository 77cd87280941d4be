"""What ``biolens embed --backend ray`` and ``biolens store import`` do (the CLI stays thin)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..core.store import default_store_path
from ._embed import embed_file_ray

__all__ = ["embed_on_ray", "shard_dir_for"]


def shard_dir_for(cache: Path | None) -> Path:
    """The shard folder beside an embedding store: ``embeddings.sqlite`` -> ``embeddings.shards``."""
    return Path(cache or default_store_path()).with_suffix(".shards")


def embed_on_ray(source: Path, out: Path, encoder: str, *, cache: Path | None, no_cache: bool, layer: int | None,
                 weights: Path | None, address: str | None, quiet: bool, **options) -> int:
    from ..cli._common import err_console
    from ..core.export import export_embeddings

    with tempfile.TemporaryDirectory(prefix="biolens-shards-") as scratch:
        shards = Path(scratch) if no_cache else shard_dir_for(cache)
        result = embed_file_ray(source, encoder, shards=shards, address=address, layer=layer, weights=weights,
                                **options)
        arrays = result.arrays()
    export_embeddings(out, result.ids, arrays if options["per_residue"] else np.stack(arrays),
                      metadata=result.metadata)
    if not quiet:
        lines = result.report.lines() + ([f"duplicate ids dropped: {result.dropped}"] if result.dropped else [])
        for line in lines + result.lines() + ([] if no_cache else [f"shards: {shards}"]):
            err_console.print(line)
        err_console.print(f"[bold]wrote[/bold] {out}: {len(arrays)} proteins, {encoder}, ray backend")
    return 0
