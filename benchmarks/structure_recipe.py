"""Structure tokenizer settings side by side: train each named setting on the train files of a
folder and score it on the held-out test files (the same split as ``biolens structure train``).
Prints JSON: per setting the test metrics, training steps, CPU and wall seconds.

    PYTHONPATH=src nice -n 10 python benchmarks/structure_recipe.py \\
        --structures ../shared/data/structures/cath_single_domain \\
        --setting chain:preset=default,codebook_size=256 \\
        --setting global:preset=default,codebook_size=256,decoder=global --max-steps 600

A setting is ``NAME:preset=P,field=value,...``: a preset of ``biolens structure train`` with model
(``ModelConfig``), training (``TrainConfig``) or top-level (``StructureConfig``) fields changed.
The folder is read once; each setting trains from scratch (no run folder, nothing resumed).
``--identity 0.3`` also scores ``test_novel``: the test chains whose MMseqs2 cluster (at that
identity, 80% coverage, over all chains) holds no training chain -- held out by file *and* by
sequence identity.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import time
from dataclasses import replace
from typing import Any

from biolens.data import resolve_input
from biolens.structure import PRESETS, StructureConfig, load_folder
from biolens.structure._evaluate import evaluate_chains
from biolens.structure._training import fit_structure_model


def _value(text: str, like: Any) -> Any:
    if isinstance(like, bool):
        return text.lower() in ("1", "true", "yes")
    if like is None:
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                pass
        return None if text == "none" else text
    return type(like)(text)


def parse_setting(text: str) -> tuple[str, StructureConfig]:
    """``NAME:preset=P,field=value,...`` -> (name, config)."""
    name, _, rest = text.partition(":")
    pairs = dict(item.split("=", 1) for item in rest.split(",") if item)
    config = PRESETS[pairs.pop("preset", "default")]
    groups = {"model": {}, "train": {}, "top": {}}
    for key, raw in pairs.items():
        for group, obj in (("model", config.model), ("train", config.train), ("top", config)):
            if key in {f.name for f in dataclasses.fields(obj)} and key not in ("model", "train"):
                groups[group][key] = _value(raw, getattr(obj, key))
                break
        else:
            raise SystemExit(f"{name}: no setting named {key!r}")
    config = replace(config, model=replace(config.model, **groups["model"]),
                     train=replace(config.train, **groups["train"]), **groups["top"])
    return name, config


def novel_test_chains(chains: list, identity: float) -> list:
    """Test chains sharing no MMseqs2 cluster with a training chain."""
    import gemmi

    from biolens.proteins.supervised._splits import mmseqs_clusters

    def one(name: str) -> str:
        info = gemmi.find_tabulated_residue(name)
        return info.one_letter_code.upper() if info is not None and info.one_letter_code != " " else "X"

    labels = mmseqs_clusters(["".join(one(n) for n in c.backbone.names) for c in chains], identity=identity,
                             coverage=0.8)
    seen = {lab for lab, c in zip(labels, chains, strict=True) if c.split == "train"}
    return [c for lab, c in zip(labels, chains, strict=True) if c.split == "test" and lab not in seen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--structures", default="../shared/data/structures/cath_single_domain")
    parser.add_argument("--setting", action="append", required=True)
    parser.add_argument("--max-steps", type=int, default=None, help="override every setting's steps")
    parser.add_argument("--identity", type=float, default=None, help="also score test chains novel at this identity")
    args = parser.parse_args()
    settings = [parse_setting(s) for s in args.setting]
    neighbours = {c.model.neighbours for _, c in settings}
    if len(neighbours) != 1:
        raise SystemExit("all settings must use the same neighbours (the folder is read once)")
    base = settings[0][1]
    start = time.perf_counter()
    chains, report = load_folder(resolve_input(args.structures), neighbours=neighbours.pop(), split_seed=base.split_seed,
                                 val=base.val_fraction, test=base.test_fraction)
    out: dict[str, Any] = {"structures": args.structures, "read_s": round(time.perf_counter() - start, 1),
                           "files": report.files, "chains_per_split": {
                               s: sum(c.split == s for c in chains) for s in ("train", "val", "test")}}
    test = [c for c in chains if c.split == "test"]
    novel = novel_test_chains(chains, args.identity) if args.identity else None
    if novel is not None:
        out["test_novel_chains"] = len(novel)
    for name, config in settings:
        if args.max_steps:
            config = replace(config, train=replace(config.train, max_steps=args.max_steps))
        cpu, wall = time.process_time(), time.perf_counter()
        fit = fit_structure_model(chains, config)
        train_cpu, train_wall = time.process_time() - cpu, time.perf_counter() - wall
        metrics = evaluate_chains(fit.model, fit.state, test)
        if novel:
            metrics["novel"] = {k: v for k, v in evaluate_chains(fit.model, fit.state, novel).items()
                                if k in ("rmsd", "rmsd_median", "lddt", "tm_score", "chains")}
        out[name] = {"setting": dataclasses.asdict(config) | {}, "steps": fit.steps, "best_step": fit.best_step,
                     "train_cpu_s": round(train_cpu, 1), "train_wall_s": round(train_wall, 1),
                     "validation": fit.best_metrics, "test": metrics}
        print(json.dumps({name: {k: out[name][k] for k in ("steps", "train_cpu_s", "train_wall_s")}
                          | {k: metrics.get(k) for k in ("rmsd", "rmsd_median", "window_rmsd_32", "lddt", "tm_score",
                                                         "codebook_usage", "perplexity", "novel")}}), flush=True)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["load_average"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
