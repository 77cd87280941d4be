"""Regenerate the small samples shipped in src/biolens/data from ../shared/data.

Samples are seeded random subsets of public datasets, copied unchanged (rows/records are
selected, never edited), with the source's licence beside them. Run from the repo root:

    python scripts/make_samples.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import random
import shutil
from pathlib import Path

import numpy as np

OUT = Path("src/biolens/data")


def solubility(shared: Path, n: int = 400, seed: int = 0) -> None:
    src = shared / "proteins/solubility/deepsol_val.csv"
    with src.open() as fh:
        rows = list(csv.DictReader(fh))
    picked = sorted(random.Random(seed).sample(range(len(rows)), n))
    dst = OUT / "proteins/solubility.csv"
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["sequences", "labels"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows[i] for i in picked)
    shutil.copy(shared / "proteins/solubility/LICENSE", OUT / "proteins/LICENSE-DeepSol")


def ogbl_ddi(shared: Path, n: int = 400, seed: int = 0) -> None:
    """A random ``n``-node induced subgraph of ogbl-ddi in the OGB layout, nodes renumbered in
    increasing original index; valid positives/negatives are the real valid split's pairs whose
    two drugs are both kept. Also writes valid.pt as OGB does (torch.save, legacy format)."""
    src = shared / "graphs/ogbl_ddi"
    dst = OUT / "graphs/ogbl_ddi_sample"
    shutil.rmtree(dst, ignore_errors=True)
    with gzip.open(src / "raw/num-node-list.csv.gz", "rt") as fh:
        total = int(fh.read().split()[0])
    keep = np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))
    new_id = np.full(total, -1, dtype=np.int64)
    new_id[keep] = np.arange(n)

    def remap(pairs: np.ndarray) -> np.ndarray:
        mapped = new_id[pairs]
        return mapped[(mapped >= 0).all(1)]

    with gzip.open(src / "raw/edge.csv.gz", "rt") as fh:
        edges = remap(np.loadtxt(fh, delimiter=",", dtype=np.int64))
    (dst / "raw").mkdir(parents=True)
    with gzip.GzipFile(dst / "raw/edge.csv.gz", "wb", mtime=0) as fh:
        fh.write("".join(f"{u},{v}\n" for u, v in edges).encode())
    for name, value in (("num-node-list", n), ("num-edge-list", len(edges))):
        with gzip.GzipFile(dst / f"raw/{name}.csv.gz", "wb", mtime=0) as fh:
            fh.write(f"{value}\n".encode())
    with gzip.open(src / "mapping/nodeidx2drugid.csv.gz", "rt") as fh:
        rows = list(csv.reader(fh))
    (dst / "mapping").mkdir()
    with gzip.GzipFile(dst / "mapping/nodeidx2drugid.csv.gz", "wb", mtime=0) as fh:
        fh.write((",".join(rows[0]) + "\n" + "".join(f"{i},{rows[1 + old][1]}\n" for i, old in enumerate(keep))).encode())
    with np.load(src / "split/target/valid.npz", allow_pickle=False) as z:
        valid = {"edge": remap(z["edge"]), "edge_neg": remap(z["edge_neg"])}
    (dst / "split/target").mkdir(parents=True)
    np.savez_compressed(dst / "split/target/valid.npz", **valid)
    try:
        import torch
    except ImportError:
        print("torch is not installed: valid.pt not written")
    else:
        torch.save(valid, dst / "split/target/valid.pt", _use_new_zipfile_serialization=False)
    print(f"ogbl_ddi_sample: {n} nodes, {len(edges)} edges, {len(valid['edge'])} valid positives, "
          f"{len(valid['edge_neg'])} valid negatives")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    solubility(args.shared)
    ogbl_ddi(args.shared)


if __name__ == "__main__":
    main()
