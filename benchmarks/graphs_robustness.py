"""Does OGB's validation split agree with a distribution-shift split carved from the training edges?

For each setting (a preset with optional overrides), train one seed on the ogbl-ddi training
graph *minus* the edges inside a held-out drug group (:func:`biolens.graphs.group_holdout_split`),
then score both OGB's validation split and the held-out group split with the model chosen on
validation. Prints JSON: per setting both metric sets, and the Spearman correlation of their
Hits@20 over the settings (with 2 settings only the agreement of the ranking is meaningful).

    python benchmarks/graphs_robustness.py --dataset ../shared/data/graphs/ogbl_ddi --out runs/robust \\
        --setting auc:loss=auc --setting hinge:loss=hinge --epochs 6
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from biolens.data import resolve_input
from biolens.graphs import evaluate_run, group_holdout_split, load_dataset, preset, train_run

KEYS = ("hits@20", "hits@50", "hits@100", "mrr", "auc")


def _setting(text: str) -> tuple[str, str, dict]:
    """``name:preset=auc,loss=hinge`` -> (name, preset, link/model overrides)."""
    name, _, rest = text.partition(":")
    values = dict(kv.split("=", 1) for kv in rest.split(",") if kv)
    return name, values.pop("preset", "auc"), values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="../shared/data/graphs/ogbl_ddi")
    parser.add_argument("--out", type=Path, default=Path("runs/robust"))
    parser.add_argument("--setting", action="append", default=[], help="name:preset=P,loss=L,num_neg=K")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--group-fraction", type=float, default=0.2)
    args = parser.parse_args()
    data = load_dataset(resolve_input(args.dataset))
    train_graph, group = group_holdout_split(data.graph, args.group_fraction, seed=0)
    data = dataclasses.replace(data, graph=train_graph)
    table = {"group_split": group.source, "group_positives": len(group.edge), "group_negatives": len(group.edge_neg)}
    for name, base, over in map(_setting, args.setting or ["auc:preset=auc"]):
        link = {k: (int(v) if k == "num_neg" else v) for k, v in over.items()}
        config = preset(base, train=dict(max_epochs=args.epochs), link=link)
        run = args.out / name
        train_run(data, config, run)
        table[name] = {"valid": {k: round(evaluate_run(run, data.valid).metrics[k], 4) for k in KEYS},
                       "group": {k: round(evaluate_run(run, group).metrics[k], 4) for k in KEYS}}
    names = [n for n in table if isinstance(table[n], dict) and "valid" in table[n]]
    if len(names) > 1:
        v = np.argsort(np.argsort([table[n]["valid"]["hits@20"] for n in names]))
        g = np.argsort(np.argsort([table[n]["group"]["hits@20"] for n in names]))
        table["spearman_hits@20"] = float(np.corrcoef(v, g)[0, 1])
    table["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
