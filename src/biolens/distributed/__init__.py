"""Past one machine: embedding on a Ray cluster (``pip install 'biolens[ray]'``).

See ``docs/scale.md``. Nothing here imports Ray until a run starts.
"""

from __future__ import annotations

from ._bench import run_cells_ray as run_cells_ray
from ._cluster import COMPILE_CACHE_ENV as COMPILE_CACHE_ENV
from ._cluster import connect as connect
from ._cluster import enable_compile_cache as enable_compile_cache
from ._embed import RayEmbedResult as RayEmbedResult
from ._embed import default_shard_dir as default_shard_dir
from ._embed import embed_file_ray as embed_file_ray
from ._embed import embed_sequences_ray as embed_sequences_ray
from ._export import embed_ray as embed_ray
from ._export import export_file_ray as export_file_ray
from ._export import shard_dir_for as shard_dir_for
from ._read import iter_records as iter_records
from ._read import iter_validated as iter_validated
from ._shards import import_shards as import_shards
from ._shards import read_shard as read_shard

__all__ = [
           "COMPILE_CACHE_ENV",
           "RayEmbedResult",
           "connect",
           "default_shard_dir",
           "embed_file_ray",
           "embed_ray",
           "embed_sequences_ray",
           "enable_compile_cache",
           "export_file_ray",
           "import_shards",
           "iter_records",
           "iter_validated",
           "read_shard",
           "run_cells_ray",
           "shard_dir_for",
]
