"""The embedding driver: encoder + store + windows for proteins longer than the encoder's limit."""

from ._driver import DEFAULT_OVERLAP as DEFAULT_OVERLAP
from ._driver import EmbedStats as EmbedStats
from ._driver import check_request as check_request
from ._driver import checked_sequences as checked_sequences
from ._driver import embed as embed
from ._driver import embed_sequences as embed_sequences
from ._driver import open_store as open_store
from ._driver import stack_pooled as stack_pooled
from ._driver import store_key as store_key
from ._extract import extract as extract
from ._windows import plan_windows as plan_windows
from ._windows import stitch as stitch

__all__ = [
    "DEFAULT_OVERLAP", "EmbedStats", "check_request", "checked_sequences", "embed", "embed_sequences",
    "extract", "open_store", "plan_windows", "stack_pooled", "stitch", "store_key",
]  # fmt: skip
