"""Where a pretrained masked LM lands beside UniRep and composition on the shipped samples.

A stand-in for ``biolens benchmark`` (finished on another branch): the same tasks (the shipped
samples of its default suite), the same head for every pooled encoder (``linear`` on mean-pooled
embeddings) and its pooled-head training settings; every run also reports the four baselines
(coin flip, proportional, majority, composition + logistic/ridge regression).

    python benchmarks/lm_encoder_grid.py --encoders composition unirep-64 mlm:small --out runs/grid

Prints JSON: per task, the primary test metric of each encoder with its 95% bootstrap interval,
the baselines' values, and CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from biolens.core.train import TrainConfig
from biolens.data import resolve_input
from biolens.proteins.supervised import HeadConfig, RunConfig, run_task
from biolens.proteins.tasks import load_task

TASKS = {
    "solubility": ("solubility", "sample:solubility", {}),
    "localization": ("localization", "sample:deeploc", {}),
    "membrane": ("membrane", "sample:deeploc", {}),
    "enzyme": ("enzyme", "sample:enzyme", {"level": 1}),
    "gb1": ("gb1", "sample:gb1", {}),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoders", nargs="+", default=["composition", "unirep-64", "mlm:small"])
    ap.add_argument("--heads", nargs="+", default=["linear"], help="heads per encoder (linear, mlp, knn...)")
    ap.add_argument("--tasks", nargs="+", default=list(TASKS))
    ap.add_argument("--out", type=Path, required=True, help="folder of the run folders (reused when rerun)")
    ap.add_argument("--bootstrap", type=int, default=200)
    args = ap.parse_args()
    train = TrainConfig(max_epochs=100, patience=10, learning_rate=1e-2, batch_size=32, seed=0)
    base = RunConfig(train=train, bootstrap=args.bootstrap, size_curve=())
    result: dict = {"settings": {"heads": args.heads, "training": "max_epochs=100 patience=10 lr=1e-2 batch=32",
                                 "pooling": "mean"}, "tasks": {}}
    for task in args.tasks:
        loader, data, options = TASKS[task]
        loaded = load_task(loader, resolve_input(data), **options)
        row: dict = {}
        for encoder in args.encoders:
            for head in args.heads:
                t0 = time.process_time()
                folder = args.out / task / f"{encoder.replace(':', '_').replace('/', '_')}+{head}"
                res = run_task(loaded, encoder, replace(HeadConfig(kind=head), hidden=64), out_dir=folder, config=base)
                m = res.metrics[res.primary]
                row[f"{encoder} + {head}"] = {res.primary: round(m["value"], 4), "low": round(m["low"], 4),
                                              "high": round(m["high"], 4), "cpu_s": round(time.process_time() - t0, 1)}
                row["baselines"] = {k: round(v["metrics"][res.primary]["value"], 4) for k, v in res.baselines.items()}
                row["counts"] = res.counts
        result["tasks"][task] = row
        print(json.dumps({task: row}), flush=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
