"""Helpers shared by the loaders: validation with a counted policy, sibling files, numbers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from ...core.alphabets import PROTEIN, InvalidPolicy, validate_records
from ...core.errors import InputError
from ...core.seqio import Record

__all__ = ["parse_float", "sibling", "split_names", "validate"]


def validate(records: Sequence[Record], source: str, on_invalid: InvalidPolicy) -> tuple[list[Record], list[int], list[str]]:
    """Validate protein records under the shared policy.

    Returns the kept records (cleaned), their positions in ``records`` and summary lines.
    """
    kept, report = validate_records(records, PROTEIN, on_invalid, source=source)
    index, j = [], 0
    for i, rec in enumerate(records):  # kept is an ordered subsequence of records
        if j < len(kept) and kept[j].id == rec.id and kept[j].line == rec.line:
            index.append(i)
            j += 1
    notes = [line for line in report.lines() if not line.startswith("records read")]
    return kept, index, notes


def sibling(path: Path, candidates: Sequence[str], what: str, given: str | Path | None = None) -> Path:
    """``given`` if set, else the first existing file named in ``candidates`` beside ``path``."""
    if given is not None:
        given = Path(given)
        if not given.exists():
            raise InputError(f"{what} not found", source=str(given))
        return given
    folder = path if path.is_dir() else path.parent
    for name in candidates:
        hits = sorted(folder.glob(name))
        if hits:
            return hits[0]
    raise InputError(f"cannot find the {what} beside it (looked for {list(candidates)}); pass its path",
                     source=str(path))


def parse_float(text: str, *, source: str, line: int, record: str, column: str) -> float:
    """A finite float, or an error naming the line (NaN/empty targets are refused, not dropped)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"{column} {text!r} is not a number", source=source, line=line, record=record) from None
    if not math.isfinite(value):
        raise InputError(f"{column} is {text!r}; remove the record or give it a finite value",
                         source=source, line=line, record=record)
    return value


_SPLIT_ALIAS = {"train": "train", "training": "train", "valid": "valid", "validation": "valid", "val": "valid",
                "test": "test", "testing": "test"}


def split_names(values: Sequence[str], source: str) -> list[str]:
    """Normalise split names (``training``/``val``/``validation``...) to train/valid/test."""
    bad = sorted({v for v in values if v.strip().lower() not in _SPLIT_ALIAS})
    if bad:
        raise InputError(f"unknown split values {bad[:5]}; use train, valid or test", source=source)
    return [_SPLIT_ALIAS[v.strip().lower()] for v in values]
