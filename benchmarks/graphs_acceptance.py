"""The ogbl-ddi acceptance measurement: GraphSAGE trained with the squared-hinge AUC loss (``default``), BCE (``bce``) and
PLNLP's pairwise AUC loss (``auc`` preset) on the full training graph, three seeds each, one run
after the other. Prints JSON: validation Hits@20/50/100 and MRR (mean ± std over seeds), test
metrics when the dataset has a test split, the epoch of the best validation Hits@20, wall-clock
and CPU seconds per epoch and up to the best epoch, and peak memory.

    python benchmarks/graphs_acceptance.py --dataset ../shared/data/graphs/ogbl_ddi --out runs/ddi

Run folders that exist are resumed (a finished seed is not trained again), so the same command
also tabulates finished runs.
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


def _seed_timing(seed_dir: Path) -> dict[str, float]:
    """Epoch of the best validation Hits@20 and the seconds spent until then (training + evaluation)."""
    rows = [json.loads(line) for line in (seed_dir / "metrics.jsonl").read_text().splitlines()]
    val = [r for r in rows if r.get("split") == "val"]
    best = max(range(len(val)), key=lambda i: val[i]["hits@20"])  # the first best, as fit keeps it
    upto = val[: best + 1]
    return {"best_epoch": best + 1, "epochs": len(val),
            "seconds_to_best": sum(r["train_seconds"] + r["eval_seconds"] for r in upto),
            "cpu_seconds_to_best": sum(r["train_cpu_seconds"] + r["eval_cpu_seconds"] for r in upto),
            "seconds_total": sum(r["train_seconds"] + r["eval_seconds"] for r in val)}


def tabulate(run: Path) -> dict:
    summary = json.loads((run / "summary.json").read_text())
    seeds = [_seed_timing(run / f"seed-{s}") for s in summary["seeds"]]
    out = {"seeds": summary["seeds"],
           "valid": {k: [round(summary["valid"][k]["mean"], 4), round(summary["valid"][k]["std"], 4)] for k in KEYS}}
    if "test" in summary:
        out["test"] = {k: [round(summary["test"][k]["mean"], 4), round(summary["test"][k]["std"], 4)] for k in KEYS}
    out["best_epoch"] = [s["best_epoch"] for s in seeds]
    out["epochs"] = seeds[0]["epochs"]
    for key in ("seconds_to_best", "cpu_seconds_to_best", "seconds_total"):
        out[f"{key}_max"] = round(max(s[key] for s in seeds), 1)
    for key in ("epoch_seconds_median", "epoch_cpu_seconds_median", "peak_rss_mb"):
        out[key] = round(summary[key], 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="../shared/data/graphs/ogbl_ddi")
    parser.add_argument("--out", type=Path, default=Path("runs/ddi"))
    parser.add_argument("--seeds", default="3")
    args = parser.parse_args()
    table = {}
    for name in PRESETS:
        run = args.out / name
        code = cli(["graph", "train", "--dataset", args.dataset, "--out", str(run), "--preset", name,
                    "--seeds", args.seeds, "-q"])
        if code != 0:
            raise SystemExit(f"training {name} failed with exit code {code}")
        table[name] = tabulate(run)
    table["load_average"] = [round(v, 2) for v in os.getloadavg()]
    table["cpus"] = os.cpu_count()
    print(json.dumps(table, indent=2, default=lambda v: float(np.asarray(v))))


if __name__ == "__main__":
    main()
