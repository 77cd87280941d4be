"""Enzyme function (multi-label EC numbers) from DeepFRI's ``nrPDB-EC_*_annot.tsv`` + FASTA.

The annotation file as published::

    ### EC-numbers
    1.4.3.-<TAB>4.2.1.1<TAB>...            (every EC number used, tab-separated)
    ### PDB-chain<TAB>EC-numbers
    4PR3-A<TAB>3.2.2.9,3.2.2.-

Sequences come from a FASTA keyed by the same chain ids (``nrPDB-EC_*_sequences.fasta``); chains
without a sequence are left out (counted). ``level`` (1-4) truncates EC numbers to their first
``level`` fields (``3.2.2.9`` -> ``3.2`` at level 2); an annotation that is unspecified at that
level (``3.2.-.-`` at level 3) is dropped and counted. Without ``level`` the labels are the
published ones, partial numbers such as ``3.2.2.-`` included. The chain lists
``*_{train,valid,test}.txt`` beside the annotation file give the split when they leave
chains with sequences in both train and test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...core.alphabets import InvalidPolicy
from ...core.errors import InputError
from ...core.seqio import open_text, read_fasta
from ._base import Task, TaskData
from ._common import sibling, validate

__all__ = ["ec_at_level", "load_enzyme", "read_ec_annotations"]


def ec_at_level(ec: str, level: int | None) -> str | None:
    """The EC number cut to ``level`` fields; ``None`` when unspecified there."""
    if level is None:
        return ec
    parts = ec.split(".")
    if len(parts) != 4 or not 1 <= level <= 4:
        raise ValueError(f"not an EC number or level: {ec!r}, {level}")
    head = parts[:level]
    return None if "-" in head else ".".join(head)


def read_ec_annotations(path: str | Path) -> tuple[list[str], dict[str, list[str]], dict[str, int]]:
    """Read an annotation file: ``(header EC list, chain -> ECs, chain -> line)``."""
    source = str(path)
    with open_text(path) as fh:
        lines = [line.rstrip("\r\n") for line in fh]
    if len(lines) < 3 or not lines[0].startswith("###") or not lines[2].startswith("###"):
        raise InputError("is not a DeepFRI annotation file ('### EC-numbers' header, label line, "
                         "'### PDB-chain' header expected)", source=source)
    header = [x for x in lines[1].split("\t") if x]
    known = set(header)
    annotations, where = {}, {}
    for lineno, line in enumerate(lines[3:], start=4):
        if not line.strip():
            continue
        chain, _, ecs = line.partition("\t")
        values = [e for e in ecs.split(",") if e]
        unknown = [e for e in values if e not in known]
        if unknown:
            raise InputError(f"EC numbers {unknown} are not in the header's list", source=source, line=lineno,
                             record=chain)
        if chain in annotations:
            raise InputError(f"chain annotated twice (first on line {where[chain]})", source=source,
                             line=lineno, record=chain)
        annotations[chain], where[chain] = values, lineno
    return header, annotations, where


def _own_split(annot: Path, chains: list[str], notes: list[str]) -> np.ndarray | None:
    stem = annot.name.removesuffix(".tsv").removesuffix("_annot")
    lists = {s: annot.with_name(f"{stem}_{s}.txt") for s in ("train", "valid", "test")}
    if not all(p.exists() for p in lists.values()):
        return None
    member = {}
    for split, p in lists.items():
        with open_text(p) as fh:
            member.update({line.strip(): split for line in fh if line.strip()})
    splits = np.array([member.get(c, "train") for c in chains], dtype=object)
    n_train, n_test = int((splits == "train").sum()), int((splits == "test").sum())
    if n_test and n_train >= max(10, 0.2 * len(chains)):
        return splits
    notes.append(f"the split lists beside {annot.name} leave {n_train} training and {n_test} test chain(s) "
                 "with sequences: not used, the records are split afresh")
    return None


def load_enzyme(
    path: str | Path, *, sequences: str | Path | None = None, annotations: str | Path | None = None,
    level: int | None = None, min_count: int = 1, on_invalid: InvalidPolicy = "error",
) -> TaskData:
    """Read EC annotations + sequences. ``path`` is either file (the other is found beside it).

    Labels are kept when at least ``min_count`` of the loaded proteins carry them.
    """
    path = Path(path)
    is_annot = path.suffix == ".tsv" or path.name.endswith("_annot.tsv")
    annot = path if is_annot else sibling(path, ["*EC*_annot.tsv", "*_annot.tsv"], "EC annotation file", annotations)
    fasta = sibling(path, ["*EC*sequences.fasta", "*.fasta"], "sequence FASTA", sequences) if is_annot else path
    header, ann, _ = read_ec_annotations(annot)
    records = read_fasta(fasta)
    with_ann = [r for r in records if r.id in ann]
    notes = []
    if len(with_ann) < len(records):
        notes.append(f"skipped {len(records) - len(with_ann)} sequence(s) without an annotation")
    if len(with_ann) < len(ann):
        notes.append(f"{len(ann) - len(with_ann)} annotated chain(s) have no sequence in {fasta.name}")
    kept, _, vnotes = validate(with_ann, str(fasta), on_invalid)
    labels, dropped = _label_matrix(header, [ann[r.id] for r in kept], level, min_count)
    notes += vnotes + dropped
    name = "enzyme" if level is None else f"enzyme-ec{level}"
    task = Task(name=name, kind="multilabel", label_names=labels[0],
                description="EC numbers (DeepFRI nrPDB-EC)" + (f", level {level}" if level else ""))
    return TaskData(task=task, ids=[r.id for r in kept], sequences=[r.sequence for r in kept], labels=labels[1],
                    splits=_own_split(annot, [r.id for r in kept], notes), notes=notes, source=f"{annot} + {fasta}")


def _label_matrix(header, per_protein, level, min_count):
    unspecified = 0
    cut = []
    for ecs in per_protein:
        mapped = {ec_at_level(e, level) for e in ecs}
        unspecified += None in mapped
        cut.append(sorted(m for m in mapped if m is not None))
    order = list(dict.fromkeys(m for e in header if (m := ec_at_level(e, level)) is not None))
    counts = dict.fromkeys(order, 0)
    for ecs in cut:
        for e in ecs:
            counts[e] += 1
    names = tuple(e for e in order if counts[e] >= min_count)
    col = {e: j for j, e in enumerate(names)}
    y = np.zeros((len(cut), len(names)), dtype=np.uint8)
    for i, ecs in enumerate(cut):
        for e in ecs:
            if e in col:
                y[i, col[e]] = 1
    notes = [f"kept {len(names)} of {len(order)} EC labels with >= {min_count} protein(s)"]
    if unspecified:
        notes.append(f"{unspecified} protein(s) had an annotation unspecified at level {level} (dropped)")
    if not names:
        raise InputError(f"no EC label has >= {min_count} proteins; lower min_count")
    return (names, y), notes
