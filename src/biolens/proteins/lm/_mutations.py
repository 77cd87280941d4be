"""Zero-shot mutation effects from protein language models (Meier et al. 2021,
"Language models enable zero-shot prediction of the effects of mutations on protein function",
https://doi.org/10.1101/2021.07.09.450648).

Scores of a variant with mutated sites ``M`` (higher = more like what the model expects):

* ``masked-marginal``: ``sum_{i in M} log p(mut_i | WT with i masked) - log p(wt_i | same)``,
  each site masked on its own (one pass per distinct site over all variants);
* ``wt-marginal``: the same log-ratio read from one unmasked pass over the wild type;
* ``llr`` (autoregressive models, UniRep): ``log p(mutant) - log p(WT)``, whole-sequence
  log-likelihoods; works for any lengths.

Variants are mutation codes -- ``A24G`` (wild-type letter, 1-based position, new letter),
multi-mutants joined by ``:`` (``A24G:D40N``), ``WT`` for none -- or full mutant sequences
(which must have the wild type's length for the marginal scores).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import Float

from ...core.alphabets import ascii_upper
from ...core.errors import InputError
from ._scoring import AMINO_ACIDS, AutoregressiveLM, MaskedLM

__all__ = ["METHODS", "Mutation", "VariantTable", "apply_mutations", "dms_figure", "dms_scores", "mutations_from_sequence",
           "parse_mutations", "read_variants", "score_variants"]

METHODS = ("masked-marginal", "wt-marginal", "llr")
CODE_COLUMNS = ("mutant", "mutations", "mutation", "variant", "mutant_code")
_CODE = re.compile(r"^([A-Z])(\d+)([A-Z])$")


@dataclass(frozen=True)
class Mutation:
    """One substitution: ``position`` is 0-based; ``wt`` and ``mut`` are amino-acid letters."""

    position: int
    wt: str
    mut: str

    def __str__(self) -> str:
        return f"{self.wt}{self.position + 1}{self.mut}"


def parse_mutations(code: str, wild_type: str) -> tuple[Mutation, ...]:
    """``"A24G:D40N"`` -> mutations, checked against ``wild_type`` (``"WT"`` or empty -> none).

    Raises :class:`InputError` for a malformed code, a position outside the protein, a
    wild-type letter that does not match, a letter outside the 20 amino acids or a site given twice.
    """
    try:
        text = ascii_upper(code, "mutation code")
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if text in ("", "WT", "WILDTYPE", "_WT"):
        return ()
    out: dict[int, Mutation] = {}
    for part in (p.strip() for p in text.split(":")):
        m = _CODE.match(part)
        if m is None:
            raise InputError(f"{part!r} is not a mutation code like A24G (wild type, 1-based position, new residue)")
        wt, pos, mut = m.group(1), int(m.group(2)), m.group(3)
        if not 1 <= pos <= len(wild_type):
            raise InputError(f"{part}: position {pos} is outside the wild type (1..{len(wild_type)})")
        if wild_type[pos - 1] != wt:
            raise InputError(f"{part}: the wild type has {wild_type[pos - 1]} at position {pos}, not {wt}")
        if mut not in AMINO_ACIDS:
            raise InputError(f"{part}: {mut} is not one of the 20 standard amino acids")
        if pos - 1 in out:
            raise InputError(f"{code}: position {pos} is mutated twice")
        out[pos - 1] = Mutation(pos - 1, wt, mut)
    return tuple(out[p] for p in sorted(out))


def mutations_from_sequence(sequence: str, wild_type: str) -> tuple[Mutation, ...]:
    """The substitutions that turn ``wild_type`` into ``sequence`` (same length required)."""
    if len(sequence) != len(wild_type):
        raise InputError(f"the sequence has {len(sequence)} residues and the wild type {len(wild_type)}: "
                         "marginal scores need substitutions only (use an autoregressive model's llr for indels)")
    diff = [Mutation(i, w, s) for i, (w, s) in enumerate(zip(wild_type, sequence, strict=True)) if w != s]
    bad = [m for m in diff if m.mut not in AMINO_ACIDS]
    if bad:
        raise InputError(f"{bad[0]}: {bad[0].mut} is not one of the 20 standard amino acids")
    return tuple(diff)


def apply_mutations(wild_type: str, mutations: tuple[Mutation, ...]) -> str:
    seq = list(wild_type)
    for m in mutations:
        seq[m.position] = m.mut
    return "".join(seq)


@dataclass
class VariantTable:
    """Variants read from a CSV: the table's rows (all columns kept), and per row the mutations
    (``None`` when a sequence of another length is only scorable by ``llr``) and the sequence."""

    columns: list[str]
    rows: list[dict[str, str]]
    mutations: list[tuple[Mutation, ...] | None]
    sequences: list[str]
    source: str


def _open_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    from ...core.seqio import read_text

    lines = read_text(path).split("\n")  # not str.splitlines(): that also splits at \x0c, \u2028, ...
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") or "\t" in lines[0] else ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    if not reader.fieldnames:
        raise InputError("empty file: expected a header row", source=str(path))
    return list(reader.fieldnames), list(reader)


def read_variants(path: str | Path, wild_type: str, *, column: str | None = None) -> VariantTable:
    """Read variants as mutation codes (a column named like ``mutant``) or full sequences (``sequence``).

    Every problem is an :class:`InputError` naming the file and the row's line.
    """
    path = Path(path)
    columns, rows = _open_rows(path)
    lower = {c.lower(): c for c in columns}
    col = column or next((lower[c] for c in ("sequence", *CODE_COLUMNS) if c in lower), None)
    if col is None or col not in columns:
        raise InputError(f"no {column!r} column" if column else
                         f"no 'sequence' column and no mutation-code column ({', '.join(CODE_COLUMNS)}); "
                         f"the columns are {columns}", source=str(path))
    if not rows:
        raise InputError("has a header but no variants", source=str(path))
    is_seq = col.lower() == "sequence"
    muts, seqs = [], []
    for n, row in enumerate(rows):
        try:
            value = ascii_upper(row.get(col) or "", "value")
        except ValueError as exc:
            raise InputError(f"row {n + 1}: {exc}", source=str(path), line=n + 2) from None
        try:
            if is_seq:
                if not value:
                    raise InputError("empty sequence")
                m = mutations_from_sequence(value, wild_type) if len(value) == len(wild_type) else None
                seqs.append(value)
            else:
                m = parse_mutations(value, wild_type)
                seqs.append(apply_mutations(wild_type, m))
        except InputError as exc:
            raise InputError(f"row {n + 1}: {exc.problem}", source=str(path), line=n + 2) from None
        muts.append(m)
    return VariantTable(columns, rows, muts, seqs, str(path))


def _marginal_table(lm: MaskedLM, wild_type: str, positions: list[int], method: str) -> dict[int, np.ndarray]:
    if method == "masked-marginal":
        logp = lm.masked_log_probs(wild_type, positions)
        return dict(zip(positions, logp, strict=True))
    full = lm.log_probs(wild_type)
    return {p: full[p] for p in positions}


def _marginal(table: dict[int, np.ndarray], mutations: tuple[Mutation, ...]) -> float:
    index = AMINO_ACIDS.index
    return float(sum(table[m.position][index(m.mut)] - table[m.position][index(m.wt)] for m in mutations))


def check_method(lm: MaskedLM | AutoregressiveLM, method: str | None) -> str:
    """The method to use with ``lm`` (default: masked-marginal, or llr for autoregressive models)."""
    method = method or ("llr" if lm.kind == "autoregressive" else "masked-marginal")
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; use {', '.join(METHODS)}")
    if lm.kind == "autoregressive" and method != "llr":
        raise InputError(f"{lm.name} is autoregressive (next-residue): it has no masked marginals; use --method llr")
    if lm.kind == "masked" and method == "llr":
        raise InputError(f"{lm.name} is a masked LM: use masked-marginal or wt-marginal (llr is for UniRep)")
    return method


def score_variants(lm: MaskedLM | AutoregressiveLM, wild_type: str, variants: VariantTable | list[tuple[Mutation, ...]],
                   method: str | None = None) -> Float[np.ndarray, " N"]:
    """One score per variant (see the module docstring); ``variants`` from :func:`read_variants`
    or a list of mutation tuples."""
    method = check_method(lm, method)
    if isinstance(variants, list):
        variants = VariantTable([], [], variants, [apply_mutations(wild_type, m) for m in variants], "")
    if method == "llr":
        ll = lm.log_likelihoods([wild_type, *variants.sequences])
        return ll[1:] - ll[0]
    odd = next((i for i, m in enumerate(variants.mutations) if m is None), None)
    if odd is not None:
        raise InputError(f"row {odd + 1}: its sequence has {len(variants.sequences[odd])} residues, the wild type "
                         f"{len(wild_type)}; {method} needs substitutions only", source=variants.source or None)
    positions = sorted({m.position for ms in variants.mutations for m in ms})
    table = _marginal_table(lm, wild_type, positions, method) if positions else {}
    return np.array([_marginal(table, ms) for ms in variants.mutations])


def dms_scores(lm: MaskedLM | AutoregressiveLM, wild_type: str, method: str | None = None) -> Float[np.ndarray, "L 20"]:
    """Every single substitution: ``[i, a]`` scores residue ``i`` -> ``AMINO_ACIDS[a]`` (0 at the wild type)."""
    method = check_method(lm, method)
    n = len(wild_type)
    if method == "llr":
        singles = [(Mutation(i, wild_type[i], a),) for i in range(n) for a in AMINO_ACIDS]
        return score_variants(lm, wild_type, singles, "llr").reshape(n, 20)
    table = _marginal_table(lm, wild_type, list(range(n)), method)
    logp = np.stack([table[i] for i in range(n)])
    wt = np.array([AMINO_ACIDS.find(c) for c in wild_type])
    ref = np.where(wt >= 0, logp[np.arange(n), np.maximum(wt, 0)], np.nan)
    return logp - ref[:, None]


def dms_figure(scores: Float[np.ndarray, "L 20"], wild_type: str, *, title: str = "", per_row: int = 120) -> Any:
    """Heat map of a deep mutational scan (amino acids x positions, centred at zero; the wild type
    dotted), one panel per ``per_row`` positions."""
    from ...interpret import mutation_heatmap
    from ...report import new_figure

    panels = max(1, -(-len(wild_type) // per_row))
    fig, axes = new_figure(width=min(16, 3 + len(wild_type[:per_row]) * 0.11), height=3.2 * panels, ncols=1)
    if panels > 1:
        fig.clear()
        axes = fig.subplots(panels, 1)
    for k, ax in enumerate(np.atleast_1d(axes)):
        lo = k * per_row
        mutation_heatmap(ax, np.nan_to_num(scores[lo : lo + per_row]), wild_type, start=lo,
                         label="score (log-ratio)", alphabet=AMINO_ACIDS, origin=1)  # as in A24G
        ax.set_xlim(lo + 0.5, lo + len(scores[lo : lo + per_row]) + 0.5)
    np.atleast_1d(axes)[0].set_title(title)
    return fig
