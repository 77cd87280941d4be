"""FLIP benchmark files (Dallago et al. 2021).

* GB1 fitness (regression): one CSV per split (``one_vs_rest``, ``two_vs_rest``,
  ``three_vs_rest``, ``low_vs_high``, ``sampled``) with columns ``sequence,target,set,validation``;
  ``set`` is train/test and ``validation=True`` marks training rows held out for validation.
* Secondary structure (per residue, 3 states): ``sequences.fasta`` (ids like ``1es5-A``), a labels
  FASTA (``sampled.fasta``: one H/E/C letter per residue, header ``SET=train|test VALIDATION=True|False``)
  and ``mask.fasta`` (1 = resolved residue; unresolved residues are not scored).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...core.alphabets import InvalidPolicy
from ...core.errors import InputError
from ...core.seqio import Record, read_fasta, read_table
from ._base import Task, TaskData
from ._common import parse_float, sibling, validate

__all__ = ["GB1_SPLITS", "SS3", "load_gb1", "load_secondary_structure"]

GB1_SPLITS = ("one_vs_rest", "two_vs_rest", "three_vs_rest", "low_vs_high", "sampled")
SS3 = Task(name="secondary-structure", kind="per_residue", label_names=("H", "E", "C"),
           description="3-state secondary structure (FLIP, NetSurfP-2.0 data)")


def _flip_split(rec: Record, source: str) -> str:
    fields = {k.lower(): v.strip() for k, v in rec.fields.items()}
    if "set" not in fields:
        raise InputError(f"has no 'set' column; its columns are {sorted(rec.fields)}", source=source)
    value = fields["set"].lower()
    if value not in ("train", "test"):
        raise InputError(f"set {fields['set']!r} is not train or test", source=source, line=rec.line, record=rec.id)
    validation = fields.get("validation", "").lower()
    if validation not in ("", "true", "false"):
        raise InputError(f"validation {fields['validation']!r} is not True, False or empty", source=source,
                         line=rec.line, record=rec.id)
    return "valid" if value == "train" and validation == "true" else value


def load_gb1(path: str | Path, *, on_invalid: InvalidPolicy = "error") -> TaskData:
    """Read one FLIP GB1 split CSV. Ids are ``row<N>`` (the file has no id column)."""
    source = str(path)
    records = read_table(path)
    if "target" not in records[0].fields:
        raise InputError(f"has no 'target' column; its columns are {sorted(records[0].fields)}", source=source)
    y = np.array([parse_float(r.fields["target"], source=source, line=r.line, record=r.id, column="target")
                  for r in records])
    splits = np.array([_flip_split(r, source) for r in records], dtype=object)
    kept, index, notes = validate(records, source, on_invalid)
    stem = Path(path).name.split(".")[0]
    split = f" ({stem})" if stem in GB1_SPLITS else ""
    task = Task(name="gb1", kind="regression", label_names=("fitness",), description=f"GB1 fitness, FLIP{split}")
    return TaskData(task=task, ids=[r.id for r in kept], sequences=[r.sequence for r in kept], labels=y[index],
                    splits=splits[index], notes=notes, source=source)


def _by_id(path: Path) -> dict[str, Record]:
    return {r.id: r for r in read_fasta(path)}


def _ss_split(description: str, source: str, rec: Record) -> str:
    attrs = dict(w.split("=", 1) for w in description.split() if "=" in w)
    if attrs.get("SET") not in ("train", "test"):
        raise InputError("labels header lacks SET=train|test", source=source, line=rec.line, record=rec.id)
    return "valid" if attrs["SET"] == "train" and attrs.get("VALIDATION") == "True" else attrs["SET"]


def load_secondary_structure(
    path: str | Path, *, labels: str | Path | None = None, mask: str | Path | None = None,
    on_invalid: InvalidPolicy = "error",
) -> TaskData:
    """Read FLIP secondary structure: ``path`` is ``sequences.fasta`` or its folder."""
    path = Path(path)
    seq_file = path / "sequences.fasta" if path.is_dir() else path
    label_file = sibling(seq_file, ["sampled.fasta"], "labels FASTA (sampled.fasta)", labels)
    mask_file = sibling(seq_file, ["mask.fasta"], "resolved-residue mask (mask.fasta)", mask)
    records = read_fasta(seq_file)
    lab, msk = _by_id(label_file), _by_id(mask_file)
    kept, _, notes = validate(records, str(seq_file), on_invalid)
    ys, masks, splits = [], [], []
    for rec in kept:
        for table, name in ((lab, label_file), (msk, mask_file)):
            if rec.id not in table:
                raise InputError(f"no entry for this protein in {name.name}", source=str(seq_file), line=rec.line,
                                 record=rec.id)
        y, m = _residue_labels(rec, lab[rec.id], msk[rec.id], label_file, mask_file)
        ys.append(y)
        masks.append(m)
        splits.append(_ss_split(lab[rec.id].description, str(label_file), lab[rec.id]))
    return TaskData(task=SS3, ids=[r.id for r in kept], sequences=[r.sequence for r in kept], labels=ys,
                    masks=masks, splits=np.array(splits, dtype=object), notes=notes, source=str(seq_file))


def _residue_labels(rec: Record, lab: Record, msk: Record, label_file: Path, mask_file: Path):
    n = len(rec.sequence)
    for other, name in ((lab, label_file), (msk, mask_file)):
        if len(other.sequence) != n:
            raise InputError(f"{len(other.sequence)} entries for a {n}-residue protein", source=str(name),
                             line=other.line, record=rec.id)
    codes = np.frombuffer(lab.sequence.encode(), dtype=np.uint8)
    y = np.full(n, -1, dtype=np.int64)
    for k, state in enumerate(b"HEC"):
        y[codes == state] = k
    if (y < 0).any():
        bad = sorted(set(lab.sequence) - set("HEC"))
        raise InputError(f"unknown secondary-structure states {bad}; expected H, E, C", source=str(label_file),
                         line=lab.line, record=rec.id)
    if set(msk.sequence) - {"0", "1"}:
        raise InputError("mask must hold only 0 and 1", source=str(mask_file), line=msk.line, record=rec.id)
    return y, np.frombuffer(msk.sequence.encode(), dtype=np.uint8) == ord("1")
