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


def _deepbind_rows(path: Path, n: int, seed: int, balanced: bool) -> tuple[str, list[str]]:
    with gzip.open(path, "rt") as fh:
        header, *rows = fh.read().splitlines()
    rng = random.Random(seed)
    if balanced:  # half bound, half unbound, each in file order
        pos = [i for i, r in enumerate(rows) if r.endswith("\t1")]
        neg = [i for i, r in enumerate(rows) if r.endswith("\t0")]
        picked = sorted(rng.sample(pos, n // 2) + rng.sample(neg, n // 2))
    else:
        picked = sorted(rng.sample(range(len(rows)), n))
    return header, [rows[i] for i in picked]


def dna(shared: Path, seed: int = 0) -> None:
    """CTCFL (DeepBind ENCODE) training positives and test rows, and CTCF test rows (lab-rasool/TFBS)."""
    src = shared / "dna/tf_binding"
    ctcfl_ac = next((src / "deepbind_encode").glob("CTCFL_*_AC.seq.gz"))
    ctcfl_b = next((src / "deepbind_encode").glob("CTCFL_*_B.seq.gz"))
    picks = [
        (ctcfl_ac, 600, False, "CTCFL_K562_HudsonAlpha_AC_sample.seq.gz"),
        (ctcfl_b, 200, True, "CTCFL_K562_HudsonAlpha_B_sample.seq.gz"),
        (src / "CTCF_NH-A_CTCF_Broad_B.seq.gz", 200, True, "CTCF_NH-A_Broad_B_sample.seq.gz"),
    ]
    (OUT / "dna").mkdir(parents=True, exist_ok=True)
    for path, n, balanced, name in picks:
        header, rows = _deepbind_rows(path, n, seed, balanced)
        with gzip.GzipFile(OUT / "dna" / name, "wb", mtime=0) as fh:
            fh.write(("\n".join([header, *rows]) + "\n").encode())
    shutil.copy(src / "LICENSE-lab-rasool-TFBS", OUT / "dna/LICENSE-lab-rasool-TFBS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    solubility(args.shared)
    dna(args.shared)


if __name__ == "__main__":
    main()
