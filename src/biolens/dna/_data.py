"""Reading labelled DNA: DeepBind ``.seq``/``.seq.gz``, the book's CSV, FASTA (optionally labelled)
and generic CSV/TSV; validated with the shared DNA policy.

Formats (told apart by content, not by suffix):

* DeepBind: tab-separated, header ``FoldID EventID seq Bound``; the id is ``EventID``, the label
  ``Bound``; the transcription factor is the file name's first ``_`` field
  (``CTCFL_K562_..._AC.seq.gz`` -> ``CTCFL``).
* the book's CSV: ``sequence,label,transcription_factor,subset`` (``subset`` is
  ``train|valid|test``); ``id`` optional.
* FASTA: ``>ID label=1 tf=CTCF subset=train`` -- every ``key=value`` is optional (``label`` may also
  be a bare ``0``/``1`` word); sequences without labels are fine for prediction.
* any CSV/TSV with a sequence column and optional ``label``/``bound``, ``transcription_factor``/``tf``
  and ``subset``/``split`` columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.alphabets import DNA, InvalidPolicy, ValidationReport, validate_records
from ..core.errors import InputError
from ..core.seqio import Record, open_text, read_fasta, read_table

__all__ = ["TFData", "concat_data", "read_tf_data", "tf_name_from_path"]

LABEL_COLUMNS = ("label", "labels", "bound", "y", "target")
TF_COLUMNS = ("transcription_factor", "tf", "factor", "task")
SUBSET_COLUMNS = ("subset", "split", "set")
_KV = re.compile(r"(\w+)=(\S+)")


@dataclass(frozen=True)
class TFData:
    """Validated DNA records with optional binary labels.

    Attributes:
        ids: record ids, in file order.
        sequences: upper-case ``ACGTN`` sequences.
        labels: ``(N,)`` float32 of 0/1, ``nan`` where a record has no label; ``None`` when no
            record has one.
        tfs: per-record transcription factor (``""`` when unknown).
        subsets: per-record subset (``train``/``valid``/``test``; ``""`` when none).
        source: the file read.
        report: what validation did (lowercase upper-cased, records skipped, ...).
    """

    ids: tuple[str, ...]
    sequences: tuple[str, ...]
    labels: np.ndarray | None
    tfs: tuple[str, ...]
    subsets: tuple[str, ...]
    source: str
    report: ValidationReport = field(default_factory=ValidationReport)

    def __len__(self) -> int:
        return len(self.sequences)

    @property
    def only_positives(self) -> bool:
        """True when every record is labelled 1 (DeepBind ``_AC`` files)."""
        return self.labels is not None and bool(np.all(self.labels == 1))

    def take(self, index: np.ndarray) -> TFData:
        """The records at ``index`` (in that order)."""
        index = np.asarray(index, dtype=int)
        pick = lambda seq: tuple(seq[i] for i in index)  # noqa: E731
        labels = None if self.labels is None else self.labels[index]
        return TFData(pick(self.ids), pick(self.sequences), labels, pick(self.tfs), pick(self.subsets),
                      self.source, self.report)


def tf_name_from_path(path: str | Path) -> str:
    """The TF of a DeepBind-style file name: its first ``_`` field (``CTCF_NH-A_..._B.seq.gz`` -> ``CTCF``)."""
    name = Path(path).name
    for suffix in (".gz", ".seq", ".csv", ".tsv", ".txt", ".fasta", ".fa"):
        name = name.removesuffix(suffix)
    return name.split("_")[0]


def _first_line(path: Path) -> str:
    with open_text(path) as fh:
        return next((ln for ln in fh if ln.strip()), "")


def _parse_label(value: str | None, rec: Record, source: str) -> float:
    if value is None or str(value).strip() == "":
        return float("nan")
    text = str(value).strip()
    if text in ("0", "1", "0.0", "1.0"):
        return float(text)
    raise InputError(f"label {text!r} is not 0 or 1", source=source, record=rec.id, line=rec.line)


def _column(fields: dict, names: tuple[str, ...]) -> str | None:
    lower = {k.lower(): k for k in fields}
    return next((lower[n] for n in names if n in lower), None)


def _from_table(path: Path, header: str) -> tuple[list[Record], list[str | None], list[str], list[str]]:
    deepbind = header.rstrip("\r\n").split("\t")[:4] == ["FoldID", "EventID", "seq", "Bound"]
    records = read_table(path, id_column="EventID" if deepbind else None)
    fields = dict(records[0].fields) if records else {}
    label_col, tf_col, subset_col = (_column(fields, names) for names in (LABEL_COLUMNS, TF_COLUMNS, SUBSET_COLUMNS))
    if deepbind:
        subset_col = None  # FoldID is DeepBind's cross-validation fold, not a train/valid/test subset
    default_tf = tf_name_from_path(path) if deepbind else ""
    labels = [r.fields.get(label_col) if label_col else None for r in records]
    tfs = [str(r.fields.get(tf_col) or default_tf) if tf_col else default_tf for r in records]
    subsets = [str(r.fields.get(subset_col) or "").lower() if subset_col else "" for r in records]
    return records, labels, tfs, subsets


def _from_fasta(path: Path) -> tuple[list[Record], list[str | None], list[str], list[str]]:
    records = read_fasta(path)
    labels, tfs, subsets = [], [], []
    for rec in records:
        pairs = dict(_KV.findall(rec.description))
        bare = [w for w in rec.description.split() if w in ("0", "1")]
        labels.append(pairs.get("label", bare[0] if len(bare) == 1 else None))
        tfs.append(pairs.get("tf", pairs.get("transcription_factor", "")))
        subsets.append(pairs.get("subset", pairs.get("split", "")).lower())
    return records, labels, tfs, subsets


def read_tf_data(path: str | Path, *, on_invalid: InvalidPolicy = "error") -> TFData:
    """Read and validate a labelled (or unlabelled) DNA file; see the module docstring for formats.

    Lowercase (soft-masked) bases are upper-cased and counted in ``report``; letters other than
    ``ACGTN`` follow ``on_invalid`` (``error`` names the record and line; ``replace`` makes them
    ``N``; ``skip`` drops the record). Lengths are checked where sequences meet a model.
    """
    path = Path(path)
    source = str(path)
    header = _first_line(path)
    if header.startswith(">"):
        records, raw_labels, tfs, subsets = _from_fasta(path)
    else:
        records, raw_labels, tfs, subsets = _from_table(path, header)
    if not records:
        raise InputError("has no sequence records (empty file?)", source=source)
    labels = [_parse_label(v, r, source) for v, r in zip(raw_labels, records, strict=True)]
    kept, report = validate_records(records, DNA, on_invalid, source=source)
    if not kept:
        raise InputError(f"no valid records left after validation ({len(report.skipped)} skipped)", source=source)
    index = _kept_index(records, kept)
    lab = np.asarray([labels[i] for i in index], dtype=np.float32)
    return TFData(
        tuple(r.id for r in kept), tuple(r.sequence for r in kept),
        None if np.all(np.isnan(lab)) else lab,
        tuple(tfs[i] for i in index), tuple(subsets[i] for i in index), source, report,
    )


def _kept_index(records: list[Record], kept: list[Record]) -> list[int]:
    """Positions in ``records`` of the ``kept`` ones (same order; cleaned copies keep id and line)."""
    out, j = [], 0
    for rec in kept:
        while (records[j].line, records[j].id) != (rec.line, rec.id):
            j += 1
        out.append(j)
        j += 1
    return out


def concat_data(parts: list[TFData]) -> TFData:
    """Several files as one (e.g. one ``_AC`` file per TF for a multi-task model)."""
    if len(parts) == 1:
        return parts[0]
    if any(p.labels is None for p in parts):
        raise InputError("every file must have labels to be combined", source=next(p.source for p in parts if p.labels is None))
    report = parts[0].report
    for p in parts[1:]:
        report = report.merge(p.report)
    return TFData(
        sum((p.ids for p in parts), ()), sum((p.sequences for p in parts), ()),
        np.concatenate([p.labels for p in parts]), sum((p.tfs for p in parts), ()),
        sum((p.subsets for p in parts), ()), ", ".join(p.source for p in parts), report,
    )
