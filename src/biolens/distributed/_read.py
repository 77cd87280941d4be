"""Streaming input: FASTA, CSV/TSV (gzipped too) and Parquet read a chunk at a time.

The local driver reads a file whole (:func:`biolens.core.seqio.load_sequences`); a proteome
does not fit that way. These readers yield the same :class:`~biolens.core.seqio.Record`\\ s in
the same order, and every chunk goes through the same
:func:`~biolens.core.alphabets.validate_records`, so a bad record fails with the message the
local backend gives, naming the file, the record and its line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from ..core.alphabets import Alphabet, InvalidPolicy, ValidationReport, validate_records
from ..core.errors import InputError
from ..core.seqio import (
    FASTA_SUFFIXES,
    ID_COLUMNS,
    SEQUENCE_COLUMNS,
    Record,
    _fasta_records,
    _pick_column,
    open_text,
)

__all__ = ["iter_records", "iter_validated"]

PARQUET_SUFFIXES = (".parquet", ".pq")


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return suffixes[-1] if suffixes else ""


def _iter_fasta(path: Path) -> Iterator[Record]:
    with open_text(path) as fh:
        try:
            yield from _fasta_records(iter(fh), str(path))
        except UnicodeDecodeError:
            raise InputError("is not UTF-8 text", source=str(path)) from None


def _iter_table(path: Path, sequence_column: str | None, id_column: str | None) -> Iterator[Record]:
    source = str(path)
    with open_text(path) as fh:
        first = fh.readline()
        if not first.strip():
            raise InputError("is empty", source=source)
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        header = next(csv.reader([first], delimiter=delimiter))
        yield from _table_rows(csv.reader(fh, delimiter=delimiter), header, sequence_column, id_column, source)


def _table_rows(rows, header, sequence_column, id_column, source) -> Iterator[Record]:
    seq_col = _pick_column(header, sequence_column, SEQUENCE_COLUMNS, "sequence", source)
    if seq_col is None:
        raise InputError(f"has no sequence column (looked for {list(SEQUENCE_COLUMNS)}); its columns are "
                         f"{header}. Name it with --sequence-column", source=source)
    id_col = _pick_column(header, id_column, ID_COLUMNS, "id", source)
    s, k = header.index(seq_col), (header.index(id_col) if id_col is not None else None)
    for i, row in enumerate(rows):
        if not row:
            continue
        if len(row) != len(header):
            raise InputError(f"has {len(row)} fields, the header has {len(header)}", source=source, line=i + 2)
        rid = row[k] if k is not None else f"row{i + 1}"
        if not str(rid).strip():
            raise InputError(f"empty id in column {id_col!r}", source=source, line=i + 2)
        yield Record(str(rid), row[s] or "", i + 2)


def _iter_parquet(path: Path, sequence_column: str | None, id_column: str | None, chunk: int) -> Iterator[Record]:
    import pyarrow.parquet as pq

    source = str(path)
    try:
        file = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot be read as Parquet ({exc})", source=source) from None
    header = file.schema_arrow.names
    seq_col = _pick_column(header, sequence_column, SEQUENCE_COLUMNS, "sequence", source)
    if seq_col is None:
        raise InputError(f"has no sequence column (looked for {list(SEQUENCE_COLUMNS)}); its columns are "
                         f"{header}. Name it with --sequence-column", source=source)
    id_col = _pick_column(header, id_column, ID_COLUMNS, "id", source)
    columns = [seq_col] + ([id_col] if id_col is not None else [])
    row = 0
    for batch in file.iter_batches(batch_size=chunk, columns=columns):
        seqs = batch.column(seq_col).to_pylist()
        ids = batch.column(id_col).to_pylist() if id_col is not None else [None] * len(seqs)
        for rid, seq in zip(ids, seqs, strict=True):
            row += 1
            rid = f"row{row}" if id_col is None else rid
            if rid is None or not str(rid).strip():
                raise InputError(f"empty id in column {id_col!r}", source=source, line=row)
            yield Record(str(rid), seq or "", row)  # "line" of a Parquet record: its 1-based row


def iter_records(path: str | Path, *, sequence_column: str | None = None, id_column: str | None = None,
                 chunk: int = 8192) -> Iterator[Record]:
    """Every record of a FASTA, CSV/TSV (``.gz`` allowed) or Parquet file, one at a time."""
    path = Path(path)
    suffix = _suffix(path)
    if suffix in PARQUET_SUFFIXES:
        if not path.exists():
            raise InputError("file not found", source=str(path))
        return _iter_parquet(path, sequence_column, id_column, chunk)
    if suffix in FASTA_SUFFIXES:
        return _iter_fasta(path)
    if suffix not in (".csv", ".tsv", ".tab", ".txt"):
        with open_text(path) as fh:
            first = next((ln for ln in fh if ln.strip()), "")
        if first.startswith(">"):
            return _iter_fasta(path)
    return _iter_table(path, sequence_column, id_column)


def iter_validated(path: str | Path, alphabet: Alphabet, *, on_invalid: InvalidPolicy = "error",
                   sequence_column: str | None = None, id_column: str | None = None,
                   chunk: int = 8192) -> Iterator[tuple[list[Record], ValidationReport]]:
    """``(validated records, their report)`` in chunks of up to ``chunk`` raw records, in file
    order, under the local backend's rules (merge the reports for the run's summary)."""
    source = str(path)
    records = iter_records(path, sequence_column=sequence_column, id_column=id_column, chunk=chunk)
    seen = 0
    while raw := [r for _, r in zip(range(chunk), records, strict=False)]:
        seen += len(raw)
        yield validate_records(raw, alphabet, on_invalid, source=source)
    if not seen:
        raise InputError("has no sequence records (empty file?)", source=source)
