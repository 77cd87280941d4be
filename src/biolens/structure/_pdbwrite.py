"""Write backbones as PDB text (fixed columns) or mmCIF (no column limits).

PDB's fixed columns hold coordinates from -999.999 to 9999.999 Å, atom serials up to 99,999 and
residue numbers up to 9,999 per chain; :func:`backbone_pdb` refuses anything past them (naming the
limit and the way out, mmCIF) instead of writing overflowing columns that readers misparse.
:func:`backbone_mmcif` writes the same atoms as an mmCIF ``atom_site`` loop, with no such limits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from jaxtyping import Float, Int

from ..core.errors import InputError

__all__ = ["PDB_LIMITS", "backbone_mmcif", "backbone_pdb", "pdb_limit_problem"]

_NAMES = ("N", "CA", "C", "O")
_CHAINS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
PDB_LIMITS = {"coordinate": (-999.999, 9999.999), "serial": 99_999, "residue number": 9_999}
#: ``(name, coords (L, 4, 3) N/CA/C/O, segment (L,))``, optionally with ``(L,)`` B-factors last
Record = (tuple[str, Float[np.ndarray, "L 4 3"], Int[np.ndarray, " L"]]
          | tuple[str, Float[np.ndarray, "L 4 3"], Int[np.ndarray, " L"], Float[np.ndarray, " L"]])


def _b_factors(record: Record) -> np.ndarray:
    """The record's per-residue B-factor column (zeros when it has none, 0 where a value is undefined)."""
    return np.nan_to_num(np.asarray(record[3], np.float64)) if len(record) > 3 else np.zeros(len(record[1]))


def _atom_line(serial: int, name: str, resname: str, chain: str, resnum: int, xyz: np.ndarray, b: float) -> str:
    padded = f" {name:<3}" if len(name) < 4 else name
    return (f"ATOM  {serial:5d} {padded:<4} {resname:>3} {chain}{resnum:4d}    "
            f"{xyz[0]:8.3f}{xyz[1]:8.3f}{xyz[2]:8.3f}{1.0:6.2f}{b:6.2f}          {name[0]:>2}")


def _residue_numbers(segment: np.ndarray) -> np.ndarray:
    """Numbered from 1; a chain break skips one number."""
    return np.arange(1, len(segment) + 1) + np.asarray(segment)


def pdb_limit_problem(records: Sequence[Record]) -> str | None:
    """What in ``records`` does not fit PDB's fixed columns (``None`` when everything fits)."""
    if len(records) > len(_CHAINS):
        return f"{len(records)} chains (one PDB file names at most {len(_CHAINS)})"
    low, high = PDB_LIMITS["coordinate"]
    serials = sum(4 * len(r[1]) + 1 for r in records)
    for record in records:
        name, coords, segment = record[:3]
        finite = np.asarray(coords)[np.isfinite(coords)]
        if finite.size and (finite.min() < low or finite.max() > high):
            return (f"chain {name!r} has coordinates from {finite.min():.1f} to {finite.max():.1f} Å "
                    f"(PDB columns hold {low} to {high})")
        if len(segment) and _residue_numbers(segment)[-1] > PDB_LIMITS["residue number"]:
            return (f"chain {name!r} needs residue numbers up to {_residue_numbers(segment)[-1]} "
                    f"(PDB columns hold {PDB_LIMITS['residue number']})")
        if len(segment) and _b_factors(record).max(initial=0.0) >= 1000:
            return f"chain {name!r} has B-factors of 1000 or more (PDB columns hold up to 999.99)"
    if serials > PDB_LIMITS["serial"]:
        return f"{serials} atom serials (PDB columns hold {PDB_LIMITS['serial']})"
    return None


def backbone_pdb(records: Sequence[Record], *, remark: str = "") -> str:
    """PDB text for ``(name, coords (L, 4, 3) N/CA/C/O, segment (L,)[, b_factors (L,)])`` records,
    chains A, B, ...

    Residues are named UNK (tokens carry no amino-acid identity) and numbered from 1; a chain
    break skips one residue number and is listed in a REMARK. The B-factor column holds the
    record's per-residue values (all four atoms of a residue share one), else 0.

    Raises:
        InputError: the records do not fit PDB's columns (see :func:`pdb_limit_problem`).
    """
    problem = pdb_limit_problem(records)
    if problem is not None:
        raise InputError(f"do not fit the PDB format: {problem}; write mmCIF instead")
    lines = [f"REMARK   1 {line}" for line in remark.splitlines() if line]
    serial = 1
    for chain, record in zip(_CHAINS, records, strict=False):
        name, coords, segment, b = *record[:3], _b_factors(record)
        lines.append(f"REMARK   2 CHAIN {chain}: {name}")
        resnum = _residue_numbers(segment)
        for i, seg_start in enumerate(np.flatnonzero(np.diff(segment)) + 1):
            lines.append(f"REMARK   3 CHAIN {chain} BREAK {i + 1}: BEFORE RESIDUE {resnum[seg_start]}")
        for i, residue in enumerate(coords):
            for name_, xyz in zip(_NAMES, residue, strict=True):
                lines.append(_atom_line(serial, name_, "UNK", chain, int(resnum[i]), xyz, b[i]))
                serial += 1
        lines.append(f"TER   {serial:5d}      UNK {chain}{int(resnum[-1]):4d}")
        serial += 1
    lines.append("END")
    return "\n".join(lines) + "\n"


def _chain_names() -> Iterator[str]:
    """A, B, ..., 9, then AA, AB, ... (mmCIF chain ids may be longer than one letter)."""
    width = 1
    while True:
        for k in range(len(_CHAINS) ** width):
            name = ""
            for _ in range(width):
                k, r = divmod(k, len(_CHAINS))
                name = _CHAINS[r] + name
            yield name
        width += 1


_ATOM_SITE = ("group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id", "label_asym_id",
              "label_entity_id", "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y", "Cartn_z", "occupancy",
              "B_iso_or_equiv", "auth_seq_id", "auth_asym_id", "pdbx_PDB_model_num")


def backbone_mmcif(records: Sequence[Record], *, remark: str = "") -> str:
    """The records of :func:`backbone_pdb` as mmCIF (``atom_site`` loop; comments carry the
    remark, the chain names and the breaks)."""
    lines = ["data_biolens_decoded", *(f"# {line}" for line in remark.splitlines() if line)]
    atoms: list[str] = []
    serial = 1
    for entity, (chain, record) in enumerate(zip(_chain_names(), records, strict=False), start=1):
        name, coords, segment, b = *record[:3], _b_factors(record)
        lines.append(f"# chain {chain}: {name}")
        resnum = _residue_numbers(segment)
        for i, seg_start in enumerate(np.flatnonzero(np.diff(segment)) + 1):
            lines.append(f"# chain {chain} break {i + 1}: before residue {resnum[seg_start]}")
        for i, residue in enumerate(coords):
            for atom, xyz in zip(_NAMES, residue, strict=True):
                atoms.append(f"ATOM {serial} {atom[0]} {atom} . UNK {chain} {entity} {resnum[i]} ? "
                             f"{xyz[0]:.3f} {xyz[1]:.3f} {xyz[2]:.3f} 1.00 {b[i]:.2f} {resnum[i]} {chain} 1")
                serial += 1
    lines += ["#", "loop_", *(f"_atom_site.{field}" for field in _ATOM_SITE), *atoms, "#"]
    return "\n".join(lines) + "\n"
