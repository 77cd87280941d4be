"""Crafted PDB files for the structure reader's tests, built from a real shipped chain."""

from __future__ import annotations

import numpy as np

from biolens.data import sample_path
from biolens.structure import read_backbones


def real_residues(n: int = 6) -> np.ndarray:
    """``(n, 5, 3)`` N, CA, C, O, CB of the first residues of a shipped chain (no breaks)."""
    path = sorted((sample_path("structures") / "bm5").glob("*.pdb.gz"))[0]
    bb = read_backbones(path)[0][0]
    assert bb.mask[:n, :4].all() and (bb.segment[:n] == 0).all()
    return bb.coords[:n]


def atom(serial, name, resname, resnum, xyz, *, chain="A", icode=" ", altloc=" ", occ=1.0, het=False, element=None):
    record = "HETATM" if het else "ATOM  "
    padded = f" {name:<3}" if len(name) < 4 else name
    element = element or name[0]
    return (f"{record}{serial:5d} {padded}{altloc}{resname:>3} {chain}{resnum:4d}{icode}   "
            f"{xyz[0]:8.3f}{xyz[1]:8.3f}{xyz[2]:8.3f}{occ:6.2f}{20.0:6.2f}          {element:>2}")


def residue(serial, resname, resnum, coords, *, names=("N", "CA", "C", "O"), **kw):
    """ATOM lines of one residue from its ``(5, 3)`` coordinates (atoms named by ``names``)."""
    index = {"N": 0, "CA": 1, "C": 2, "O": 3, "CB": 4}
    return [atom(serial + i, name, resname, resnum, coords[index[name]], **kw) for i, name in enumerate(names)]


def pdb(lines) -> str:
    return "\n".join([*lines, "END"]) + "\n"
