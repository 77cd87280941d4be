"""Tasks and loaders for the public formats; :func:`load_task` picks the loader by task name.

=====================  ==========================================  ===============================
task                   reads                                       options
=====================  ==========================================  ===============================
solubility             HF/DeepSol CSV ``sequences,labels``;        --
                       DeepSol ``*_src``/``*_tgt``
localization           DeepLoc FASTA (10 locations)                --
membrane               DeepLoc FASTA (M vs S; U skipped)           --
enzyme                 DeepFRI ``*_annot.tsv`` + FASTA             ``level``, ``min_count``
go                     CAFA ``train_terms.tsv`` + FASTA (+ obo)    ``aspect``, ``taxon``,
                                                                   ``min_count``, ``propagate``
gb1                    FLIP GB1 split CSV                          --
secondary-structure    FLIP ``sequences/sampled/mask.fasta``       --
binary, multiclass,    any CSV/TSV/FASTA with labels               ``label_columns``...
multilabel, regression
auto                   the same, kind inferred from the labels
=====================  ==========================================  ===============================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ...core.errors import InputError
from ._base import KINDS as KINDS
from ._base import SPLIT_NAMES as SPLIT_NAMES
from ._base import Task as Task
from ._base import TaskData as TaskData
from ._deeploc import is_deeploc_fasta as is_deeploc_fasta
from ._deeploc import load_deeploc as load_deeploc
from ._enzyme import ec_at_level as ec_at_level
from ._enzyme import load_enzyme as load_enzyme
from ._flip import load_gb1 as load_gb1
from ._flip import load_secondary_structure as load_secondary_structure
from ._generic import infer_kind as infer_kind
from ._generic import load_table as load_table
from ._go import load_go as load_go
from ._kinds import TASK_KINDS as TASK_KINDS
from ._kinds import TaskKind as TaskKind
from ._kinds import register_kind as register_kind
from ._kinds import task_kind as task_kind
from ._solubility import load_solubility as load_solubility

__all__ = ["KINDS", "SPLIT_NAMES", "TABLE_TASKS", "TASK_KINDS", "TASK_NAMES", "Task", "TaskData", "TaskKind", "combine",
           "ec_at_level", "infer_kind", "is_deeploc_fasta", "load_deeploc", "load_enzyme", "load_gb1", "load_go",
           "load_secondary_structure", "load_solubility", "load_table", "load_task", "register_kind", "task_kind"]

_LOADERS: dict[str, Callable[..., TaskData]] = {
    "solubility": load_solubility,
    "localization": lambda path, **kw: load_deeploc(path, task="localization", **kw),
    "membrane": lambda path, **kw: load_deeploc(path, task="membrane", **kw),
    "enzyme": load_enzyme,
    "go": load_go,
    "gb1": load_gb1,
    "secondary-structure": load_secondary_structure,
}
#: Generic table tasks: one per kind with one label per protein, and ``auto`` (kind from the labels).
TABLE_TASKS: tuple[str, ...] = (*(k for k, spec in TASK_KINDS.items() if not spec.per_residue), "auto")
for _kind in TABLE_TASKS[:-1]:
    _LOADERS[_kind] = partial(load_table, kind=_kind)
_LOADERS["auto"] = load_table
TASK_NAMES: tuple[str, ...] = tuple(_LOADERS)


def load_task(name: str, path: str | Path, **options: Any) -> TaskData:
    """Load ``path`` (a file, or ``sample:NAME`` for a shipped sample) for task ``name`` (see
    the table above); ``options`` go to the loader. ``auto`` on a DeepLoc FASTA (``>ID
    Location-M|S|U``) loads the ``localization`` task, with a note saying so."""
    from ...data import resolve_input

    if name not in _LOADERS:
        raise InputError(f"unknown task {name!r}; choose from {list(TASK_NAMES)}")
    path = resolve_input(path)
    if name == "auto" and is_deeploc_fasta(path):  # its labels are not classes: Location-M/S/U
        data = _LOADERS["localization"](path, **({"on_invalid": options["on_invalid"]} if options.get("on_invalid") else {}))
        return replace(data, notes=["DeepLoc FASTA headers (>ID Location-M|S|U): task localization "
                                    "(--task membrane for membrane vs soluble)", *data.notes])
    try:
        return _LOADERS[name](path, **{k: v for k, v in options.items() if v is not None})
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise InputError(f"task {name}: {exc}".replace("load_", "loader ")) from None
        raise


def combine(train: TaskData, test: TaskData) -> TaskData:
    """One dataset from a training file and a separate test file (e.g. DeepLoc val + test).

    The training file's own train/valid assignment is kept (its test records join training);
    every record of ``test`` is a test record. Tasks must agree (kind and label names).
    """
    if (train.task.kind, train.task.label_names) != (test.task.kind, test.task.label_names):
        raise InputError(f"the test file's task ({test.task.kind}, {len(test.task.label_names)} labels) differs "
                         f"from the training file's ({train.task.kind}, {len(train.task.label_names)} labels)",
                         source=test.source)
    first = train.splits if train.splits is not None else np.full(len(train), "train", dtype=object)
    first = np.where(first == "test", "train", first)
    labels = (train.labels + test.labels) if isinstance(train.labels, list) else np.concatenate([train.labels, test.labels])
    masks = None if train.masks is None else train.masks + (test.masks or [])
    notes = train.notes + [f"test file: {n}" for n in test.notes]
    return replace(train, ids=train.ids + test.ids, sequences=train.sequences + test.sequences, labels=labels,
                   masks=masks, splits=np.concatenate([first, np.full(len(test), "test", dtype=object)]),
                   notes=notes, source=f"{train.source} + test {test.source}")
