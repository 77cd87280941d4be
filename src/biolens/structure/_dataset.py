"""Folders of structure files: discovery, chain lists, a saved deterministic split, per-residue
arrays, and the random crops that training batches are made of.

Rules for a folder (``--structures DIR``), applied recursively:

* files ending ``.pdb .ent .cif .mmcif`` (each optionally ``.gz``) are read;
* a chain list -- a ``*.lst`` file whose lines are ``ENTRY_CHAIN`` (``4GF4_A``) -- in a folder
  names the one chain to take from each entry of that folder; files of that folder not named
  in it are skipped (counted), entries named without a file are counted;
* without a chain list every protein chain of a file is taken;
* a file that cannot be used (unreadable, no protein chain, CA-only, listed chain absent) is
  skipped with its reason under ``on_invalid="skip"`` (the default for folders) or stops the
  run under ``"error"``.

The split assigns each file to train/val/test from a hash of its path relative to ``DIR`` and
a seed, so it is stable when files are added and is saved with every run; a folder of at least
:data:`MIN_FILES_FOR_HELD_OUT` files whose hashes leave test (or val) empty gets one file moved
there (:func:`assign_splits`), so small folders, the shipped sample among them, have a test file.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InputError
from ..core.progress import progress_bar
from ..core.runs import content_digest
from ._features import residue_features
from ._read import SUFFIXES, Backbone, entry_name, read_backbones

__all__ = ["MIN_FILES_FOR_HELD_OUT", "Chain", "CropBatches", "FolderReport", "assign_split", "assign_splits",
           "find_structure_files", "folder_identity", "load_folder"]


@dataclass(eq=False)
class Chain:
    """A backbone with its features (``(L, F)``) and, when computed, its 3Di states (``(L,)``)."""

    backbone: Backbone
    features: np.ndarray
    states3di: np.ndarray | None = None
    split: str = "train"


@dataclass
class FolderReport:
    """What reading a folder did: per-file reports, skipped files with reasons, totals."""

    root: str
    files: int = 0
    chains: int = 0
    residues: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    listed_missing: list[str] = field(default_factory=list)
    totals: Counter = field(default_factory=Counter)
    per_file: list[dict[str, Any]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.root}: {self.files} files read, {self.chains} chains, {self.residues} residues"]
        rules = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(self.totals.items()) if v)
        if rules:
            out.append(f"rules applied (residues unless named): {rules}")
        if self.skipped:
            reasons = Counter(v.split(":")[0] if v.startswith("not in chain list") else v for v in self.skipped.values())
            out.append(f"skipped {len(self.skipped)} files: " + "; ".join(f"{n}× {r}" for r, n in reasons.most_common(5)))
        if self.listed_missing:
            out.append(f"{len(self.listed_missing)} chain-list entries have no file: {', '.join(self.listed_missing[:5])}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.__dict__.items() if k != "totals"}, "totals": dict(self.totals)}


def find_structure_files(root: str | Path) -> list[Path]:
    """Structure files under ``root`` (recursively), sorted by path."""
    root = Path(root)
    if not root.is_dir():
        raise InputError("not a folder of structure files" if root.exists() else "no such folder", source=str(root))
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES))
    if not files:
        raise InputError(f"has no structure files (looked for {', '.join(SUFFIXES)})", source=str(root))
    return files


def folder_identity(root: str | Path) -> dict[str, Any]:
    """What a run learns from in ``root``: a content digest of every structure file and chain list
    (``*.lst``) under it -- each one's path relative to ``root`` and the SHA-256 of its bytes, in
    path order -- with their counts. Every file found counts, used or skipped: the files present
    decide the split (:func:`assign_splits`) and which chains are read, so a file added, removed,
    renamed or edited is other data; the folder moved elsewhere is the same data."""
    root = Path(root)
    files = find_structure_files(root)
    lists = sorted(p for p in root.rglob("*.lst") if p.is_file())
    entries = [(p.relative_to(root).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
               for p in sorted(files + lists)]
    return {"digest": content_digest(entries), "files": len(files), "chain_lists": len(lists)}


def _chain_lists(files: list[Path]) -> dict[Path, dict[str, str]]:
    """Per folder holding a ``*.lst``: ENTRY (upper case) -> chain."""
    out: dict[Path, dict[str, str]] = {}
    for folder in sorted({f.parent for f in files}):
        for lst in sorted(folder.glob("*.lst")):
            table = out.setdefault(folder, {})
            for n, line in enumerate(lst.read_text().splitlines(), 1):
                if not line.strip() or line.startswith("#"):
                    continue
                entry, sep, chain = line.strip().rpartition("_")
                if not sep or not entry or not chain:
                    raise InputError(f"expected ENTRY_CHAIN (like 4GF4_A), got {line.strip()!r}", source=str(lst), line=n)
                table[entry.upper()] = chain
    return out


def _unit(relative: str, seed: int) -> float:
    return int.from_bytes(hashlib.sha256(f"{seed}:{relative}".encode()).digest()[:8], "big") / 2**64


def assign_split(relative: str, seed: int, *, val: float, test: float) -> str:
    """``train``, ``val`` or ``test`` from a hash of (seed, relative path)."""
    u = _unit(relative, seed)
    return "test" if u < test else "val" if u < test + val else "train"


#: Fewest files for which :func:`assign_splits` guarantees a test (and a validation) file.
MIN_FILES_FOR_HELD_OUT = 4


def assign_splits(relatives: list[str], seed: int, *, val: float, test: float) -> dict[str, str]:
    """:func:`assign_split` of every file, except that a split with a positive fraction which the
    hash left empty gets the training file nearest to it in hash order (the lowest hash for test,
    the next for val), when there are at least :data:`MIN_FILES_FOR_HELD_OUT` files: a small
    folder still has a held-out test file. Deterministic for a given set of paths and seed."""
    out = {rel: assign_split(rel, seed, val=val, test=test) for rel in relatives}
    if len(relatives) < MIN_FILES_FOR_HELD_OUT:
        return out
    order = sorted(relatives, key=lambda rel: _unit(rel, seed))
    for name, fraction in (("test", test), ("val", val)):
        if fraction > 0 and name not in out.values():
            out[next(rel for rel in order if out[rel] == "train")] = name
    return out


def _threedi(backbone: Backbone) -> np.ndarray:
    from ._threedi import threedi_states

    return threedi_states(backbone)


def _listed_chain(path: Path, lists: dict[Path, dict[str, str]]) -> tuple[bool, str | None]:
    """(use the file?, chain to take) under the chain-list rule."""
    if path.parent not in lists:
        return True, None
    chain = lists[path.parent].get(entry_name(path).upper())
    return chain is not None, chain


def _add_file(report: FolderReport, chains: list[Chain], backbones: list[Backbone], rep: Any, *,
              split: str, neighbours: int, threedi: bool) -> None:
    report.files += 1
    report.per_file.append({**rep.to_dict(), "split": split})
    report.totals.update({k: v for k, v in rep.to_dict().items() if isinstance(v, int) and k != "residues"})
    report.totals["chain_by_label"] += len(rep.chain_by_label)
    for bb in backbones:
        feats, _ = residue_features(bb, neighbours)
        chains.append(Chain(bb, feats, _threedi(bb) if threedi else None, split))
        report.chains += 1
        report.residues += len(bb)


def load_folder(
    root: str | Path, *, neighbours: int, on_invalid: str = "skip", threedi: bool = False,
    split_seed: int = 0, val: float = 0.05, test: float = 0.10, splits: tuple[str, ...] | None = None,
    progress: bool = False, saved_split: dict[str, str] | None = None,
) -> tuple[list[Chain], FolderReport]:
    """Read every usable chain under ``root`` with its features (and 3Di states), by the
    module's rules; ``splits`` keeps only files of those splits. ``saved_split`` (a run's
    ``split.json``, resolved path -> split) decides the split of the files it names."""
    if on_invalid not in ("skip", "error"):
        raise ValueError(f"on_invalid must be 'skip' or 'error', got {on_invalid!r}")
    root = Path(root)
    files = find_structure_files(root)
    lists = _chain_lists(files)
    report, chains = FolderReport(str(root)), []
    assigned = assign_splits([p.relative_to(root).as_posix() for p in files], split_seed, val=val, test=test)
    for path in files if saved_split else ():
        rel = path.relative_to(root).as_posix()
        assigned[rel] = saved_split.get(str(path.resolve()), assigned[rel])
    if splits is not None and not set(assigned.values()) & set(splits):
        few = (f" (a folder of fewer than {MIN_FILES_FOR_HELD_OUT} files may have none)"
               if len(files) < MIN_FILES_FOR_HELD_OUT else "")
        raise InputError(f"none of its {len(files)} structure files is in the {' or '.join(splits)} split{few}; "
                         "evaluate another split (--split all, train, val or test)", source=str(root))
    with progress_bar(len(files), "reading structures", enabled=progress) as advance:
        for path in files:
            advance(1)
            rel = path.relative_to(root).as_posix()
            split = assigned[rel]
            if splits is not None and split not in splits:
                continue
            use, chain = _listed_chain(path, lists)
            if not use:
                report.skipped[rel] = f"not in chain list of {path.parent.name}"
                continue
            try:
                backbones, rep = read_backbones(path, chain)
            except InputError as exc:
                if on_invalid == "error":
                    raise
                report.skipped[rel] = exc.problem
                continue
            _add_file(report, chains, backbones, rep, split=split, neighbours=neighbours, threedi=threedi)
    for folder, table in lists.items():
        present = {entry_name(f).upper() for f in files if f.parent == folder}
        report.listed_missing += sorted(set(table) - present)
    if not chains:
        raise InputError("no usable protein chain in any file: " + "; ".join(
            f"{k}: {v}" for k, v in list(report.skipped.items())[:3]), source=str(root))
    return chains, report


def _segment_arrays(chain: Chain) -> Iterator[dict[str, np.ndarray]]:
    bb = chain.backbone
    coords = np.nan_to_num(bb.coords[:, :4]).astype(np.float32)
    states = chain.states3di if chain.states3di is not None else np.zeros(len(bb), np.int32)
    for sl in bb.segments():
        yield {"features": chain.features[sl], "coords": coords[sl], "atom_mask": bb.mask[sl, :4],
               "states": states[sl].astype(np.int32)}


def crop(segment: dict[str, np.ndarray], start: int, length: int) -> dict[str, np.ndarray]:
    """``length`` residues from ``start``, padded at the end (``mask`` marks real residues)."""
    n = len(segment["features"])
    take = slice(start, min(start + length, n))
    out = {}
    for k, v in segment.items():
        part = v[take]
        pad = np.zeros((length - len(part), *part.shape[1:]), part.dtype)
        out[k] = np.concatenate([part, pad])
    out["mask"] = np.arange(length) < (take.stop - take.start)
    return out


class CropBatches:
    """Batches of random crops for ``core.train.fit``: an epoch draws ``residues // crop``
    crops, segments chosen with probability proportional to their length, start uniform;
    deterministic per ``(seed, epoch)``."""

    def __init__(self, chains: list[Chain], *, crop_length: int, batch_size: int, min_length: int, seed: int) -> None:
        self.segments = [s for c in chains for s in _segment_arrays(c) if len(s["features"]) >= min_length]
        if not self.segments:
            raise InputError(f"no chain segment of at least {min_length} residues to train on")
        self.lengths = np.array([len(s["features"]) for s in self.segments])
        self.crop, self.seed = crop_length, seed
        self.batch_size = min(batch_size, max(1, int(self.lengths.sum()) // crop_length))
        self.n_batches = max(1, int(self.lengths.sum()) // crop_length // self.batch_size)

    def __len__(self) -> int:
        return self.n_batches

    def sample(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        which = rng.choice(len(self.segments), size=n, p=self.lengths / self.lengths.sum())
        starts = [int(rng.integers(0, max(1, self.lengths[w] - self.crop + 1))) for w in which]
        crops = [crop(self.segments[w], s, self.crop) for w, s in zip(which, starts, strict=True)]
        return {k: np.stack([c[k] for c in crops]) for k in crops[0]}

    def epoch(self, index: int) -> Iterator[dict[str, np.ndarray]]:
        rng = np.random.default_rng((self.seed, index))
        for _ in range(self.n_batches):
            yield self.sample(rng, self.batch_size)
