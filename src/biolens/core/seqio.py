"""Reading sequence files: FASTA and CSV/TSV (optionally gzipped).

Readers are strict about structure and report problems with the file, line and record:
text before the first FASTA header, a header without an id, a CSV without the named column,
a binary file. Character-level problems are left to :func:`biolens.core.alphabets.validate_records`,
so every reader shares one validation policy.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .alphabets import Alphabet, InvalidPolicy, ValidationReport, validate_records
from .errors import InputError

__all__ = [
    "FASTA_SUFFIXES",
    "TABLE_SUFFIXES",
    "Record",
    "check_unique_ids",
    "load_sequences",
    "open_text",
    "read_fasta",
    "read_sequences",
    "read_table",
    "read_text",
]

FASTA_SUFFIXES = (".fa", ".fasta", ".faa", ".fas", ".fna", ".fsa", ".seq")
TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
SEQUENCE_COLUMNS = ("sequence", "sequences", "seq", "aa_seq", "protein_sequence")
ID_COLUMNS = ("id", "name", "accession", "entry", "protein_id", "record_id")


@dataclass(frozen=True, slots=True)
class Record:
    """One sequence record.

    Attributes:
        id: the record id (first word of a FASTA header, or the id column of a table).
        sequence: the sequence text.
        line: 1-based line of the header or table row in the source file.
        description: the rest of the FASTA header after the id.
        fields: the other columns of a table row, as strings.
    """

    id: str
    sequence: str
    line: int
    description: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)


class _CheckedText(io.TextIOWrapper):
    """UTF-8 text whose decoding or gunzip failures, wherever in the file they come, are an
    :class:`InputError` naming the file (a streamed reader sees only the first 8 KiB up front)."""

    source = ""

    def _failed(self, exc: Exception) -> InputError:
        if isinstance(exc, UnicodeDecodeError):
            return InputError(f"not UTF-8 text ({exc.reason})", source=self.source)
        return InputError(f"cannot read the file (truncated or corrupt gzip?): {exc}", source=self.source)

    def __next__(self) -> str:
        try:
            return super().__next__()
        except (UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
            raise self._failed(exc) from None

    def readline(self, size: int = -1) -> str:
        try:
            return super().readline(size)
        except (UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
            raise self._failed(exc) from None

    def read(self, size: int | None = -1) -> str:
        try:
            return super().read(size)
        except (UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
            raise self._failed(exc) from None


def open_text(path: str | Path) -> io.TextIOBase:
    """Open a text file, gunzipping by magic bytes; refuse binary files with a clear error."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", source=str(path))
    if path.is_dir():
        raise InputError("is a directory, expected a sequence file", source=str(path))
    with path.open("rb") as fh:
        head = fh.read(2)
    raw = gzip.open(path, "rb") if head == b"\x1f\x8b" else path.open("rb")
    try:
        sample = raw.read(8192)
    except (OSError, EOFError, zlib.error) as exc:
        raw.close()
        raise InputError(f"cannot read the file ({exc})", source=str(path)) from None
    bad_utf8 = False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the sample's end is fine
        bad_utf8 = exc.start < len(sample) - 4 or len(sample) < 8192
    if b"\x00" in sample or bad_utf8:
        raw.close()
        raise InputError(
            "looks like a binary file, not FASTA/CSV/TSV text", source=str(path)
        )
    raw.seek(0)
    text = _CheckedText(raw, encoding="utf-8", errors="strict", newline=None)
    text.source = str(path)
    return text


def read_text(path: str | Path) -> str:
    """The whole text of a file (gunzipped, line ends normalised to ``\n``).

    Raises:
        InputError: naming the file, and for a byte that is not UTF-8 its line and byte offset.
    """
    with open_text(path) as fh:
        try:
            data = fh.buffer.read()
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"cannot read the file (truncated or corrupt gzip?): {exc}", source=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"not UTF-8 text: byte {data[exc.start]:#04x} at byte offset {exc.start} ({exc.reason})",
                         source=str(path), line=line) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _fasta_records(lines: Iterator[str], source: str) -> Iterator[Record]:
    header: tuple[str, str, int] | None = None
    chunks: list[str] = []
    for lineno, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if line.startswith(">"):
            if header is not None:
                yield Record(header[0], "".join(chunks), header[2], header[1])
            parts = line[1:].strip().split(None, 1)
            if not parts:
                raise InputError("FASTA header has no id", source=source, line=lineno)
            header = (parts[0], parts[1] if len(parts) > 1 else "", lineno)
            chunks = []
        elif header is None:
            if line.strip():
                raise InputError(
                    "sequence text before the first '>' header (is this a FASTA file?)",
                    source=source,
                    line=lineno,
                )
        elif not line.startswith(";"):  # ';' comment lines are old FASTA
            chunks.append(line.strip(" \t\v\f"))  # ASCII only: other spaces are invalid letters
    if header is not None:
        yield Record(header[0], "".join(chunks), header[2], header[1])


def read_fasta(path: str | Path) -> list[Record]:
    """Read every record of a FASTA file. Sequence lines are joined; line ends stripped."""
    text = read_text(path)
    return list(_fasta_records(iter(text.split("\n")), str(path)))


def _pick_column(columns: Sequence[str], wanted: str | None, defaults: Sequence[str], what: str, source: str) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise InputError(
                f"has no {what} column {wanted!r}; its columns are {list(columns)}", source=source
            )
        return wanted
    lower = {c.lower(): c for c in columns}
    for name in defaults:
        if name in lower:
            return lower[name]
    return None


def read_table(
    path: str | Path,
    *,
    sequence_column: str | None = None,
    id_column: str | None = None,
    separator: str | None = None,
) -> list[Record]:
    """Read a CSV/TSV with a header row. Every column is read as text (nothing is coerced).

    The sequence column defaults to the first of ``sequence, sequences, seq, ...`` present;
    the id column to ``id, name, accession, ...``, else ids are ``row1, row2, ...``.
    """
    import polars as pl

    source = str(path)
    text = read_text(path)
    if not text.strip():
        raise InputError("is empty", source=source)
    if separator is None:
        first = text.split("\n", 1)[0]
        separator = "\t" if first.count("\t") > first.count(",") else ","
    try:
        frame = pl.read_csv(io.StringIO(text), separator=separator, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"cannot be parsed as a table: {str(exc).splitlines()[0]}", source=source) from None
    columns = frame.columns
    seq_col = _pick_column(columns, sequence_column, SEQUENCE_COLUMNS, "sequence", source)
    if seq_col is None:
        raise InputError(
            f"has no sequence column (looked for {list(SEQUENCE_COLUMNS)}); its columns are "
            f"{columns}. Name it with --sequence-column",
            source=source,
        )
    id_col = _pick_column(columns, id_column, ID_COLUMNS, "id", source)
    rows = frame.rows(named=True)
    if not rows:
        raise InputError("has a header row but no records", source=source)
    records = []
    for i, row in enumerate(rows):
        rid = row[id_col] if id_col is not None else f"row{i + 1}"
        if rid is None or not str(rid).strip():
            raise InputError(f"empty id in column {id_col!r}", source=source, line=i + 2)
        extra = {k: ("" if v is None else v) for k, v in row.items() if k not in (seq_col, id_col)}
        records.append(Record(str(rid), row[seq_col] or "", i + 2, "", extra))
    return records


def read_sequences(
    path: str | Path,
    *,
    sequence_column: str | None = None,
    id_column: str | None = None,
) -> list[Record]:
    """Read a FASTA or CSV/TSV file, chosen by suffix (``.gz`` allowed) or by content."""
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in FASTA_SUFFIXES:
        records = read_fasta(path)
    elif suffix in TABLE_SUFFIXES:
        records = read_table(path, sequence_column=sequence_column, id_column=id_column)
    else:
        with open_text(path) as fh:
            first = next((ln for ln in fh if ln.strip()), "")
        reader = read_fasta if first.startswith(">") else read_table
        records = reader(path) if reader is read_fasta else read_table(
            path, sequence_column=sequence_column, id_column=id_column
        )
    if not records:
        raise InputError("has no sequence records (empty file?)", source=str(path))
    return records


def check_unique_ids(records: Sequence[Record], *, dedupe: bool = False, source: str | None = None) -> tuple[list[Record], int]:
    """Refuse duplicate ids, or with ``dedupe`` keep the first of each id.

    Returns ``(records, n_dropped)``. With ``dedupe``, a repeated id whose sequence differs
    from the first one is still an error: de-duplicating must not choose between data.
    """
    seen: dict[str, Record] = {}
    kept: list[Record] = []
    for rec in records:
        first = seen.get(rec.id)
        if first is None:
            seen[rec.id] = rec
            kept.append(rec)
            continue
        if not dedupe:
            raise InputError(
                f"duplicate id (first seen on line {first.line}); ids must be unique to key the "
                "output -- pass --dedupe to keep the first of identical duplicates",
                source=source, record=rec.id, line=rec.line,
            )
        if first.sequence != rec.sequence:
            raise InputError(
                f"duplicate id with a different sequence than on line {first.line}; "
                "rename one of them",
                source=source, record=rec.id, line=rec.line,
            )
    return kept, len(records) - len(kept)


def load_sequences(
    path: str | Path,
    alphabet: Alphabet,
    *,
    on_invalid: InvalidPolicy = "error",
    sequence_column: str | None = None,
    id_column: str | None = None,
) -> tuple[list[Record], ValidationReport]:
    """Read and validate a sequence file; see :mod:`biolens.core.alphabets` for the rules."""
    records = read_sequences(path, sequence_column=sequence_column, id_column=id_column)
    for rec in records:
        if not rec.id.strip():
            raise InputError("empty record id", source=str(path), line=rec.line)
    kept, report = validate_records(records, alphabet, on_invalid, source=str(path))
    if not kept:
        raise InputError(
            f"no valid records left after validation ({len(report.skipped)} skipped)", source=str(path)
        )
    return kept, report
