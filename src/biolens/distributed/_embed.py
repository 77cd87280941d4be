"""Embedding on Ray Data: the driver streams and validates the input into content-keyed shards;
one stateful worker per CPU slot or GPU loads the encoder once and runs each shard through the
local driver (:func:`biolens.proteins.embed.embed_sequences`: the same token-budget,
length-bucketed batches, windows and pooling); every finished shard is one atomic Parquet file.

Fault tolerance is Ray's: a worker that dies is restarted and its shard retried
(``max_restarts`` / ``max_task_retries``); since a shard is named by its content and written
complete-or-absent, a retry rewrites the same file and every record is read back exactly once.
A rerun finds the shards done and computes nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.alphabets import PROTEIN, InvalidPolicy, ValidationReport
from ..core.errors import InputError
from ..core.seqio import Record, check_unique_ids
from ..core.store import default_store_path, sequence_hash
from ..proteins.embed import DEFAULT_OVERLAP, _check_request, embed_sequences, store_key
from ..proteins.encoders.base import Encoder
from ..proteins.encoders.registry import get_encoder
from . import _shards
from ._cluster import connect, enable_compile_cache, ray_module
from ._read import iter_validated

__all__ = ["RayEmbedResult", "default_shard_dir", "embed_file_ray", "embed_sequences_ray"]

DEFAULT_SHARD_SIZE = 4096


def default_shard_dir() -> Path:
    """Beside the default store: ``$BIOLENS_CACHE`` -> ``<it>.shards``."""
    return default_store_path().with_suffix(".shards")


@dataclass
class RayEmbedResult:
    """What a Ray embedding run did; ``hashes`` are in input order (one per kept record)."""

    ids: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    shards: list[Path] = field(default_factory=list)
    report: ValidationReport = field(default_factory=ValidationReport)
    dropped: int = 0
    unique: int = 0
    shards_reused: int = 0
    computed: int = 0
    computed_residues: int = 0
    worker_pids: set[int] = field(default_factory=set)
    seconds: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)  # the encoder and view, for the export file

    def lines(self) -> list[str]:
        done = len(self.shards) - self.shards_reused
        out = [f"records: {len(self.ids)} ({self.unique} unique sequences), "
               f"shards: {len(self.shards)} ({self.shards_reused} already done, {done} computed)"]
        if self.computed:
            rate = self.computed_residues / self.seconds if self.seconds else 0.0
            out.append(f"computed {self.computed} sequences, {self.computed_residues} residues in "
                       f"{self.seconds:.1f} s on {len(self.worker_pids)} worker(s) ({rate:,.0f} residues/s)")
        return out

    def arrays(self) -> list[np.ndarray]:
        """Every record's value, read back from its shard, in input order."""
        values: dict[str, np.ndarray] = {}
        for path in dict.fromkeys(self.shards):
            values.update((h, a) for h, _, a in _shards.read_shard(path)[2])
        missing = [h for h in self.hashes if h not in values]
        if missing:
            raise InputError(f"{len(missing)} sequence(s) missing from the shards (deleted during the run?)")
        return [values[h] for h in self.hashes]


class _ShardWorker:
    """A Ray Data actor: builds the encoder once, then embeds one pending shard per call."""

    def __init__(self, encoder: str | Encoder, options: dict, fingerprint: str, settings: dict) -> None:
        enable_compile_cache(settings.pop("compile_cache"))
        self.encoder = get_encoder(encoder, **options)
        if self.encoder.fingerprint() != fingerprint:
            raise InputError(f"encoder {self.encoder.name} on worker {os.getpid()} differs from the driver's "
                             "(another biolens version or weights file on this node?)")
        self.fingerprint, self.settings = fingerprint, settings

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        computed, residues = [], []
        for source, target in zip(batch["input"], batch["output"], strict=True):
            computed.append(0 if Path(target).exists() else self._embed(Path(source), Path(target)))
            residues.append(self._residues if computed[-1] else 0)
        n = len(computed)
        return {"output": list(batch["output"]), "computed": computed, "residues": residues, "pid": [os.getpid()] * n}

    def _embed(self, source: Path, target: Path) -> int:
        hashes, sequences = _shards.read_input(source)
        s = self.settings
        arrays, _ = embed_sequences(sequences, self.encoder, pooling=s["pooling"], per_residue=s["per_residue"],
                                    token_budget=s["token_budget"], overlap=s["overlap"])
        keys = [store_key(s["pooling"], s["per_residue"], len(q), self.encoder, s["overlap"]) for q in sequences]
        _shards.write_shard(target, self.fingerprint, self.encoder.describe(), list(zip(hashes, keys, arrays, strict=True)))
        source.unlink(missing_ok=True)
        self._residues = sum(map(len, sequences))
        return len(sequences)


def _plan(chunks: Iterable[tuple[list[Record], ValidationReport]], fingerprint: str, view: str, root: Path,
          shard_size: int, dedupe: bool, source: str, result: RayEmbedResult) -> list[tuple[Path, Path]]:
    """Stream the records into shards of ``shard_size`` new sequences; returns the pending
    (input, output) pairs. Ids are checked for uniqueness across the whole stream."""
    firsts: dict[str, Record] = {}  # id -> (id, sequence hash, line): duplicate checks without the text
    seen: set[str] = set()
    pending: list[tuple[Path, Path]] = []
    group: dict[str, str] = {}

    def close() -> None:
        key = _shards.shard_key(fingerprint, view, group)
        out = _shards.shard_path(root, fingerprint, view, key)
        result.shards.append(out)
        if out.exists():
            result.shards_reused += 1
        else:
            src = root / "pending" / f"{key}.parquet"
            _shards.write_input(src, list(group), list(group.values()))
            pending.append((src, out))
        group.clear()

    for records, report in chunks:
        result.report = result.report.merge(report)
        hashes = [sequence_hash(r.sequence) for r in records]
        stubs = [Record(r.id, h, r.line) for r, h in zip(records, hashes, strict=True)]
        earlier = [firsts[s.id] for s in dict((s.id, s) for s in stubs if s.id in firsts).values()]
        kept, dropped = check_unique_ids(earlier + stubs, dedupe=dedupe, source=source)
        result.dropped += dropped
        for stub in kept[len(earlier):]:
            firsts[stub.id] = stub
            result.ids.append(stub.id)
            result.hashes.append(stub.sequence)
        for rec, h in zip(records, hashes, strict=True):
            if h not in seen and firsts.get(rec.id) is not None:
                seen.add(h)
                group[h] = rec.sequence
                if len(group) == shard_size:
                    close()
    if group:
        close()
    result.unique = len(seen)
    return pending


def _execute(pending: list[tuple[Path, Path]], encoder: str | Encoder, options: dict, fingerprint: str,
             settings: dict, workers: int | None, num_gpus: float, result: RayEmbedResult) -> None:
    ray = ray_module()
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = settings.pop("progress")
    if workers is None:
        resources = ray.cluster_resources()
        workers = int(resources.get("GPU", 0) // num_gpus) if num_gpus else int(resources.get("CPU", 1))
    workers = max(1, min(workers, len(pending)))
    items = [{"input": str(i), "output": str(o)} for i, o in pending]
    ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        _ShardWorker, fn_constructor_kwargs={"encoder": encoder, "options": options, "fingerprint": fingerprint,
                                             "settings": settings},
        batch_size=1, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=0 if num_gpus else 1,
        num_gpus=num_gpus or None)  # Ray Data's actor pools restart dead workers and retry (max_restarts=-1)
    for row in ds.iter_rows():
        result.computed += int(row["computed"])
        result.computed_residues += int(row["residues"])
        result.worker_pids.add(int(row["pid"]))


def _run(chunks, encoder: str | Encoder, *, options: dict, pooling: str, per_residue: bool, shards: Path | None,
         address: str | None, workers: int | None, num_gpus: float, shard_size: int, token_budget: int | None,
         overlap: int, compile_cache: str | Path | None, dedupe: bool, progress: bool, source: str) -> RayEmbedResult:
    enc = get_encoder(encoder, **options)
    # the sequences stream in shards: the overlap-below-window rule is checked by each worker's driver
    _check_request(enc, pooling, per_residue, overlap, token_budget, longest=0)
    if shard_size < 1:
        raise InputError(f"shard_size must be >= 1, got {shard_size}")
    start = time.perf_counter()
    fingerprint, view = enc.fingerprint(), "residues" if per_residue else pooling
    result = RayEmbedResult(metadata=enc.export_metadata(pooling, per_residue))
    pending = _plan(chunks, fingerprint, view, Path(shards or default_shard_dir()), shard_size, dedupe, source, result)
    if pending:
        settings = {"pooling": pooling, "per_residue": per_residue, "token_budget": token_budget, "overlap": overlap,
                    "compile_cache": str(compile_cache) if compile_cache else None, "progress": progress}
        started = connect(address)
        try:
            _execute(pending, encoder, options, fingerprint, settings, workers, num_gpus, result)
        finally:
            if started:
                ray_module().shutdown()
    result.seconds = time.perf_counter() - start
    return result


def embed_file_ray(path: str | Path, encoder: str | Encoder = "unirep-64", pooling: str = "mean", *,
                   per_residue: bool = False, on_invalid: InvalidPolicy = "error", sequence_column: str | None = None,
                   id_column: str | None = None, dedupe: bool = False, shards: str | Path | None = None,
                   address: str | None = None, workers: int | None = None, num_gpus: float = 0.0,
                   shard_size: int = DEFAULT_SHARD_SIZE, token_budget: int | None = None,
                   overlap: int = DEFAULT_OVERLAP, compile_cache: str | Path | None = None, progress: bool = False,
                   **encoder_options: Any) -> RayEmbedResult:
    """Embed a FASTA/CSV/TSV/Parquet file (``.gz`` too) on a Ray cluster, a chunk at a time.

    Args:
        path: the input; validated as the local backend does (``on_invalid``, unique ids).
        shards: the shard folder (default :func:`default_shard_dir`; a shared disk on a cluster).
        address: ``auto``, ``HOST:PORT``, or None to start Ray on this machine.
        workers: encoder workers (default: one per CPU, or per ``num_gpus`` of the cluster's GPUs).
        num_gpus: GPUs per worker (0: CPU workers, one CPU each).
        shard_size: unique sequences per shard (the unit of work, retry and reuse).
        compile_cache: JAX persistent compilation cache folder (default ``$BIOLENS_COMPILE_CACHE``).

    Returns:
        a :class:`RayEmbedResult`; ``result.arrays()`` reads the values back in input order.
    """
    chunks = iter_validated(path, PROTEIN, on_invalid=on_invalid, sequence_column=sequence_column,
                            id_column=id_column, chunk=shard_size)
    return _run(chunks, encoder, options=encoder_options, pooling=pooling, per_residue=per_residue,
                shards=Path(shards) if shards else None, address=address, workers=workers, num_gpus=num_gpus,
                shard_size=shard_size, token_budget=token_budget, overlap=overlap, compile_cache=compile_cache,
                dedupe=dedupe, progress=progress, source=str(path))


def embed_sequences_ray(sequences: Sequence[str], encoder: str | Encoder, pooling: str = "mean", *,
                        shard_size: int = DEFAULT_SHARD_SIZE, **kwargs: Any) -> RayEmbedResult:
    """:func:`embed_file_ray` for validated sequences already in memory (ids ``#0, #1, ...``)."""
    records = [Record(f"#{i}", s, i + 1) for i, s in enumerate(sequences)]
    chunks = ((records[i:i + shard_size], ValidationReport(read=len(records[i:i + shard_size])))
              for i in range(0, len(records), shard_size))
    options = kwargs.pop("encoder_options", {})
    defaults = {"per_residue": False, "shards": None, "address": None, "workers": None, "num_gpus": 0.0,
                "token_budget": None, "overlap": DEFAULT_OVERLAP, "compile_cache": None, "dedupe": False,
                "progress": False}
    unknown = set(kwargs) - set(defaults)
    if unknown:
        raise TypeError(f"unexpected arguments {sorted(unknown)}")
    return _run(chunks, encoder, options=options, pooling=pooling, shard_size=shard_size, source="sequences",
                **{**defaults, **kwargs})
