"""From records to arrays: tasks, train/validation splits and dinucleotide-shuffled negatives.

Single-task is the one-task case of multi-task: labels are ``(N, T)`` with a ``(N, T)`` mask.
A record labelled for TF ``t`` sets task ``t`` only; its other tasks are masked out (unknown), or
count as negatives with ``cross_negatives`` (peaks of one TF are assumed unbound by the others).
A shuffled negative is a negative for every task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from jaxtyping import Float

from ..core.errors import InputError
from ._data import TFData
from ._encoding import N_VALUE, one_hot
from ._shuffle import shuffle_many

__all__ = ["LabelledArrays", "label_arrays", "pick_tasks", "prepare_training", "with_shuffled_negatives"]

VALID_NAMES = ("valid", "validation", "val", "dev")


@dataclass(frozen=True)
class LabelledArrays:
    """Model-ready arrays: ``x`` ``(N, L, 4)``, ``y`` and ``mask`` ``(N, T)``, ``ids`` ``(N,)``."""

    x: Float[np.ndarray, "N L 4"]
    y: Float[np.ndarray, "N T"]
    mask: Float[np.ndarray, "N T"]
    ids: tuple[str, ...]

    def as_batches_dict(self) -> dict[str, np.ndarray]:
        return {"x": self.x, "y": self.y, "mask": self.mask}


def pick_tasks(data: TFData, tf: str | None = None) -> tuple[str, ...]:
    """The tasks of ``data``: ``(tf,)`` when given, else its distinct TF names in file order
    (``("bound",)`` when the file names none)."""
    if tf is not None:
        if any(data.tfs) and tf not in data.tfs:
            raise InputError(f"no records of transcription factor {tf!r}; it has {sorted(set(data.tfs))}",
                             source=data.source)
        return (tf,)
    names = tuple(dict.fromkeys(t for t in data.tfs if t))
    return names or ("bound",)


def with_shuffled_negatives(data: TFData, seed: int, *, tfs: tuple[str, ...] | None = None) -> TFData:
    """``data`` plus one dinucleotide-shuffled negative (id ``<id>_shuf``, label 0, no TF: a negative
    for every task) per record -- or only per record of the TFs in ``tfs``."""
    source = np.arange(len(data)) if tfs is None else np.flatnonzero(np.isin(np.asarray(data.tfs), tfs))
    negatives = shuffle_many([data.sequences[i] for i in source], seed)
    n, k = len(data), len(source)
    labels = np.concatenate([np.ones(n, np.float32) if data.labels is None else data.labels, np.zeros(k, np.float32)])
    return TFData(
        data.ids + tuple(f"{data.ids[i]}_shuf" for i in source), data.sequences + tuple(negatives), labels,
        data.tfs + ("",) * k, data.subsets + tuple(data.subsets[i] for i in source), data.source, data.report,
    )


def _positive_only_tfs(data: TFData) -> tuple[str, ...] | None:
    """The TFs whose records are all labelled 1 (``None`` = the whole file, when it names no TF)."""
    if data.labels is None:
        return ()
    if not any(data.tfs):
        return None if data.only_positives else ()
    tfs = np.asarray(data.tfs)
    return tuple(t for t in dict.fromkeys(data.tfs) if np.all(data.labels[tfs == t] == 1))


def label_arrays(data: TFData, tasks: tuple[str, ...], *, cross_negatives: bool = False,
                 n_value: float = N_VALUE) -> LabelledArrays:
    """One-hot ``x`` and ``(N, T)`` labels/mask; a record with an empty TF is a negative for all tasks
    when labelled 0, and belongs to the only task of a single-task model."""
    if data.labels is None or np.isnan(data.labels).any():
        first = 0 if data.labels is None else int(np.flatnonzero(np.isnan(data.labels))[0])
        raise InputError("has no label; training and evaluation need a 0/1 label on every record",
                         source=data.source, record=data.ids[first])
    n, t = len(data), len(tasks)
    y, mask = np.zeros((n, t), np.float32), np.zeros((n, t), np.float32)
    index = {name: i for i, name in enumerate(tasks)}
    for i, (tf, label) in enumerate(zip(data.tfs, data.labels, strict=True)):
        if t == 1 or (not tf and label == 0):
            y[i], mask[i] = label, 1.0
        elif tf in index:
            y[i, index[tf]], mask[i, index[tf]] = label, 1.0
            if cross_negatives:
                mask[i] = 1.0
        else:
            raise InputError(f"transcription factor {tf!r} is not one of the model's tasks {list(tasks)}",
                             source=data.source, record=data.ids[i])
    x = one_hot(data.sequences, ids=data.ids, source=data.source, n_value=n_value)
    return LabelledArrays(x, y, mask, data.ids)


def _split(data: TFData, val_fraction: float, seed: int,
           max_validation: int | None = None) -> tuple[TFData, TFData, str]:
    subsets = np.asarray(data.subsets)
    if (subsets == "test").any():  # test rows are never trained or validated on
        data = data.take(np.flatnonzero(subsets != "test"))
        subsets = np.asarray(data.subsets)
        if not len(data):
            raise InputError("holds only 'test' subset records: nothing to train on", source=data.source)
    if (subsets == "train").any():
        train = np.flatnonzero(subsets == "train")
        val = np.flatnonzero(np.isin(subsets, VALID_NAMES))
        if len(val):
            return data.take(train), data.take(val), "the file's train/valid subsets"
        data = data.take(train)
    order = np.random.default_rng(seed).permutation(len(data))
    n_val = max(1, round(val_fraction * len(data)))
    capped = max_validation is not None and n_val > max_validation
    n_val = min(n_val, max_validation) if capped else n_val
    if len(data) - n_val < 1:
        raise InputError(f"too few records ({len(data)}) to carve a validation split", source=data.source)
    how = (f"a seeded random {n_val} records (the {val_fraction:.0%} capped at {max_validation}; seed {seed})"
           if capped else f"a seeded random {val_fraction:.0%} of the records (seed {seed})")
    return data.take(np.sort(order[n_val:])), data.take(np.sort(order[:n_val])), how


def prepare_training(data: TFData, tasks: tuple[str, ...], *, val_fraction: float = 0.1, seed: int = 0,
                     cross_negatives: bool = False, max_validation: int | None = None,
                     ) -> tuple[LabelledArrays, LabelledArrays, dict[str, Any]]:
    """Split ``data`` (subsets from the file, else a seeded random ``val_fraction``, at most
    ``max_validation`` records: validation is a cost paid at every evaluation), then, for every
    TF whose records are all positives (a DeepBind ``_AC`` file), add one dinucleotide-shuffled
    negative per record *within* each split (a negative never shares its source with the other
    split). Returns train, validation and a summary."""
    if len(tasks) == 1 and any(data.tfs) and tasks[0] in data.tfs:
        keep = np.flatnonzero(np.asarray(data.tfs) == tasks[0])
        data = data.take(keep) if len(keep) < len(data) else data
    needy = _positive_only_tfs(data)
    train, val, how = _split(data, val_fraction, seed, max_validation)
    if needy != ():
        train = with_shuffled_negatives(train, seed, tfs=needy)
        val = with_shuffled_negatives(val, seed + 1, tfs=needy)
    which = "" if not needy else f" of {', '.join(needy)}"
    summary = {
        "tasks": list(tasks), "split": how, "train_records": len(train), "validation_records": len(val),
        "negatives": f"one dinucleotide shuffle per positive{which} (Altschul-Erickson), per split" if needy != ()
        else "from the file's labels",
        "cross_negatives": cross_negatives,
    }
    arrays = [label_arrays(part, tasks, cross_negatives=cross_negatives) for part in (train, val)]
    return arrays[0], arrays[1], summary
