"""Solubility (binary): the Hugging Face ``proteinea/solubility`` CSV and DeepSol's text files.

* CSV/TSV with columns ``sequences,labels`` (1 = soluble), as ``solubility_{training,...}.csv``
  on the Hub and DeepSol's ``deepsol_val.csv``. A ``split``/``set`` column, if present, is used.
* DeepSol's ``{train,val,test}_src`` (one sequence per line) with ``*_tgt`` (one 0/1 per line);
  pass one ``*_src`` file, or the folder holding them (its three splits are then kept).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...core.alphabets import InvalidPolicy
from ...core.errors import InputError
from ...core.seqio import Record, open_text, read_table
from ._base import Task, TaskData, encode_labels
from ._common import split_names, validate

__all__ = ["SOLUBILITY", "load_solubility"]

SOLUBILITY = Task(name="solubility", kind="binary", label_names=("insoluble", "soluble"),
                  description="soluble when expressed in E. coli (DeepSol)")
_DEEPSOL_SPLITS = {"train": "train", "val": "valid", "test": "test"}


def _lines(path: Path) -> list[str]:
    with open_text(path) as fh:
        return [line.strip() for line in fh]


def _read_deepsol_pair(src: Path) -> tuple[list[Record], list[str]]:
    tgt = src.with_name(src.name[: -len("_src")] + "_tgt")
    if not tgt.exists():
        raise InputError(f"DeepSol targets file {tgt.name} not found beside it", source=str(src))
    seqs, labels = _lines(src), _lines(tgt)
    while seqs and not seqs[-1]:
        seqs.pop()
    while labels and not labels[-1]:
        labels.pop()
    if len(seqs) != len(labels):
        raise InputError(f"has {len(seqs)} sequences but {tgt.name} has {len(labels)} labels", source=str(src))
    prefix = src.name[: -len("_src")]
    records = [Record(f"{prefix}{i + 1}", s, i + 1) for i, s in enumerate(seqs)]
    encode_labels(labels, ("0", "1"), source=str(tgt), lines=list(range(1, len(labels) + 1)), column="target",
                  records=[r.id for r in records])  # refuse unknown values, naming the targets file
    return records, labels


def _deepsol(path: Path) -> tuple[list[Record], list[str], list[str] | None]:
    if path.is_dir():
        found = [(path / f"{p}_src", s) for p, s in _DEEPSOL_SPLITS.items() if (path / f"{p}_src").exists()]
        if not found:
            raise InputError("no DeepSol *_src files in this folder", source=str(path))
    else:
        src = path if path.name.endswith("_src") else path.with_name(path.name[: -len("_tgt")] + "_src")
        found = [(src, None)]
    records, labels, splits = [], [], []
    for src, split in found:
        r, lab = _read_deepsol_pair(src)
        records += r
        labels += lab
        splits += [split] * len(r)
    return records, labels, (splits if path.is_dir() else None)


def load_solubility(path: str | Path, *, on_invalid: InvalidPolicy = "error") -> TaskData:
    """Read a solubility file (see the module docstring). Labels must be 0 or 1."""
    path = Path(path)
    if path.is_dir() or path.name.endswith(("_src", "_tgt")):
        records, labels, splits = _deepsol(path)
        column = "target"
    else:
        records = read_table(path)
        column = next((c for c in ("labels", "label", "solubility") if records and c in records[0].fields), None)
        if column is None:
            raise InputError(f"has no 'labels' column; its columns are {sorted(records[0].fields)}", source=str(path))
        labels = [r.fields[column].strip() for r in records]
        split_col = next((c for c in ("split", "set") if c in records[0].fields), None)
        splits = [r.fields[split_col].strip() for r in records] if split_col else None
    y = encode_labels(labels, ("0", "1"), source=str(path), lines=[r.line for r in records],
                      column=column, records=[r.id for r in records])
    kept, keep, notes = validate(records, str(path), on_invalid)
    return TaskData(
        task=SOLUBILITY, ids=[r.id for r in kept], sequences=[r.sequence for r in kept], labels=y[keep],
        splits=None if splits is None else np.asarray(split_names(splits, str(path)), dtype=object)[keep],
        notes=notes, source=str(path),
    )

