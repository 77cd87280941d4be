"""Regenerate the small samples shipped in src/biolens/data from ../shared/data.

Samples are seeded random subsets of public datasets, copied unchanged (rows/records are
selected, never edited), with the source's licence beside them. Run from the repo root:

    python scripts/make_samples.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    solubility(args.shared)


if __name__ == "__main__":
    main()
