"""ogbl-ddi recipe study: train settings (a preset with overrides) and print JSON with the per-epoch
validation curves, best epoch beside last epoch, CPU seconds and peak memory.

    python benchmarks/graphs_recipe.py --dataset ../shared/data/graphs/ogbl_ddi --out runs/recipe \\
        --setting lr3:preset=default,learning_rate=0.003,schedule=constant --epochs 10 [--seeds 3] [--group]

A setting is ``name:preset=P,field=value,...``; each field is looked up in the model, train and link
settings (``GraphModelConfig``, ``TrainConfig``, ``LinkSettings``) by name. With ``--group`` every
setting trains on the training graph minus the edges inside a held-out drug group
(:func:`biolens.graphs.group_holdout_split`, 20% of the drugs, seed 0) and the model kept on
validation is also scored on that group split. Finished run folders are read, not retrained.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np

from biolens.core.train import TrainConfig
from biolens.data import resolve_input
from biolens.graphs import evaluate_run, group_holdout_split, load_dataset, preset, train_run
from biolens.graphs._model import GraphModelConfig
from biolens.graphs._train import LinkSettings

KEYS = ("hits@20", "hits@50", "hits@100", "mrr", "auc")
FIELDS = {part: {f.name: f.type for f in dataclasses.fields(cls)}
          for part, cls in (("model", GraphModelConfig), ("train", TrainConfig), ("link", LinkSettings))}


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def parse_setting(text: str) -> tuple[str, str, dict[str, dict]]:
    """``name:preset=P,learning_rate=0.003`` -> (name, preset, {part: overrides})."""
    name, _, rest = text.partition(":")
    values = dict(kv.split("=", 1) for kv in rest.split(",") if kv)
    base = values.pop("preset", "default")
    over: dict[str, dict] = {"model": {}, "train": {}, "link": {}}
    for key, raw in values.items():
        part = next((p for p, fields in FIELDS.items() if key in fields), None)
        if part is None:
            raise SystemExit(f"setting {name}: unknown field {key!r}")
        over[part][key] = _value(raw)
    return name, base, over


def seed_curve(seed_dir: Path) -> dict:
    rows = [json.loads(line) for line in (seed_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    val = [r for r in rows if r.get("split") == "val"]
    curve = [r["hits@20"] for r in val]
    best = int(np.argmax(curve))  # the first best, as fit keeps it
    return {"best_epoch": best + 1, "epochs": len(val),
            "best": {k: round(val[best][k], 4) for k in KEYS}, "last": {k: round(val[-1][k], 4) for k in KEYS},
            "hits@20_per_epoch": [round(v, 4) for v in curve],
            "train_cpu_seconds_per_epoch_median": round(float(np.median([r["train_cpu_seconds"] for r in val[1:] or val])), 1),
            "cpu_seconds_total": round(sum(r["train_cpu_seconds"] + r["eval_cpu_seconds"] for r in val), 1),
            "wall_seconds_total": round(sum(r["train_seconds"] + r["eval_seconds"] for r in val), 1),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in val), 1)}


def mean_std(values: list[float]) -> list[float]:
    a = np.asarray(values, dtype=np.float64)
    return [round(float(a.mean()), 4), round(float(a.std(ddof=1)) if len(a) > 1 else 0.0, 4)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="../shared/data/graphs/ogbl_ddi")
    parser.add_argument("--out", type=Path, default=Path("runs/recipe"))
    parser.add_argument("--setting", action="append", required=True, help="name:preset=P,field=value,...")
    parser.add_argument("--epochs", type=int, default=None, help="override max_epochs of every setting")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--group", action="store_true", help="train without a held-out drug group; score it too")
    args = parser.parse_args()
    data = load_dataset(resolve_input(args.dataset))
    table: dict = {"dataset": args.dataset, "valid_split": "OGB valid (133,489 pos / 101,882 neg)"}
    group = None
    if args.group:
        train_graph, group = group_holdout_split(data.graph, 0.2, seed=0)
        data = dataclasses.replace(data, graph=train_graph)
        table["group_split"] = {"source": group.source, "positives": len(group.edge), "negatives": len(group.edge_neg),
                                "training_edges_left": train_graph.num_edges}
    for text in args.setting:
        name, base, over = parse_setting(text)
        if args.epochs is not None:
            over["train"]["max_epochs"] = args.epochs
        config = preset(base, **over)
        run = args.out / name
        t0, cpu0 = time.perf_counter(), time.process_time()
        result = train_run(data, config, run, seeds=tuple(range(args.seeds)))
        row: dict = {"setting": text, "preset": base, "overrides": over,
                     "process_wall_seconds": round(time.perf_counter() - t0, 1),
                     "process_cpu_seconds": round(time.process_time() - cpu0, 1),
                     "seeds": [seed_curve(run / "train" / f"seed-{s}") for s in range(args.seeds)]}
        for which in ("best", "last"):
            row[f"{which}_mean_std"] = {k: mean_std([s[which][k] for s in row["seeds"]]) for k in KEYS}
        row["best_epoch"] = [s["best_epoch"] for s in row["seeds"]]
        if group is not None:
            ev = evaluate_run(run, group)
            row["group"] = {k: round(ev.metrics[k], 4) for k in KEYS}
        row["epoch_cpu_seconds_median"] = round(result.epoch_cpu_seconds_median, 1)
        table[name] = row
        print(json.dumps({name: row}, default=float), flush=True)
    table["load_average"] = [round(v, 2) for v in os.getloadavg()]
    table["cpus_used"] = len(os.sched_getaffinity(0))
    print(json.dumps(table, indent=2, default=float))


if __name__ == "__main__":
    main()
