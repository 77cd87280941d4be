"""The task contract: what is predicted (:class:`Task`) and the labelled records (:class:`TaskData`).

Label arrays by kind: ``TaskKind.labels`` in the table of task kinds (:mod:`._kinds`).

``splits`` is the dataset's own assignment (``train``/``valid``/``test`` per record) or ``None``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ...core.errors import InputError
from ._kinds import TASK_KINDS, TaskKind, task_kind

__all__ = ["KINDS", "SPLIT_NAMES", "Kind", "Task", "TaskData", "encode_labels"]

Kind = Literal["binary", "multiclass", "multilabel", "regression", "per_residue"]
#: The registered kinds (:data:`~._kinds.TASK_KINDS`), in registration order.
KINDS: tuple[str, ...] = tuple(TASK_KINDS)
SPLIT_NAMES: tuple[str, ...] = ("train", "valid", "test")


@dataclass(frozen=True, kw_only=True)
class Task:
    """What a model predicts.

    Attributes:
        name: the task's name (``solubility``, ``localization``, ``go``...).
        kind: one of :data:`KINDS`.
        label_names: class names, label ids, or the regression target's name.
        description: one line for reports.
    """

    name: str
    kind: Kind
    label_names: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        self.spec.check_names(self.label_names)
        if len(set(self.label_names)) != len(self.label_names):
            raise InputError(f"task {self.name}: repeated label names in {list(self.label_names)}")

    @property
    def spec(self) -> TaskKind:
        """The kind's entry in the table of task kinds (loss, transform, metrics, ...)."""
        return task_kind(self.kind)

    @property
    def n_outputs(self) -> int:
        """Width of the model's output: 1 for binary and regression, else one per label/class."""
        return self.spec.n_outputs(len(self.label_names))

    @property
    def classification(self) -> bool:
        return self.spec.classification

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "label_names": list(self.label_names),
                "description": self.description}

    @classmethod
    def from_json(cls, data: dict) -> Task:
        return cls(name=data["name"], kind=data["kind"], label_names=tuple(data["label_names"]),
                   description=data.get("description", ""))


@dataclass
class TaskData:
    """Labelled records of one task, as read from a public file.

    Attributes:
        task: the :class:`Task`.
        ids: record ids (unique).
        sequences: validated upper-case protein sequences.
        labels: see the module docstring.
        masks: per-residue tasks: ``True`` where a residue's label is scored (resolved), else ``None``.
        splits: the dataset's own split per record, or ``None``.
        notes: what the loader did (records skipped and why, counted), for the run summary.
        source: the file(s) read.
    """

    task: Task
    ids: list[str]
    sequences: list[str]
    labels: np.ndarray | list[np.ndarray]
    masks: list[np.ndarray] | None = None
    splits: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(self.sequences) != n or len(self.labels) != n:
            raise ValueError("ids, sequences and labels differ in length")
        if n == 0:
            raise InputError("no labelled records left to use", source=self.source or None)
        dup = [k for k, v in Counter(self.ids).items() if v > 1]
        if dup:
            raise InputError(f"duplicate record ids, e.g. {dup[:3]}; ids must be unique", source=self.source or None)
        if self.splits is not None:
            self.splits = np.asarray(self.splits, dtype=object)
            bad = sorted(set(self.splits) - set(SPLIT_NAMES))
            if bad:
                raise InputError(f"unknown split names {bad}; use {list(SPLIT_NAMES)}", source=self.source or None)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index: Sequence[int] | np.ndarray) -> TaskData:
        """The records at ``index`` (same task, notes and source)."""
        index = np.asarray(index, dtype=int)
        def pick(xs):
            return ([xs[i] for i in index])
        labels = pick(self.labels) if isinstance(self.labels, list) else self.labels[index]
        return TaskData(
            task=self.task, ids=pick(self.ids), sequences=pick(self.sequences), labels=labels,
            masks=pick(self.masks) if self.masks is not None else None,
            splits=self.splits[index] if self.splits is not None else None,
            notes=list(self.notes), source=self.source,
        )

    def label_summary(self) -> str:
        """One line: class counts, label count or target range."""
        return self.task.spec.summary(self.labels, self.task.label_names)


def encode_labels(
    values: Sequence[str], names: Sequence[str], *, source: str, lines: Sequence[int] | None = None,
    column: str = "label", records: Sequence[str] | None = None,
) -> np.ndarray:
    """Map label strings to class indices of ``names``; an unknown value is an error naming the
    line, the record and the allowed values (a typo must not become a new class)."""
    index = {name: i for i, name in enumerate(names)}
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if value not in index:
            raise InputError(
                f"unknown value {value!r} in column {column!r}; allowed: {list(names)}", source=source,
                line=lines[i] if lines is not None else None, record=records[i] if records is not None else None,
            )
        out[i] = index[value]
    return out
