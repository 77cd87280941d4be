"""Train/validation/test splits: the dataset's own, seeded random, or homology-aware.

Homology-aware splits cluster the sequences with MMseqs2 (``mmseqs easy-cluster``, Debian
package ``mmseqs2``) at a sequence-identity threshold and assign whole clusters to one split,
so no test protein shares a cluster with a training protein. The split is saved with the run
(``split.csv``: ``id,split,cluster``) and reused when the run is resumed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...core.errors import InputError
from ...core.files import atomic_write_text
from ..tasks import SPLIT_NAMES, TaskData

__all__ = ["Split", "SplitConfig", "make_split", "mmseqs_clusters", "read_split"]

METHODS = ("auto", "dataset", "random", "homology")


@dataclass(frozen=True, kw_only=True)
class SplitConfig:
    """How to split records.

    ``auto`` uses the dataset's own split where it has one (carving a validation set from its
    training part when it has none) and a seeded random split otherwise. Fractions are of all
    records (``valid_fraction`` of the training part when carving from a dataset split).
    """

    method: str = "auto"
    valid_fraction: float = 0.1
    test_fraction: float = 0.2
    identity: float = 0.3
    coverage: float = 0.8
    seed: int = 0


@dataclass
class Split:
    """A split of ``ids``: ``assign[i]`` is ``train``, ``valid`` or ``test``."""

    ids: list[str]
    assign: np.ndarray
    method: str
    clusters: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def index(self, name: str) -> np.ndarray:
        return np.flatnonzero(self.assign == name)

    def counts(self) -> dict[str, int]:
        return {s: int((self.assign == s).sum()) for s in SPLIT_NAMES}

    def save(self, path: str | Path) -> None:
        clusters = self.clusters if self.clusters is not None else np.full(len(self.ids), "", dtype=object)
        rows = ["id,split,cluster"] + [f"{_csv(i)},{s},{_csv(str(c))}" for i, s, c in zip(self.ids, self.assign, clusters, strict=True)]
        atomic_write_text(path, "\n".join(rows) + "\n")


def _csv(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text


def read_split(path: str | Path, ids: list[str]) -> Split:
    """Read a saved ``split.csv`` and check that it covers exactly ``ids``."""
    import polars as pl

    frame = pl.read_csv(path, infer_schema=False)
    saved = dict(zip(frame["id"].to_list(), frame["split"].to_list(), strict=True))
    if set(saved) != set(ids):
        raise InputError("the saved split does not cover the same records as the data; use a new --out folder",
                         source=str(path))
    clusters = dict(zip(frame["id"].to_list(), frame["cluster"].fill_null("").to_list(), strict=True))
    return Split(ids=list(ids), assign=np.array([saved[i] for i in ids], dtype=object), method="saved",
                 clusters=np.array([clusters[i] for i in ids], dtype=object))


def mmseqs_clusters(sequences: list[str], *, identity: float, coverage: float, threads: int = 1) -> np.ndarray:
    """Cluster ``sequences`` with ``mmseqs easy-cluster``; returns one cluster label per sequence."""
    exe = shutil.which("mmseqs")
    if exe is None:
        raise InputError("homology-aware splits need the MMseqs2 program ('mmseqs' on PATH): "
                         "apt-get install mmseqs2 (Debian/Ubuntu) or conda install -c bioconda mmseqs2")
    with tempfile.TemporaryDirectory(prefix="biolens-mmseqs-") as tmp:
        tmp = Path(tmp)
        (tmp / "in.fasta").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(sequences)))
        cmd = [exe, "easy-cluster", str(tmp / "in.fasta"), str(tmp / "out"), str(tmp / "work"),
               "--min-seq-id", str(identity), "-c", str(coverage), "--cov-mode", "0",
               "--threads", str(threads), "-v", "1"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise InputError(f"mmseqs easy-cluster failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        members = {}
        for line in (tmp / "out_cluster.tsv").read_text().splitlines():
            rep, member = line.split("\t")
            members[int(member[1:])] = rep
    return np.array([members[i] for i in range(len(sequences))], dtype=object)


def _assign_groups(groups: np.ndarray, fractions: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """Put whole groups into splits, in a seeded random order, filling each up to its fraction."""
    names, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    order = rng.permutation(len(names))
    total, out = len(groups), np.empty(len(names), dtype=object)
    targets = {k: v * total for k, v in fractions.items()}
    filled = dict.fromkeys(fractions, 0)
    for g in order:
        # the split furthest below its target takes the next group; train takes the rest
        need = {k: targets[k] - filled[k] for k in fractions if k != "train"}
        pick = max(need, key=need.get) if need and max(need.values()) >= sizes[g] / 2 else "train"
        out[g] = pick
        filled[pick] += sizes[g]
    return out[inverse]


def _carve(assign: np.ndarray, groups: np.ndarray, pool: str, fractions: dict[str, float], rng) -> np.ndarray:
    idx = np.flatnonzero(assign == pool)
    out = assign.copy()
    out[idx] = _assign_groups(groups[idx], fractions, rng)
    return out


def make_split(data: TaskData, config: SplitConfig) -> Split:
    """Split ``data`` (see :class:`SplitConfig`); empty splits are an error with a hint."""
    if config.method not in METHODS:
        raise InputError(f"unknown split method {config.method!r}; choose from {list(METHODS)}")
    rng = np.random.default_rng(config.seed)
    n, notes = len(data), []
    own = data.splits
    if config.method == "dataset" and own is None:
        raise InputError("this dataset has no split of its own; use --split random or homology", source=data.source)
    clusters = None
    if config.method == "homology":
        clusters = mmseqs_clusters(data.sequences, identity=config.identity, coverage=config.coverage)
        notes.append(f"MMseqs2 clusters at {config.identity:.0%} identity, {config.coverage:.0%} coverage: "
                     f"{len(set(clusters))} clusters of {n} proteins")
    groups = clusters if clusters is not None else np.arange(n).astype(str).astype(object)
    use_own = own is not None and config.method in ("auto", "dataset")
    if use_own:
        assign, method = own.copy(), "dataset"
        if not (assign == "valid").any():
            assign = _carve(assign, groups, "train", {"train": 1 - config.valid_fraction, "valid": config.valid_fraction}, rng)
            notes.append(f"validation carved from the dataset's training part ({config.valid_fraction:.0%}, seeded)")
    else:
        if own is not None and (own == "test").any():
            notes.append("the dataset's own split was ignored (--split " + config.method + ")")
        train = 1 - config.valid_fraction - config.test_fraction
        fractions = {"train": train, "valid": config.valid_fraction, "test": config.test_fraction}
        assign = _assign_groups(groups, fractions, rng)
        method = "homology" if clusters is not None else "random"
    split = Split(ids=list(data.ids), assign=assign, method=method, clusters=clusters, notes=notes)
    _check_nonempty(split, data)
    return split


def _check_nonempty(split: Split, data: TaskData) -> None:
    counts = split.counts()
    empty = [k for k, v in counts.items() if v == 0]
    if empty:
        raise InputError(f"the {' and '.join(empty)} split is empty ({counts}); add records or change "
                         "--split / the fractions", source=data.source)
