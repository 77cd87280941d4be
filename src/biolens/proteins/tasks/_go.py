"""Gene Ontology function (multi-label) from the CAFA files, as published for CAFA 5:

* ``train_terms.tsv``: ``EntryID<TAB>term<TAB>aspect`` (aspect ``MFO``, ``BPO`` or ``CCO``);
* ``train_sequences.fasta``: ``>EntryID ...``;
* ``train_taxonomy.tsv``: ``EntryID<TAB>taxonomyID`` (needed only to filter by taxon);
* ``go-basic.obo``: the ontology, read with ``pronto`` (extra ``go``), needed only to propagate.

Steps: keep one aspect (and taxa), optionally propagate each protein's terms to all their
ancestors (``is_a`` and ``part_of``), drop the three uninformative roots, keep terms carried by
at least ``min_count`` proteins, and drop proteins left without a term (unannotated in that
aspect is unknown, not negative). Every drop is counted in the notes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from ...core.alphabets import InvalidPolicy
from ...core.errors import InputError
from ...core.extras import require
from ...core.seqio import open_text, read_fasta
from ._base import Task, TaskData
from ._common import sibling, validate

__all__ = ["ASPECTS", "ROOTS", "ancestors_map", "load_go", "read_terms"]

ASPECTS = {"MFO": "molecular_function", "BPO": "biological_process", "CCO": "cellular_component"}
_ASPECT_ALIAS = {"MFO": "MFO", "MF": "MFO", "F": "MFO", "BPO": "BPO", "BP": "BPO", "P": "BPO",
                 "CCO": "CCO", "CC": "CCO", "C": "CCO"}
#: molecular_function, biological_process, cellular_component: every protein of the aspect has them.
ROOTS = frozenset({"GO:0003674", "GO:0008150", "GO:0005575"})


def _tsv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    with open_text(path) as fh:
        lines = [line.rstrip("\r\n") for line in fh]
    if not lines or lines[0].split("\t")[: len(columns)] != list(columns):
        raise InputError(f"expected a header starting {'<TAB>'.join(columns)}", source=str(path), line=1)
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        if line.strip():
            cells = line.split("\t")
            if len(cells) < len(columns):
                raise InputError(f"expected {len(columns)} tab-separated columns", source=str(path), line=lineno)
            rows.append((lineno, cells))
    return rows


def read_terms(path: str | Path, aspect: str) -> dict[str, set[str]]:
    """``EntryID -> {GO terms}`` of one aspect from ``train_terms.tsv``."""
    out: dict[str, set[str]] = defaultdict(set)
    for lineno, (entry, term, asp, *_) in _tsv(Path(path), ("EntryID", "term", "aspect")):
        if asp not in ASPECTS:
            raise InputError(f"unknown aspect {asp!r}; CAFA uses {sorted(ASPECTS)}", source=str(path), line=lineno)
        if not term.startswith("GO:"):
            raise InputError(f"{term!r} is not a GO id", source=str(path), line=lineno, record=entry)
        if asp == aspect:
            out[entry].add(term)
    return dict(out)


def ancestors_map(obo: str | Path, terms: set[str]) -> tuple[dict[str, set[str]], set[str]]:
    """For each term, itself and all its ancestors over ``is_a`` and ``part_of`` (using pronto).

    Returns ``(term -> ancestors, terms not found in the ontology)``.
    """
    pronto = require("pronto", extra="go", purpose="reading go-basic.obo to propagate GO terms")
    ontology = pronto.Ontology(str(obo))
    try:
        part_of = ontology.get_relationship("part_of")
    except KeyError:
        part_of = None
    cache: dict[str, set[str]] = {}

    def up(term_id: str) -> set[str]:
        if term_id in cache:
            return cache[term_id]
        term = ontology[term_id]
        parents = {t.id for t in term.superclasses(distance=1, with_self=False)}
        if part_of is not None:
            parents |= {t.id for t in term.relationships.get(part_of, ())}
        cache[term_id] = {term_id}.union(*(up(p) for p in parents)) if parents else {term_id}
        return cache[term_id]

    out, missing = {}, set()
    for t in terms:
        if t in ontology:
            out[t] = up(ontology[t].id)
        else:
            missing.add(t)
    return out, missing


def _taxa(path: Path, taxon: tuple[int, ...]) -> set[str]:
    keep = {str(t) for t in taxon}
    return {cells[0] for _, cells in _tsv(path, ("EntryID", "taxonomyID")) if cells[1].strip() in keep}


def load_go(
    path: str | Path, *, aspect: str = "MFO", taxon: int | tuple[int, ...] | None = None, min_count: int = 10,
    propagate: bool = False, obo: str | Path | None = None, sequences: str | Path | None = None,
    taxonomy: str | Path | None = None, on_invalid: InvalidPolicy = "error",
) -> TaskData:
    """Read CAFA GO files. ``path`` is ``train_terms.tsv`` or the folder holding the four files."""
    path = Path(path)
    asp = _ASPECT_ALIAS.get(aspect.upper())
    if asp is None:
        raise InputError(f"unknown GO aspect {aspect!r}; use MFO, BPO or CCO")
    terms_file = path / "train_terms.tsv" if path.is_dir() else path
    terms = read_terms(terms_file, asp)
    notes = [f"{len(terms)} protein(s) annotated in {asp}"]
    if taxon is not None:
        taxa = (taxon,) if isinstance(taxon, int) else tuple(taxon)
        allowed = _taxa(sibling(terms_file, ["train_taxonomy.tsv", "*taxonomy*.tsv"], "taxonomy file", taxonomy), taxa)
        notes.append(f"kept {sum(e in allowed for e in terms)} of them from taxa {list(taxa)}")
        terms = {e: t for e, t in terms.items() if e in allowed}
    if propagate:
        terms, more = _propagate(terms, sibling(terms_file, ["go-basic.obo", "*.obo"], "GO ontology (.obo)", obo))
        notes += more
    terms, more = _filter_terms(terms, min_count)
    notes += more
    fasta = sibling(terms_file, ["train_sequences.fasta", "*.fasta"], "sequence FASTA", sequences)
    records = [r for r in read_fasta(fasta) if r.id in terms]
    if len(records) < len(terms):
        notes.append(f"{len(terms) - len(records)} annotated protein(s) have no sequence in {fasta.name}")
    kept, _, vnotes = validate(records, str(fasta), on_invalid)
    names = tuple(sorted({t for ts in terms.values() for t in ts}))
    col = {t: j for j, t in enumerate(names)}
    y = np.zeros((len(kept), len(names)), dtype=np.uint8)
    for i, r in enumerate(kept):
        y[i, [col[t] for t in terms[r.id]]] = 1
    task = Task(name=f"go-{asp.lower()}", kind="multilabel", label_names=names,
                description=f"GO {ASPECTS[asp]} terms (CAFA)" + (", propagated" if propagate else ""))
    return TaskData(task=task, ids=[r.id for r in kept], sequences=[r.sequence for r in kept], labels=y,
                    notes=notes + vnotes, source=str(terms_file))


def _propagate(terms: dict[str, set[str]], obo: Path) -> tuple[dict[str, set[str]], list[str]]:
    up, missing = ancestors_map(obo, set().union(*terms.values()) if terms else set())
    out = {e: set().union(*(up.get(t, {t}) for t in ts)) for e, ts in terms.items()}
    before, after = sum(map(len, terms.values())), sum(map(len, out.values()))
    notes = [f"propagated to ancestors: {before} -> {after} annotations"]
    if missing:
        notes.append(f"{len(missing)} term(s) not in {obo.name} kept unpropagated, e.g. {sorted(missing)[:3]}")
    return out, notes


def _filter_terms(terms: dict[str, set[str]], min_count: int) -> tuple[dict[str, set[str]], list[str]]:
    counts = Counter(t for ts in terms.values() for t in ts if t not in ROOTS)
    keep = {t for t, n in counts.items() if n >= min_count}
    out = {e: ts & keep for e, ts in terms.items()}
    empty = sum(1 for ts in out.values() if not ts)
    out = {e: ts for e, ts in out.items() if ts}
    notes = [f"kept {len(keep)} of {len(counts)} terms with >= {min_count} protein(s) (roots dropped)"]
    if empty:
        notes.append(f"dropped {empty} protein(s) left without a kept term")
    if not keep:
        raise InputError(f"no GO term has >= {min_count} proteins; lower min_count")
    return out, notes
