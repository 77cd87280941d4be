"""Subcellular localization from DeepLoc 1.0 FASTA headers: ``>ACCESSION Location-M|S|U [test]``.

Two tasks from one file:

* ``localization``: 10-class location. A header whose location is not one of the ten (DeepLoc's
  dual ``Cytoplasm-Nucleus``) is skipped and counted.
* ``membrane``: membrane-bound (M) vs soluble (S); proteins marked U (unknown) are skipped and counted.

A header ending in ``test`` puts the protein in the test split; the others are training data.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from ...core.alphabets import InvalidPolicy
from ...core.errors import InputError
from ...core.seqio import read_fasta
from ._base import Task, TaskData
from ._common import validate

__all__ = ["LOCALIZATION", "LOCATIONS", "MEMBRANE", "is_deeploc_fasta", "load_deeploc", "parse_header"]

LOCATIONS = (
    "Cell.membrane", "Cytoplasm", "Endoplasmic.reticulum", "Extracellular", "Golgi.apparatus",
    "Lysosome/Vacuole", "Mitochondrion", "Nucleus", "Peroxisome", "Plastid",
)
LOCALIZATION = Task(name="localization", kind="multiclass", label_names=LOCATIONS,
                    description="subcellular location, 10 classes (DeepLoc)")
MEMBRANE = Task(name="membrane", kind="binary", label_names=("soluble", "membrane"),
                description="membrane-bound vs soluble (DeepLoc)")


def parse_header(description: str, *, source: str, line: int, record: str) -> tuple[str, str, bool]:
    """``'Cell.membrane-M test'`` -> ``('Cell.membrane', 'M', True)``."""
    words = description.split()
    if not words or "-" not in words[0]:
        raise InputError("header is not DeepLoc's '>ACCESSION Location-M|S|U [test]'", source=source,
                         line=line, record=record)
    location, _, membrane = words[0].rpartition("-")
    if membrane not in ("M", "S", "U"):
        raise InputError(f"membrane flag {membrane!r} is not M, S or U", source=source, line=line, record=record)
    extra = words[1:]
    if extra not in ([], ["test"]):
        raise InputError(f"unexpected header words {extra}; only 'test' may follow the location",
                         source=source, line=line, record=record)
    return location, membrane, bool(extra)


def load_deeploc(path: str | Path, *, task: str = "localization", on_invalid: InvalidPolicy = "error") -> TaskData:
    """Read a DeepLoc FASTA for the ``localization`` or ``membrane`` task."""
    if task not in ("localization", "membrane"):
        raise ValueError(f"task must be localization or membrane, got {task!r}")
    source = str(path)
    records = read_fasta(path)
    parsed = [parse_header(r.description, source=source, line=r.line, record=r.id) for r in records]
    skipped: Counter[str] = Counter()
    keep, labels = [], []
    for i, (location, membrane, _) in enumerate(parsed):
        if task == "membrane":
            if membrane == "U":
                skipped["marked U (membrane association unknown)"] += 1
                continue
            labels.append(int(membrane == "M"))
        else:
            if location not in LOCATIONS:
                skipped[f"location {location!r} is not one of the 10"] += 1
                continue
            labels.append(LOCATIONS.index(location))
        keep.append(i)
    notes = [f"skipped {n} record(s): {why}" for why, n in skipped.items()]
    kept, index, vnotes = validate([records[i] for i in keep], source, on_invalid)
    splits = np.array(["test" if parsed[keep[i]][2] else "train" for i in index], dtype=object)
    return TaskData(
        task=LOCALIZATION if task == "localization" else MEMBRANE,
        ids=[r.id for r in kept], sequences=[r.sequence for r in kept],
        labels=np.asarray(labels, dtype=np.int64)[index],
        splits=splits if (splits == "test").any() else None, notes=notes + vnotes, source=source,
    )


def is_deeploc_fasta(path: str | Path, *, headers: int = 20) -> bool:
    """Whether the first ``headers`` FASTA headers of ``path`` all read ``>ID Location-M|S|U [test]``
    with one of DeepLoc's locations (so ``--task auto`` can pick the ``localization`` loader)."""
    seen = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.startswith(">"):
                    continue
                words = line[1:].split()
                location, _, flag = words[1].rpartition("-") if len(words) > 1 else ("", "", "")
                known = bool(location) and all(part in LOCATIONS for part in location.split("-"))  # Cytoplasm-Nucleus
                if not known or flag not in ("M", "S", "U") or words[2:] not in ([], ["test"]):
                    return False
                seen += 1
                if seen >= headers:
                    break
    except OSError:
        return False
    return seen > 0
