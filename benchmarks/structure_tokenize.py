"""Speed of the structure pipeline on CPU: reading + featurising files, and tokenizing chains
with a trained (or freshly initialised) model. Prints JSON.

    python benchmarks/structure_tokenize.py [--structures DIR] [--run RUN] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax

from biolens.data import resolve_input
from biolens.structure import PRESETS, load_folder, load_run, tokenize
from biolens.structure._training import _initial


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--structures", default="sample:structures")
    parser.add_argument("--run", default=None, help="a trained run (default: an untrained default model)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.run:
        model, book, config = load_run(args.run)
    else:
        config = PRESETS["default"]
        model, book = _initial(config)
    start = time.perf_counter()
    chains, report = load_folder(resolve_input(args.structures), neighbours=config.model.neighbours)
    read_s = time.perf_counter() - start
    for chain in chains:  # compile every bucket once
        tokenize(model, book, chain)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for chain in chains:
            tokenize(model, book, chain)
        times.append(time.perf_counter() - start)
    best = min(times)
    print(json.dumps({
        "structures": args.structures, "files": report.files, "chains": len(chains), "residues": report.residues,
        "read_and_featurise_s": round(read_s, 3), "tokenize_s": round(best, 4),
        "residues_per_s": round(report.residues / best), "device": jax.devices()[0].platform,
        "load_average": os.getloadavg()[0],
    }, indent=2))


if __name__ == "__main__":
    main()
