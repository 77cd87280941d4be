"""Read protein backbones from PDB and mmCIF files (gzipped too) with gemmi, by stated rules.

Every rule below is applied the same way to every file, and what it did is counted in a
:class:`ReadReport` per file (``biolens structure`` prints it and saves it with a run):

========================  ==================================================================
models                    the first model is read; further models (NMR ensembles) are ignored
                          and counted
chains                    ``chain=`` picks one chain by its author name; if no author chain of
                          that name has a protein polymer, by the mmCIF label (``label_asym_id``)
                          of a protein polymer, reported (``chain_by_label``); else an error
                          listing the chains. Without ``chain=`` every chain with a protein
                          polymer is read; chains without one (DNA/RNA, ligands, water) are
                          skipped, counted
residues                  the residues of the chain's protein polymer, in file order. Ligands,
                          ions and waters (hetero groups outside the polymer) are dropped, counted
non-standard residues     modified amino acids inside the polymer (MSE, SEP, UNK, ...) are kept
                          with their own name and counted by name
alternate locations       per atom, the location with the highest occupancy (the first listed on
                          a tie); for two residue types at one position, the first. Counted
insertion codes           residues with an insertion code (52A, 52B) are separate residues in file
                          order, their ids keep the code; counted
missing backbone atoms    a residue without N, CA or C is dropped (it has no frame) and counted;
                          a missing O or CB is masked, counted
gaps                      a chain break is a C(i)–N(i+1) distance over 2.0 Å (missing residues or
                          dropped ones); the chain is split into segments there, counted. No
                          feature, token or metric crosses a break
CA-only models            refused: backbone frames need N, CA and C
non-finite coordinates    a backbone atom at NaN or infinity makes its chain an error naming the
                          chain, residue and atom (a folder run skips the file with that reason)
========================  ==================================================================
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import Bool, Float, Int

from ..core.errors import InputError
from ..core.extras import require

__all__ = ["ATOMS", "BREAK_DISTANCE", "STANDARD", "Backbone", "ReadReport", "read_backbones"]

ATOMS = ("N", "CA", "C", "O", "CB")
"""Atoms read per residue, in the order of :attr:`Backbone.coords`' second axis."""
BREAK_DISTANCE = 2.0
"""Å; a peptide C–N bond is 1.33 Å, so a longer C(i)–N(i+1) distance is a chain break."""
STANDARD = frozenset(
    "ALA ARG ASN ASP CYS GLN GLU GLY HIS ILE LEU LYS MET PHE PRO SER THR TRP TYR VAL".split()
)
SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif", ".pdb.gz", ".ent.gz", ".cif.gz", ".mmcif.gz")


@dataclass(frozen=True, eq=False)
class Backbone:
    """One protein chain's backbone.

    Attributes:
        id: ``ENTRY_CHAIN`` (the file's name without suffixes, then the chain name).
        source: the file it was read from.
        chain: the author chain name.
        coords: ``(L, 5, 3)`` float32 Å, atoms N, CA, C, O, CB (NaN where missing).
        mask: ``(L, 5)`` bool, which atoms are present (N, CA, C always are).
        segment: ``(L,)`` int32, segment index; it grows by one at every chain break.
        names: residue names (``ALA``, ``MSE``, ...).
        residue_ids: author numbers with insertion codes (``"52"``, ``"52A"``).
    """

    id: str
    source: str
    chain: str
    coords: Float[np.ndarray, "L 5 3"]
    mask: Bool[np.ndarray, "L 5"]
    segment: Int[np.ndarray, " L"]
    names: tuple[str, ...]
    residue_ids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    @property
    def n_segments(self) -> int:
        return int(self.segment[-1]) + 1 if len(self) else 0

    def segments(self) -> list[slice]:
        """Slices of the residues of each segment, in order."""
        starts = np.flatnonzero(np.diff(self.segment, prepend=-1)).tolist() + [len(self)]
        return [slice(a, b) for a, b in zip(starts[:-1], starts[1:], strict=True)]


@dataclass
class ReadReport:
    """What the rules did to one file (all counts are residues unless named otherwise)."""

    source: str
    chains: list[str] = field(default_factory=list)
    residues: int = 0
    models_ignored: int = 0
    chains_skipped: dict[str, str] = field(default_factory=dict)
    hetero_dropped: int = 0
    waters_dropped: int = 0
    nonstandard: Counter = field(default_factory=Counter)
    altloc: int = 0
    insertion_codes: int = 0
    missing_backbone: int = 0
    missing_o: int = 0
    missing_cb: int = 0
    breaks: int = 0
    chain_by_label: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["nonstandard"] = dict(self.nonstandard)
        return out

    def line(self) -> str:
        """One line naming every rule that did something."""
        parts = [f"{self.source}: chains {','.join(self.chains) or '-'}, {self.residues} residues"]
        named = [("models_ignored", "further models ignored"), ("hetero_dropped", "hetero residues dropped"),
                 ("waters_dropped", "waters dropped"), ("altloc", "with alternate locations (highest occupancy kept)"),
                 ("insertion_codes", "with insertion codes"),
                 ("missing_backbone", "dropped for a missing N/CA/C"), ("missing_o", "without O"),
                 ("breaks", "chain breaks")]
        parts += [f"{getattr(self, k)} {text}" for k, text in named if getattr(self, k)]
        if self.nonstandard:
            parts.append("non-standard kept: " + " ".join(f"{k}×{v}" for k, v in sorted(self.nonstandard.items())))
        if self.chain_by_label:
            parts.append("chains matched by mmCIF label: " + ", ".join(f"{k} (author {v})" for k, v in self.chain_by_label.items()))
        if self.chains_skipped:
            parts.append("chains skipped: " + "; ".join(f"{k} ({v})" for k, v in self.chains_skipped.items()))
        return ", ".join(parts)


def entry_name(path: str | Path) -> str:
    """The file name without structure suffixes (``1abc.cif.gz`` -> ``1abc``)."""
    name = Path(path).name
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


#: What gemmi raises for a malformed file: parse errors (RuntimeError), names that are not UTF-8
#: (UnicodeDecodeError, a ValueError), internal index checks on inconsistent tables (IndexError).
_GEMMI_FAILURES = (RuntimeError, ValueError, OSError, IndexError)


def _open(path: Path) -> Any:
    gemmi = require("gemmi", extra="structure", purpose="reading PDB/mmCIF files")
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "not a file", source=str(path))
    try:
        st = gemmi.read_structure(str(path), merge_chain_parts=True)
        if len(st) == 0:
            raise InputError("has no models (no ATOM/HETATM records)", source=str(path))
        st.setup_entities()
    except InputError:
        raise
    except _GEMMI_FAILURES as exc:
        raise InputError(f"cannot read as PDB or mmCIF: {exc}", source=str(path)) from None
    return st


def _is_protein(chain: Any) -> bool:
    gemmi = require("gemmi", extra="structure", purpose="reading PDB/mmCIF files")
    polymer = chain.get_polymer()
    return len(polymer) > 0 and polymer.check_polymer_type() in (gemmi.PolymerType.PeptideL, gemmi.PolymerType.PeptideD)


def _best_atoms(residue: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Backbone coordinates of one residue, the highest-occupancy location of each atom."""
    xyz = np.full((len(ATOMS), 3), np.nan, np.float32)
    occ = np.full(len(ATOMS), -1.0)
    altloc = False
    for atom in residue:
        if atom.name not in ATOMS:
            continue
        altloc |= atom.altloc != "\0"
        k = ATOMS.index(atom.name)
        pos = (atom.pos.x, atom.pos.y, atom.pos.z)
        if not np.isfinite(pos).all():
            raise ValueError(f"atom {atom.name} has the non-finite coordinates {pos}")
        if atom.occ > occ[k]:
            occ[k], xyz[k] = atom.occ, pos
    return xyz, occ >= 0, altloc


def _read_chain(chain: Any, report: ReadReport, entry: str, source: str) -> Backbone | None:
    polymer = chain.get_polymer()
    coords, masks, names, ids = [], [], [], []
    for residue in polymer.first_conformer():
        try:
            xyz, mask, alt = _best_atoms(residue)
        except ValueError as exc:
            raise InputError(f"chain {chain.name}, residue {residue.name} {residue.seqid.num}"
                             f"{residue.seqid.icode.strip()}: {exc}", source=source) from None
        if not mask[:3].all():
            report.missing_backbone += 1
            continue
        report.altloc += alt
        report.insertion_codes += residue.seqid.icode != " "
        if residue.name not in STANDARD:
            report.nonstandard[residue.name] += 1
        coords.append(xyz)
        masks.append(mask)
        names.append(residue.name)
        ids.append(f"{residue.seqid.num}{residue.seqid.icode.strip()}")
    for residue in chain:
        if residue.entity_type.name == "Water":
            report.waters_dropped += 1
        elif residue.entity_type.name != "Polymer":
            report.hetero_dropped += 1
    if not coords:
        return None
    coords_a, mask_a = np.stack(coords), np.stack(masks)
    gap = np.linalg.norm(coords_a[1:, 0] - coords_a[:-1, 2], axis=-1) > BREAK_DISTANCE
    report.breaks += int(gap.sum())
    report.missing_o += int((~mask_a[:, 3]).sum())
    report.missing_cb += int((~mask_a[:, 4]).sum())
    report.residues += len(names)
    segment = np.concatenate([[0], np.cumsum(gap)]).astype(np.int32)
    return Backbone(f"{entry}_{chain.name}", source, chain.name, coords_a, mask_a, segment, tuple(names), tuple(ids))


def _ca_only(chain: Any) -> bool:
    """True when the chain's polymer has CA atoms but never N or C."""
    names = {a.name for r in chain.get_polymer() for a in r}
    return "CA" in names and not ({"N", "C"} & names)


def _author_chain(model: Any, name: str, report: ReadReport, source: str) -> str:
    """The author chain to read for a requested name (author name first, then mmCIF label)."""
    authors = {c.name: c for c in model}
    if name in authors and _is_protein(authors[name]):
        return name
    for ch in model:
        if _is_protein(ch) and ch.get_polymer().subchain_id() == name:
            report.chain_by_label[name] = ch.name
            return ch.name
    if name in authors:
        return name  # it exists but has no protein: the caller reports that
    labels = sorted({c.get_polymer().subchain_id() for c in model if _is_protein(c)})
    also = f" (mmCIF labels of protein polymers: {', '.join(labels)})" if _is_cif(source) and labels else ""
    raise InputError(f"has no chain {name!r}; its chains are {', '.join(authors) or 'none'}{also}", source=source)


def _is_cif(source: str) -> bool:
    return source.lower().removesuffix(".gz").endswith((".cif", ".mmcif"))


def read_backbones(path: str | Path, chain: str | None = None) -> tuple[list[Backbone], ReadReport]:
    """Read the protein backbones of a PDB/mmCIF file (``.gz`` too) by the module's rules.

    Args:
        path: the file.
        chain: a chain name (author name, else mmCIF label of a protein polymer) to read only
            that chain; ``None`` reads every protein chain.

    Returns:
        The backbones (one per chain with at least one complete residue) and the file's report.

    Raises:
        InputError: unreadable file, no protein chain, an absent ``chain``, a CA-only model.
    """
    path = Path(path)
    try:
        return _read(path, chain)
    except InputError:
        raise
    except _GEMMI_FAILURES as exc:  # gemmi raises these for text it parsed but cannot represent
        raise InputError(f"cannot read as PDB or mmCIF: {type(exc).__name__}: {exc}", source=str(path)) from None


def _read(path: Path, chain: str | None) -> tuple[list[Backbone], ReadReport]:
    st = _open(path)
    report = ReadReport(str(path), models_ignored=len(st) - 1)
    model = st[0]
    if chain is not None:
        chain = _author_chain(model, chain, report, str(path))
    entry = entry_name(path)
    out = []
    for ch in model:
        if chain is not None and ch.name != chain:
            continue
        if not _is_protein(ch):
            report.chains_skipped[ch.name] = "no protein polymer"
            continue
        if _ca_only(ch):
            raise InputError(f"chain {ch.name} is a CA-only model (no N or C atoms); backbone frames need "
                             "N, CA and C", source=str(path))
        backbone = _read_chain(ch, report, entry, str(path))
        if backbone is None:
            report.chains_skipped[ch.name] = "no residue with N, CA and C"
            continue
        report.chains.append(ch.name)
        out.append(backbone)
    if not out:
        what = f"chain {chain!r} has" if chain is not None else "has"
        skipped = "; ".join(f"{k}: {v}" for k, v in report.chains_skipped.items())
        raise InputError(f"{what} no protein chain ({skipped or 'no chains'})", source=str(path))
    return out, report
