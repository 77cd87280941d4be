"""Any labelled CSV/TSV or FASTA: a sequence column and one or more label columns.

* CSV/TSV: the sequence column as in ``biolens embed``; label column(s) named, or the first of
  ``label, labels, target, y, class`` present (or the only other column). A ``split``/``set``
  column (train/valid/test) is used as the dataset's own split.
* FASTA: the label is ``KEY=value`` in the header when ``label_column`` is ``KEY``, else the
  first word after the id (``>P12345 soluble``).

The kind is given or inferred: several 0/1 columns or ``;``-separated lists -> multilabel; numbers
with more than two values -> regression; two values -> binary; otherwise multiclass.
Empty/NaN labels are an error naming the line (or skipped and counted with ``on_missing="skip"``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...core.alphabets import InvalidPolicy
from ...core.errors import InputError
from ...core.seqio import Record, read_sequences
from ._base import Task, TaskData, encode_labels
from ._common import parse_float, split_names, validate
from ._kinds import TASK_KINDS, task_kind

__all__ = ["infer_kind", "load_table"]

_LABEL_COLUMNS = ("label", "labels", "target", "y", "class")
_SPLIT_COLUMNS = ("split", "set")
_MISSING = {"", "nan", "na", "n/a", "none", "null"}
_LIST_SEP = re.compile(r"[;|]")


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def infer_kind(columns: Sequence[Sequence[str]]) -> str:
    """The task kind implied by the label values (one sequence of strings per column)."""
    if len(columns) > 1:
        return "multilabel"
    values = [v.strip() for v in columns[0]]
    if any(_LIST_SEP.search(v) for v in values):
        return "multilabel"
    distinct = set(values)
    if all(_is_number(v) for v in distinct):
        return "binary" if len({float(v) for v in distinct}) <= 2 else "regression"
    return "binary" if len(distinct) == 2 else "multiclass"


def _fasta_labels(records: Sequence[Record], key: str | None, source: str) -> dict[str, list[str]]:
    values = []
    for r in records:
        if key is None:
            words = r.description.split()
            values.append(words[0] if words else "")
        else:
            attrs = dict(w.split("=", 1) for w in r.description.split() if "=" in w)
            values.append(attrs.get(key, ""))
    return {key or "label": values}


def _table_labels(records: Sequence[Record], wanted: Sequence[str] | None, source: str) -> dict[str, list[str]]:
    columns = list(records[0].fields)
    if wanted:
        missing = [c for c in wanted if c not in columns]
        if missing:
            raise InputError(f"has no label column(s) {missing}; its columns are {columns}", source=source)
        names = list(wanted)
    else:
        found = [c for c in columns if c.lower() in _LABEL_COLUMNS]
        others = [c for c in columns if c.lower() not in _SPLIT_COLUMNS]
        names = found[:1] or (others if len(others) == 1 else [])
        if not names:
            raise InputError(f"which column holds the labels? none is named {list(_LABEL_COLUMNS)}; its columns are "
                             f"{columns}. Name it with --label-column", source=source)
    return {c: [str(r.fields[c]).strip() for r in records] for c in names}


def load_table(
    path: str | Path, *, kind: str | None = None, label_columns: Sequence[str] | None = None,
    label_names: Sequence[str] | None = None, sequence_column: str | None = None, id_column: str | None = None,
    name: str | None = None, on_missing: str = "error", on_invalid: InvalidPolicy = "error",
) -> TaskData:
    """Read a labelled CSV/TSV/FASTA (see the module docstring)."""
    source = str(path)
    table_kinds = [k for k, spec in TASK_KINDS.items() if not spec.per_residue]  # one label per record
    if kind is not None and kind not in table_kinds:
        raise InputError(f"kind must be one of {table_kinds} for a table (got {kind!r})")
    records = read_sequences(path, sequence_column=sequence_column, id_column=id_column)
    is_fasta = not records[0].fields
    if is_fasta:
        key = label_columns[0] if label_columns else None
        columns = _fasta_labels(records, key, source)
    else:
        columns = _table_labels(records, label_columns, source)
    records, columns, notes = _drop_missing(records, columns, on_missing, source)
    if kind is None:
        kind = infer_kind(list(columns.values()))
        notes.append(_inferred_note(kind, columns))
    task_name = name or Path(path).name.split(".")[0]
    task, labels = _build(kind, task_name, columns, label_names, records, source)
    split_col = None if is_fasta else next((c for c in records[0].fields if c.lower() in _SPLIT_COLUMNS), None)
    splits = np.array(split_names([r.fields[split_col] for r in records], source), dtype=object) if split_col else None
    kept, index, vnotes = validate(records, source, on_invalid)
    return TaskData(task=task, ids=[r.id for r in kept], sequences=[r.sequence for r in kept], labels=labels[index],
                    splits=None if splits is None else splits[index], notes=notes + vnotes, source=source)


#: Classes this small next to a class 20x larger look like stray labels (a typo, a "maybe").
RARE_CLASS = 2


def _inferred_note(kind: str, columns: dict[str, list[str]]) -> str:
    """The note for an inferred kind: the label counts, and classes that look like stray labels."""
    if kind not in ("binary", "multiclass"):
        return f"task kind inferred: {kind} (pass --task to state it)"
    counts = sorted(Counter(v.strip() for v in next(iter(columns.values()))).items())
    shown = ", ".join(f"{v!r}: {c}" for v, c in counts)
    note = f"task kind inferred: {kind} from {len(counts)} label values ({shown})"
    most = max(c for _, c in counts)
    rare = [v for v, c in counts if c <= RARE_CLASS and most >= 20 * c]
    if rare:
        note += (f"; WARNING: {rare} occur at most {RARE_CLASS} times -- stray labels? pass --task binary to "
                 "refuse anything but two values, or fix the file")
    return note


def _drop_missing(records, columns, on_missing, source):
    if on_missing not in ("error", "skip"):
        raise InputError(f"on_missing must be error or skip, got {on_missing!r}")
    bad = [i for i in range(len(records)) if any(col[i].lower() in _MISSING for col in columns.values())]
    if not bad:
        return records, columns, []
    if on_missing == "error":
        i = bad[0]
        col = next(c for c, v in columns.items() if v[i].lower() in _MISSING)
        raise InputError(f"missing label ({columns[col][i]!r}) in column {col!r}; {len(bad)} record(s) lack a label "
                         "-- remove them or pass --on-missing skip", source=source, line=records[i].line,
                         record=records[i].id)
    keep = [i for i in range(len(records)) if i not in set(bad)]
    return ([records[i] for i in keep], {c: [v[i] for i in keep] for c, v in columns.items()},
            [f"skipped {len(bad)} record(s) without a label"])


def _build(kind, name, columns, label_names, records, source):
    lines, ids = [r.line for r in records], [r.id for r in records]
    col, values = next(iter(columns.items()))
    spec = task_kind(kind)
    if not spec.classification:
        if len(columns) > 1:
            raise InputError("regression takes one label column", source=source)
        y = np.array([parse_float(v, source=source, line=ln, record=i, column=col) for v, ln, i in zip(values, lines, ids, strict=True)])
        return Task(name=name, kind=kind, label_names=(col,)), y
    if spec.label_columns:
        return _multilabel(name, columns, label_names, lines, ids, source)
    names = tuple(label_names) if label_names else _class_order(values)
    if spec.label_count is not None and len(names) != spec.label_count:
        raise InputError(f"a {kind} task needs {'two' if spec.label_count == 2 else spec.label_count} label values; "
                         f"column {col!r} has {list(names)[:10]}", source=source)
    y = encode_labels(values, names, source=source, lines=lines, column=col, records=ids)
    return Task(name=name, kind=kind, label_names=names), y


def _class_order(values: Sequence[str]) -> tuple[str, ...]:
    distinct = set(values)
    if all(_is_number(v) for v in distinct):
        return tuple(sorted(distinct, key=float))
    return tuple(sorted(distinct))


def _multilabel(name, columns, label_names, lines, ids, source):
    if len(columns) > 1:
        for col, values in columns.items():
            bad = next((i for i, v in enumerate(values) if v not in ("0", "1")), None)
            if bad is not None:
                raise InputError(f"multi-label column {col!r} holds {values[bad]!r}; use 0/1", source=source,
                                 line=lines[bad], record=ids[bad])
        y = np.stack([np.array(v) == "1" for v in columns.values()], axis=1).astype(np.uint8)
        return Task(name=name, kind="multilabel", label_names=tuple(columns)), y
    col, values = next(iter(columns.items()))
    lists = [[x.strip() for x in _LIST_SEP.split(v) if x.strip()] for v in values]
    names = tuple(label_names) if label_names else tuple(sorted({x for xs in lists for x in xs}))
    index = {n: j for j, n in enumerate(names)}
    y = np.zeros((len(lists), len(names)), dtype=np.uint8)
    for i, xs in enumerate(lists):
        for x in xs:
            if x not in index:
                raise InputError(f"unknown label {x!r} in column {col!r}; allowed: {list(names)[:20]}", source=source,
                                 line=lines[i], record=ids[i])
            y[i, index[x]] = 1
    return Task(name=name, kind="multilabel", label_names=names), y
