"""Write backbones as PDB text (fixed columns, ATOM records, one chain per record)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from jaxtyping import Float, Int

__all__ = ["backbone_pdb"]

_NAMES = ("N", "CA", "C", "O")
_CHAINS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _atom_line(serial: int, name: str, resname: str, chain: str, resnum: int, xyz: np.ndarray) -> str:
    padded = f" {name:<3}" if len(name) < 4 else name
    return (f"ATOM  {serial:5d} {padded:<4} {resname:>3} {chain}{resnum:4d}    "
            f"{xyz[0]:8.3f}{xyz[1]:8.3f}{xyz[2]:8.3f}{1.0:6.2f}{0.0:6.2f}          {name[0]:>2}")


def backbone_pdb(
    records: Sequence[tuple[str, Float[np.ndarray, "L 4 3"], Int[np.ndarray, " L"]]], *, remark: str = "",
) -> str:
    """PDB text for ``(name, coords (L, 4, 3) N/CA/C/O, segment (L,))`` records, chains A, B, ...

    Residues are named UNK (tokens carry no amino-acid identity) and numbered from 1; a chain
    break skips one residue number and is listed in a REMARK.
    """
    if len(records) > len(_CHAINS):
        raise ValueError(f"at most {len(_CHAINS)} chains fit in one PDB file, got {len(records)}")
    lines = [f"REMARK   1 {line}" for line in remark.splitlines() if line]
    serial = 1
    for chain, (name, coords, segment) in zip(_CHAINS, records, strict=False):
        lines.append(f"REMARK   2 CHAIN {chain}: {name}")
        resnum = np.arange(1, len(coords) + 1) + np.asarray(segment)
        for i, seg_start in enumerate(np.flatnonzero(np.diff(segment)) + 1):
            lines.append(f"REMARK   3 CHAIN {chain} BREAK {i + 1}: BEFORE RESIDUE {resnum[seg_start]}")
        for i, residue in enumerate(coords):
            for name_, xyz in zip(_NAMES, residue, strict=True):
                lines.append(_atom_line(serial, name_, "UNK", chain, int(resnum[i]), xyz))
                serial += 1
        lines.append(f"TER   {serial:5d}      UNK {chain}{int(resnum[-1]):4d}")
        serial += 1
    lines.append("END")
    return "\n".join(lines) + "\n"
