"""The ogbl-ddi acceptance measurement: GraphSAGE trained with the squared-hinge AUC loss (``default``), BCE (``bce``) and
PLNLP's pairwise AUC loss (``auc`` preset) on the full training graph, three seeds each, one run
after the other. Prints JSON: validation Hits@20/50/100 and MRR (mean ± std over seeds), test
metrics when the dataset has a test split, the epoch of the best validation Hits@20, wall-clock
and CPU seconds per epoch and up to the best epoch, and peak memory.

    python benchmarks/graphs_acceptance.py --dataset ../shared/data/graphs/ogbl_ddi --out runs/ddi

Run folders that exist are resumed (a finished seed is not trained again), so the same command
also tabulates finished runs; ``--tabulate NAME RUN [RUN ...]`` tabulates finished run folders
(e.g. one per seed) without training:

    python benchmarks/graphs_acceptance.py --tabulate default runs/ddi_e200 --tabulate short runs/s0 runs/s1 runs/s2
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from biolens.cli import main as cli

PRESETS = ("default", "bce", "auc")
KEYS = ("hits@20", "hits@50", "hits@100", "mrr", "auc")


def _seed_table(seed_dir: Path) -> dict:
    """One seed from its ``metrics.jsonl``: the epoch of the best validation Hits@20, the metrics
    there and at the last epoch, and the seconds spent until the best epoch and in all."""
    rows = [json.loads(line) for line in (seed_dir / "metrics.jsonl").read_text().splitlines()]
    val = [r for r in rows if r.get("split") == "val"]
    best = max(range(len(val)), key=lambda i: val[i]["hits@20"])  # the first best, as fit keeps it
    upto = val[: best + 1]
    return {"best_epoch": best + 1, "epochs": len(val),
            "best": {k: val[best][k] for k in KEYS}, "last": {k: val[-1][k] for k in KEYS},
            "seconds_to_best": sum(r["train_seconds"] + r["eval_seconds"] for r in upto),
            "cpu_seconds_to_best": sum(r["train_cpu_seconds"] + r["eval_cpu_seconds"] for r in upto),
            "seconds_total": sum(r["train_seconds"] + r["eval_seconds"] for r in val),
            "cpu_seconds_total": sum(r["train_cpu_seconds"] + r["eval_cpu_seconds"] for r in val),
            "peak_rss_mb": max(r.get("peak_rss_mb", 0.0) for r in val)}


def _seed_dirs(run: Path) -> list[Path]:
    """The seed folders of a run (``train/seed-S``; ``seed-S`` in the older layout)."""
    found = sorted((run / "train").glob("seed-*")) or sorted(run.glob("seed-*"))
    if not found:
        raise SystemExit(f"{run}: no seed folders (train/seed-S)")
    return found


def _mean_std(values: list[float]) -> list[float]:
    return [round(float(np.mean(values)), 4), round(float(np.std(values)), 4)]


def tabulate(runs: list[Path]) -> dict:
    """Mean ± std over the seeds of one or more run folders of one setting: validation metrics at the
    best-on-validation epoch and at the last epoch, epochs, time and memory."""
    dirs = [d for run in runs for d in _seed_dirs(run)]
    seeds = [_seed_table(d) for d in dirs]
    out = {"runs": [str(r) for r in runs], "seeds": [d.name.removeprefix("seed-") for d in dirs],
           "valid_best": {k: _mean_std([s["best"][k] for s in seeds]) for k in KEYS},
           "valid_last": {k: _mean_std([s["last"][k] for s in seeds]) for k in KEYS},
           "best_epoch": [s["best_epoch"] for s in seeds], "epochs": [s["epochs"] for s in seeds]}
    for key in ("seconds_to_best", "cpu_seconds_to_best", "seconds_total", "cpu_seconds_total", "peak_rss_mb"):
        out[f"{key}_max"] = round(max(s[key] for s in seeds), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="../shared/data/graphs/ogbl_ddi")
    parser.add_argument("--out", type=Path, default=Path("runs/ddi"))
    parser.add_argument("--seeds", default="3")
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated presets to train and tabulate")
    parser.add_argument("--tabulate", nargs="+", action="append", metavar=("NAME", "RUN"), default=[],
                        help="only tabulate finished run folders as one setting: NAME RUN [RUN ...] (repeatable)")
    args = parser.parse_args()
    table = {}
    for name, *runs in args.tabulate:
        table[name] = tabulate([Path(r) for r in runs])
    for name in [] if args.tabulate else args.presets.split(","):
        run = args.out / name
        code = cli(["graph", "train", "--dataset", args.dataset, "--out", str(run), "--preset", name,
                    "--seeds", args.seeds, "-q"])
        if code != 0:
            raise SystemExit(f"training {name} failed with exit code {code}")
        table[name] = tabulate([run])
    table["load_average"] = [round(v, 2) for v in os.getloadavg()]
    table["cpus"] = os.cpu_count()
    print(json.dumps(table, indent=2, default=lambda v: float(np.asarray(v))))


if __name__ == "__main__":
    main()
