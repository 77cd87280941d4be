"""Measure protein property tasks on the full public files (not the shipped samples).

Runs :func:`biolens.proteins.supervised.run_task` for each task x encoder x head and prints one JSON
line per run (test metric with its 95% bootstrap interval, baselines, timings). Run folders go
under ``--out``; re-running reuses finished runs and cached embeddings.

    nice -n 19 python benchmarks/protein_tasks.py --shared ../shared/data --out runs/measure
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from biolens.core.train import TrainConfig
from biolens.proteins.supervised import HeadConfig, RunConfig, run_task
from biolens.proteins.tasks import combine, load_task

GRID = {
    "solubility": [("composition", "mlp"), ("dipeptide", "mlp"), ("onehot", "cnn")],
    "membrane": [("composition", "mlp"), ("dipeptide", "mlp"), ("onehot", "cnn")],
    "localization": [("composition", "mlp"), ("dipeptide", "mlp"), ("onehot", "cnn")],
    "enzyme": [("composition", "mlp"), ("dipeptide", "mlp"), ("onehot", "cnn")],
    "gb1": [("composition", "mlp"), ("dipeptide", "mlp"), ("onehot", "cnn")],
    "secondary-structure": [("onehot", "per_residue")],
}


def load(task: str, shared: Path):
    p = shared / "proteins"
    if task == "solubility":
        return load_task("solubility", p / "solubility/deepsol_val.csv")
    if task in ("membrane", "localization"):
        loc = p / "localization"
        return combine(load_task(task, loc / "deeploc_val.fasta"), load_task(task, loc / "deeploc_test.fasta"))
    if task == "enzyme":
        return load_task("enzyme", p / "enzyme/nrPDB-EC_2020.04_test_sequences.fasta")
    if task == "gb1":
        return load_task("gb1", p / "flip/gb1/three_vs_rest.csv.gz")
    return load_task("secondary-structure", p / "flip/secondary_structure")


def config(task: str, head: str) -> RunConfig:
    # modest on a shared 2-core CPU: the convolutional heads get few epochs
    epochs, patience = (4, 2) if task == "secondary-structure" else ((12, 3) if head == "cnn" else (100, 10))
    return RunConfig(train=TrainConfig(max_epochs=epochs, patience=patience, learning_rate=3e-3, batch_size=32),
                     head=HeadConfig(kind=head, max_length=40_000 if head == "cnn" else 2000),  # CNN: every protein
                     size_curve=() if head in ("cnn", "per_residue") else (0.1, 0.3), bootstrap=200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("runs/measure"))
    parser.add_argument("--tasks", nargs="*", default=list(GRID))
    parser.add_argument("--only", nargs="*", default=None, help="TASK:ENCODER:HEAD runs, in this order")
    args = parser.parse_args()
    cheap_first = [(t, e, h) for t in args.tasks for e, h in GRID[t] if h == "mlp"]
    cheap_first += [(t, e, h) for t in args.tasks for e, h in GRID[t] if h != "mlp"]
    if args.only:
        cheap_first = [tuple(x.split(":")) for x in args.only]
    loaded = {}
    for task, encoder, head in cheap_first:
        if task not in loaded:
            loaded[task] = load(task, args.shared)
        data = loaded[task]
        start = time.perf_counter()
        res = run_task(data, encoder, head, out_dir=args.out / f"{task}-{encoder}-{head}", config=config(task, head))
        row = {"task": task, "encoder": encoder, "head": head, "primary": res.primary,
               "model": res.metrics[res.primary],
               "baselines": {k: b["metrics"][res.primary] for k, b in res.baselines.items()},
               "counts": res.counts, "timings": res.timings, "wall_s": time.perf_counter() - start,
               "load": os.getloadavg(), "reused": res.reused}
        print(json.dumps(row, default=float), flush=True)


if __name__ == "__main__":
    main()
