"""Embedding proteins: validate, batch by length under a token budget, window long proteins,
pool, and cache every batch in the :class:`~biolens.core.store.EmbeddingStore`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.alphabets import PROTEIN, InvalidPolicy, validate_records
from ..core.batching import plan_batches
from ..core.errors import InputError
from ..core.parallel import ordered_map
from ..core.progress import progress_bar
from ..core.seqio import Record
from ..core.store import EmbeddingStore, default_store_path, sequence_hash
from .encoders.base import Encoder
from .encoders.pooling import check_pooling, pool, pool_residues, pooled_width, residue_states
from .encoders.registry import get_encoder
from .windows import plan_windows, stitch

__all__ = ["EmbedStats", "checked_sequences", "embed", "embed_sequences", "open_store", "stack_pooled", "store_key"]

#: Residues shared by neighbouring windows of a protein longer than the encoder's limit.
DEFAULT_OVERLAP = 256


@dataclass
class EmbedStats:
    """Counts and timing of one embedding run."""

    records: int = 0
    unique: int = 0
    residues: int = 0
    cache_hits: int = 0
    computed: int = 0
    windowed: int = 0
    seconds: float = 0.0
    computed_residues: int = 0
    batches: int = 0
    shapes: set = field(default_factory=set)

    @property
    def residues_per_second(self) -> float:
        return self.computed_residues / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        out = [
            f"records: {self.records} ({self.unique} unique sequences, {self.residues} residues)",
            f"cache hits: {self.cache_hits}, computed: {self.computed}"
            + (f" ({self.windowed} in overlapping windows)" if self.windowed else ""),
        ]
        if self.computed:
            out.append(
                f"computed {self.computed_residues} residues in {self.seconds:.1f} s "
                f"({self.residues_per_second:,.0f} residues/s, {self.batches} batches, {len(self.shapes)} shapes)"
            )
        return out


def open_store(cache: bool | str | Path | EmbeddingStore | None) -> EmbeddingStore | None:
    """``True`` -> the default store, a path -> that store, ``False``/``None`` -> no cache."""
    if cache is None or cache is False:
        return None
    if isinstance(cache, EmbeddingStore):
        return cache
    return EmbeddingStore(default_store_path() if cache is True else cache)


def store_key(pooling: str, per_residue: bool, length: int, encoder: Encoder, overlap: int) -> str:
    """The store's pooling key of one sequence (windowed proteins get their own key)."""
    key = "residues" if per_residue else pooling
    if encoder.max_residues is not None and length > encoder.max_residues:
        key += f"@window{encoder.max_residues}-overlap{overlap}"
    return key


def _check_request(encoder: Encoder, pooling: str, per_residue: bool, overlap: int, token_budget: int | None,
                   longest: int) -> None:
    """Options checked before any work (the CLI names them as --overlap / --token-budget); the
    overlap must be below the encoder's window when some protein (``longest``) needs windows."""
    limit = encoder.max_residues if encoder.max_residues is not None and longest > encoder.max_residues else None
    if not isinstance(overlap, int | np.integer) or overlap < 0 or (limit is not None and overlap >= limit):
        upper = f" and below {encoder.name}'s window of {limit} residues" if limit is not None else ""
        raise InputError(f"overlap (--overlap) must be an integer >= 0{upper}, got {overlap!r}")
    if token_budget is not None and (not isinstance(token_budget, int | np.integer) or token_budget < 1):
        raise InputError(f"token budget (--token-budget) must be a positive integer, got {token_budget!r}")
    if per_residue and not encoder.per_residue:
        raise InputError(f"encoder {encoder.name} has no per-residue output (it is a global feature)")
    if not per_residue:
        check_pooling(encoder, pooling)


def embed_sequences(
    sequences: Sequence[str],
    encoder: Encoder,
    *,
    pooling: str = "mean",
    per_residue: bool = False,
    store: EmbeddingStore | None = None,
    token_budget: int | None = None,
    overlap: int = DEFAULT_OVERLAP,
    progress: bool = False,
    in_flight: int | None = None,
) -> tuple[list[np.ndarray], EmbedStats]:
    """Embed validated sequences; returns one array per input (``(D,)`` pooled or ``(L, D)``).

    Identical sequences are computed once; cached ones are read from ``store``. Up to
    ``in_flight`` batches are encoded at once on threads (default: the encoder's
    ``batches_in_flight``); finished batches are committed to ``store`` in order, each before
    the next result is taken, so a killed run loses at most the batches in flight and resumes
    where it stopped.
    """
    _check_request(encoder, pooling, per_residue, overlap, token_budget, max(map(len, sequences), default=0))
    start = time.perf_counter()
    stats = EmbedStats(records=len(sequences), residues=sum(map(len, sequences)))
    hashes = [sequence_hash(s) for s in sequences]
    unique = dict(zip(hashes, sequences, strict=True))
    stats.unique = len(unique)
    fingerprint = encoder.fingerprint()
    keys = {h: store_key(pooling, per_residue, len(s), encoder, overlap) for h, s in unique.items()}
    results: dict[str, np.ndarray] = {}
    if store is not None:
        store.register_encoder(fingerprint, encoder.describe())
        for key in set(keys.values()):
            wanted = [h for h, k in keys.items() if k == key]
            results.update(store.get_many(fingerprint, key, wanted))
        _check_cached(results, unique, encoder, pooling, per_residue, store)
    stats.cache_hits = len(results)
    todo = [h for h in unique if h not in results]
    if todo:
        computed = _compute(
            {h: unique[h] for h in todo}, encoder, pooling, per_residue, store, keys,
            token_budget or encoder.token_budget, overlap, progress, stats,
            encoder.batches_in_flight if in_flight is None else in_flight,
        )
        results.update(computed)
    stats.computed = len(todo)
    stats.seconds = time.perf_counter() - start
    return [results[h] for h in hashes], stats


def _check_cached(results, unique, encoder, pooling, per_residue, store) -> None:
    """Refuse a stored array whose shape is not what ``encoder`` gives for its sequence (a row
    written under this fingerprint by something else, or edited)."""
    width = encoder.width if per_residue else pooled_width(encoder, pooling)
    for h, array in results.items():
        seq = unique[h]
        want = (len(seq), width) if per_residue else (width,)
        if array.shape != want:
            shown = seq[:10] + ("..." if len(seq) > 10 else "")
            raise store.row_error(encoder.fingerprint(), "residues" if per_residue else pooling, h,
                                  f"it has shape {list(array.shape)}, but {encoder.name} gives {list(want)} "
                                  f"for this {len(seq)}-residue sequence ({shown})")


def _pieces(todo: dict[str, str], encoder: Encoder, overlap: int):
    """Split sequences into encoder-sized pieces: ``(hash, window index, text)``."""
    pieces, windows = [], {}
    for h, seq in todo.items():
        if encoder.max_residues is not None and len(seq) > encoder.max_residues:
            windows[h] = plan_windows(len(seq), encoder.max_residues, overlap)
            pieces += [(h, k, seq[s:e]) for k, (s, e) in enumerate(windows[h])]
        else:
            pieces.append((h, -1, seq))
    return pieces, windows


class _WindowJoiner:
    """Collects the windows of over-long proteins and returns each one's value when complete."""

    def __init__(self, windows: dict[str, list[tuple[int, int]]], pooling: str, per_residue: bool) -> None:
        self.windows, self.pooling, self.per_residue = windows, pooling, per_residue
        self.parts: dict[str, dict[int, np.ndarray]] = {h: {} for h in windows}
        self.cls: dict[str, list[np.ndarray]] = {h: [] for h in windows}

    def add(self, h: str, k: int, residues: np.ndarray, cls: np.ndarray | None) -> np.ndarray | None:
        self.parts[h][k] = residues
        if cls is not None:
            self.cls[h].append(cls)
        if len(self.parts[h]) < len(self.windows[h]):
            return None
        parts = self.parts.pop(h)
        full = stitch(self.windows[h], [parts[i] for i in range(len(parts))])
        if self.per_residue:
            return full
        if self.pooling == "cls":  # the mean of the windows' summary tokens
            return np.mean(self.cls.pop(h), axis=0)
        return pool_residues(full, self.pooling)


def _batch_values(states, members, pooling, per_residue, joiner) -> list[tuple[str, np.ndarray]]:
    """The finished (hash, value) pairs of one encoded batch."""
    n = len(members)
    windowed = any(k >= 0 for _, k, _ in members)
    residues = residue_states(states, n) if per_residue or windowed else None
    pooled = None
    if not per_residue and (pooling == "cls" or not all(k >= 0 for _, k, _ in members)):
        pooled = pool(states, pooling)[:n]
    done = []
    for j, (h, k, _) in enumerate(members):
        if k < 0:
            value = residues[j] if per_residue else pooled[j]
        else:
            cls = pooled[j] if pooling == "cls" and not per_residue else None
            value = joiner.add(h, k, residues[j], cls)
        if value is not None:
            done.append((h, np.asarray(value, dtype=np.float32)))
    return done


def _compute(todo, encoder, pooling, per_residue, store, keys, token_budget, overlap, progress, stats, in_flight):
    pieces, windows = _pieces(todo, encoder, overlap)
    stats.windowed = len(windows)
    if windows and not per_residue and pooling not in ("mean", "max", "mean+max", "cls"):
        raise InputError(f"pooling {pooling!r} is not defined for proteins longer than {encoder.max_residues}")
    joiner = _WindowJoiner(windows, pooling, per_residue)
    fingerprint = encoder.fingerprint()
    out: dict[str, np.ndarray] = {}
    batches = plan_batches([len(p[2]) for p in pieces], token_budget=token_budget)

    def encode(batch):
        return encoder.encode_batch([pieces[i][2] for i in batch.indices], batch.rows, batch.length)

    total = sum(len(p[2]) for p in pieces)
    with (
        progress_bar(total, f"embedding with {encoder.name}", enabled=progress) as advance,
        closing(ordered_map(encode, batches, in_flight=in_flight)) as encoded,  # closed: no batch left running
    ):
        for batch, states in zip(batches, encoded, strict=True):
            members = [pieces[i] for i in batch.indices]
            done = _batch_values(states, members, pooling, per_residue, joiner)
            if store is not None and done:  # commit before taking the next result
                for key in {keys[h] for h, _ in done}:
                    store.put_many(fingerprint, key, [(h, v) for h, v in done if keys[h] == key])
            out.update(done)
            residues = sum(len(m[2]) for m in members)
            stats.batches += 1
            stats.shapes.add((batch.rows, batch.length))
            stats.computed_residues += residues
            advance(residues)
    return out


def embed(
    sequences: Sequence[str] | str,
    encoder: str | Encoder = "unirep-64",
    pooling: str = "mean",
    *,
    per_residue: bool = False,
    cache: bool | str | Path | EmbeddingStore | None = True,
    on_invalid: InvalidPolicy = "error",
    token_budget: int | None = None,
    overlap: int = DEFAULT_OVERLAP,
    progress: bool = False,
    **encoder_options,
) -> np.ndarray | list[np.ndarray]:
    """Embed protein sequences in this process (``biolens.embed(..., backend="ray")`` runs them on a
    Ray cluster instead, see :func:`biolens.distributed.embed_ray`).

    Args:
        sequences: protein sequences (one-letter codes; validated, see ``on_invalid``).
        encoder: an encoder name (``biolens encoders`` lists them) or an :class:`Encoder`.
        pooling: ``mean``, ``max``, ``cls``, ``mean+max`` or an encoder-specific summary.
        per_residue: return one ``(L_i, D)`` array per sequence instead of pooled vectors.
        cache: ``True`` for the default store (``$BIOLENS_CACHE``), a path, or ``False``.
        on_invalid: ``error`` or ``replace`` (invalid characters become ``X``).
        encoder_options: passed to the encoder (``layer=``, ``weights=``).

    Returns:
        ``(N, D)`` float32 array, or a list of ``(L_i, D)`` arrays with ``per_residue``.
    """
    enc = get_encoder(encoder, **encoder_options)
    arrays = _embed_here(checked_sequences(sequences, on_invalid), enc, cache, pooling=pooling, per_residue=per_residue,
                         token_budget=token_budget, overlap=overlap, progress=progress)
    return arrays if per_residue else stack_pooled(arrays, enc.width)


def checked_sequences(sequences: Sequence[str] | str, on_invalid: InvalidPolicy = "error") -> list[str]:
    """:func:`embed`'s input rule: a list of protein sequences, validated (``#i`` names the record);
    ``skip`` is refused because the result has one row per input."""
    if isinstance(sequences, str):
        raise InputError("pass a list of sequences, not a single string (wrap it: [sequence])")
    if on_invalid == "skip":
        raise InputError("on_invalid='skip' would drop rows from the result; use 'error' or 'replace'")
    records = [Record(f"#{i}", s, i + 1) for i, s in enumerate(sequences)]
    records, _ = validate_records(records, PROTEIN, on_invalid, source="sequences")
    return [r.sequence for r in records]


def stack_pooled(arrays: list[np.ndarray], width: int) -> np.ndarray:
    """Pooled vectors as one ``(N, D)`` float32 array (``(0, width)`` for no sequences)."""
    return np.stack(arrays) if arrays else np.zeros((0, width), dtype=np.float32)


def _embed_here(sequences, enc, cache, **kwargs) -> list[np.ndarray]:
    store = open_store(cache)
    try:
        arrays, _ = embed_sequences(sequences, enc, store=store, **kwargs)
    finally:
        if store is not None and store is not cache:
            store.close()
    return arrays

