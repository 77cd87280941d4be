"""The structure-token acceptance measurement: train the default preset (K = 256), the small preset
(the default before issue 16, K = 64) and the default's decoder on Foldseek 3Di states, then report
each run's metrics on its held-out test files (written by `train` as evaluation.json) next to 3Di's
statistics. Prints JSON. About 12.5 + 5 + 12 CPU-minutes on cath_single_domain.

    nice -n 19 python benchmarks/structure_acceptance.py --structures ../shared/data/structures --out runs/acceptance

Runs that exist already are resumed or reused (train resumes a run folder with the same settings).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from biolens.cli import main as cli

RUNS = {"default": [], "small": ["--preset", "small"], "3di": ["--model", "3di"]}
KEYS = ("rmsd", "rmsd_median", "window_rmsd_32", "lddt", "tm_score", "codebook_usage", "codes_used", "perplexity",
        "bits_per_residue", "chains", "residues")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--structures", default="../shared/data/structures")
    parser.add_argument("--out", type=Path, default=Path("runs/structure_acceptance"))
    args = parser.parse_args()
    table = {}
    for name, extra in RUNS.items():
        start = time.perf_counter()
        code = cli(["structure", "train", "--structures", args.structures, "--out", str(args.out / name), "-q", *extra])
        if code != 0:
            raise SystemExit(f"training {name} failed with exit code {code}")
        result = json.loads((args.out / name / "evaluation.json").read_text())
        table[name] = {k: result.get(k) for k in KEYS} | {"wall_s": round(time.perf_counter() - start, 1)}
        table["3di_states"] = result["3di"]
    table["load_average"] = os.getloadavg()[0]
    print(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
