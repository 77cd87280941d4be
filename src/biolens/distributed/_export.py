"""Ray embedding to a file and to arrays: what ``biolens embed --backend ray`` and
``biolens.embed(..., backend="ray")`` call."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.alphabets import InvalidPolicy
from ..core.export import export_embeddings
from ..core.store import EmbeddingStore, default_store_path
from ..proteins.embed import DEFAULT_OVERLAP, checked_sequences, stack_pooled
from ..proteins.encoders.registry import get_encoder
from ._embed import RayEmbedResult, embed_file_ray, embed_sequences_ray

__all__ = ["embed_ray", "export_file_ray", "shard_dir_for"]


def shard_dir_for(cache: str | Path | None) -> Path:
    """The shard folder beside an embedding store: ``embeddings.sqlite`` -> ``embeddings.shards``."""
    return Path(cache or default_store_path()).with_suffix(".shards")


def export_file_ray(source: Path, out: Path, encoder: str, *, cache: Path | None, no_cache: bool,
                    **options: Any) -> tuple[RayEmbedResult, Path | None]:
    """Embed the records of ``source`` on Ray and export them to ``out`` (.npz/.h5/.parquet).

    The shards are kept beside the store (``cache``) so a rerun reuses them, or in a scratch
    folder with ``no_cache``. Returns the run's result and the shard folder kept (None)."""
    with tempfile.TemporaryDirectory(prefix="biolens-shards-") as scratch:
        shards = Path(scratch) if no_cache else shard_dir_for(cache)
        result = embed_file_ray(source, encoder, shards=shards, **options)
        arrays = result.arrays()
    export_embeddings(out, result.ids, arrays if options.get("per_residue") else np.stack(arrays),
                      metadata=result.metadata)
    return result, None if no_cache else shards


def embed_ray(sequences: Sequence[str] | str, encoder: str = "unirep-64", pooling: str = "mean", *,
              per_residue: bool = False, cache: bool | str | Path | EmbeddingStore | None = True,
              on_invalid: InvalidPolicy = "error", token_budget: int | None = None, overlap: int = DEFAULT_OVERLAP,
              progress: bool = False, address: str | None = None,
              **encoder_options: Any) -> np.ndarray | list[np.ndarray]:
    """:func:`biolens.proteins.embed.embed` on a Ray cluster (``address``: ``auto``, ``HOST:PORT``;
    default: start one here). The shards sit beside the store, or in a scratch folder with ``cache=False``."""
    seqs = checked_sequences(sequences, on_invalid)
    width = get_encoder(encoder, **encoder_options).width
    arrays: list[np.ndarray] = []
    if seqs:
        path = cache.path if isinstance(cache, EmbeddingStore) else (None if cache is True else cache)
        with tempfile.TemporaryDirectory(prefix="biolens-shards-") as scratch:
            shards = scratch if cache is None or cache is False else shard_dir_for(path)
            result = embed_sequences_ray(seqs, encoder, pooling, shards=shards, address=address,
                                         encoder_options=encoder_options, per_residue=per_residue,
                                         token_budget=token_budget, overlap=overlap, progress=progress)
            arrays = result.arrays()
    return arrays if per_residue else stack_pooled(arrays, width)
