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


PROVENANCE = """\
# sample:structures

Copied byte for byte by `scripts/make_samples.py` (seed 0, files of at most 25 kB):

- `bm5/`: unbound PDB files of the protein docking benchmark 5, from haddocking/BM5-clean
  (Apache-2.0, `bm5/LICENSE`).
- `cath/`: whole PDB entries in mmCIF, as collected by zibaee-2021/MSc_2024_project for CATH
  single-domain chains; `chains.lst` keeps their lines of its `pdbchains_565.lst` (the chain to
  take). The coordinates are Protein Data Bank archive files, released under CC0 1.0 by the wwPDB.
"""


def structures(shared: Path, per_source: int = 4, max_bytes: int = 25_000, seed: int = 0) -> None:
    """A few small files from each structure source, copied byte for byte; the CATH part keeps
    the chosen entries' lines of its chain list (a `.lst` file, read by the folder rules)."""
    src = shared / "structures"
    dst = OUT / "structure"
    shutil.rmtree(dst, ignore_errors=True)
    rng = random.Random(seed)
    bm5 = sorted(p for p in (src / "bm5_unbound").glob("*.pdb.gz") if p.stat().st_size <= max_bytes)
    (dst / "bm5").mkdir(parents=True)
    for path in sorted(rng.sample(bm5, per_source)):
        shutil.copyfile(path, dst / "bm5" / path.name)
    shutil.copyfile(src / "bm5_unbound/LICENSE", dst / "bm5/LICENSE")
    listed = {line.split("_")[0]: line for line in (src / "cath_single_domain/pdbchains_565.lst").read_text().split()}
    cath = sorted(p for p in (src / "cath_single_domain").glob("*.cif.gz")
                  if p.stat().st_size <= max_bytes and p.name.split(".")[0] in listed)
    (dst / "cath").mkdir(parents=True)
    picked = sorted(rng.sample(cath, per_source))
    for path in picked:
        shutil.copyfile(path, dst / "cath" / path.name)
    lines = [listed[p.name.split(".")[0]] for p in picked]
    (dst / "cath/chains.lst").write_text("\n".join(lines) + "\n")
    (dst / "PROVENANCE.md").write_text(PROVENANCE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    solubility(args.shared)
    structures(args.shared)


if __name__ == "__main__":
    main()
