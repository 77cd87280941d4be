"""Run folders: train one or several seeds, then evaluate, score pairs and rank partners.

A run folder::

    RUN/config.json        GraphRunConfig + the data it was trained on
    RUN/graph.npz          the training graph (edges, node count, node names)
    RUN/seed-S/            one folder per seed: fit's resumable state and metrics.jsonl,
                           model/ (checkpoint), nodes.npz (final node representations),
                           result.json (best validation metrics, time and memory per epoch)
    RUN/summary.json       mean and std over seeds of the validation metrics
    RUN/report.html        learning curves and score histograms

Running the same training command again resumes an interrupted run; a finished seed is not
trained again. Node representations are stored, so evaluation and prediction need neither
the graph nor a GNN pass.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ..core.checkpoint import load_checkpoint, save_checkpoint
from ..core.config import config_from_dict, config_to_dict
from ..core.errors import InputError
from ..core.files import atomic_path, atomic_write_text
from ..core.train import fit
from ._graph import Graph, LinkSplit, pair_keys, remap_pairs
from ._io import LinkDataset, read_split
from ._model import GraphModelConfig, LinkModel, trainable_filter
from ._presets import GraphRunConfig
from ._propagate import graph_adjacency
from ._sampling import NeighborSampler
from ._train import (
    LinkSettings,
    PairBatches,
    encode_nodes,
    link_metrics,
    make_evaluator,
    make_loss_fn,
    score_pairs,
)

__all__ = ["TrainedRun", "best_seed", "evaluate_run", "load_run", "summarize", "train_run"]

MAIN_METRIC = "hits@20"


def _run_config_from_dict(data: dict[str, Any]) -> GraphRunConfig:
    from ..core.train import TrainConfig

    return GraphRunConfig(model=config_from_dict(GraphModelConfig, data["model"]),
                          train=config_from_dict(TrainConfig, data["train"]),
                          link=config_from_dict(LinkSettings, data["link"]))


def _prepare(run_dir: Path, dataset: LinkDataset, config: GraphRunConfig, seeds: tuple[int, ...]) -> dict[str, Any]:
    graph = dataset.graph
    record = {"config": config_to_dict(config), "seeds": list(seeds),
              "data": {"source": dataset.source, "num_nodes": graph.num_nodes, "num_edges": graph.num_edges,
                       "valid": dataset.valid.source if dataset.valid else None, "split_note": dataset.split_note}}
    path = run_dir / "config.json"
    if path.exists():
        old = json.loads(path.read_text())
        same = old["config"] == record["config"] and {k: old["data"][k] for k in ("num_nodes", "num_edges")} == {
            k: record["data"][k] for k in ("num_nodes", "num_edges")}
        if not same:
            raise InputError(f"{run_dir} holds a run with other settings or data; use a new --out folder "
                             "or the same settings to resume it")
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    if not (run_dir / "graph.npz").exists():
        atomic_path(run_dir / "graph.npz", lambda tmp: _save_graph(tmp, graph, dataset))
    if dataset.split_note and dataset.valid is not None and not (run_dir / "valid.npz").exists():
        atomic_path(run_dir / "valid.npz", lambda tmp: _save_npz(tmp, edge=dataset.valid.edge, edge_neg=dataset.valid.edge_neg))
    return record


def _save_npz(tmp: Path, **arrays: np.ndarray | np.generic) -> None:
    with tmp.open("wb") as fh:
        np.savez_compressed(fh, **arrays)


def _save_graph(tmp: Path, graph: Graph, dataset: LinkDataset) -> None:
    names = graph.names if graph.names is not None else np.zeros(0, dtype="<U1")
    original = {} if dataset.original_ids is None else {
        "original_ids": dataset.original_ids, "original_num_nodes": np.int64(dataset.original_num_nodes)}
    _save_npz(tmp, edges=graph.edges.astype(np.int32), num_nodes=np.int64(graph.num_nodes), names=names.astype(str),
              **original)


def _epoch_stats(history: list[dict[str, Any]]) -> dict[str, float]:
    """Medians over evaluations of the time per epoch (the first, which compiles, left out)."""
    val = [r for r in history if r.get("split") == "val" and "train_seconds" in r]
    later = val[1:] or val

    def median(key: str, rows: list[dict[str, Any]]) -> float:
        values = [r[key] for r in rows if key in r]
        return float(np.median(values)) if values else float("nan")

    return {"epoch_seconds_median": median("train_seconds", later),
            "epoch_cpu_seconds_median": median("train_cpu_seconds", later),
            "eval_seconds_median": median("eval_seconds", val), "eval_cpu_seconds_median": median("eval_cpu_seconds", val),
            "peak_rss_mb": float(max((r["peak_rss_mb"] for r in val), default=float("nan")))}


def _train_seed(dataset: LinkDataset, config: GraphRunConfig, seed_dir: Path, seed: int, progress: bool) -> dict[str, Any]:
    graph, link = dataset.graph, config.link
    mcfg = dataclasses.replace(config.model, num_nodes=graph.num_nodes)
    tcfg = dataclasses.replace(config.train, seed=seed)
    if dataset.valid is None:
        tcfg = dataclasses.replace(tcfg, patience=None)
    model = LinkModel(mcfg, features=graph.features if mcfg.feature_dim else None, key=jax.random.PRNGKey(seed))
    adj = graph_adjacency(graph, self_loops=mcfg.self_loops, degree_norm=mcfg.degree_norm, mode=link.propagation)
    sampler = None
    if link.sampler == "neighbor":
        sampler = NeighborSampler(graph, link.fanouts, self_loops=mcfg.self_loops, degree_norm=mcfg.degree_norm)
    batches = PairBatches(graph, tcfg.batch_size, link.num_neg, seed=seed, adj=adj, sampler=sampler)
    evaluate = make_evaluator(adj, dataset.valid, link.eval_batch) if dataset.valid is not None else None
    result = fit(model, make_loss_fn(link.loss, link.num_neg, mcfg.layers), batches, tcfg, evaluate=evaluate,
                 run_dir=seed_dir, trainable=trainable_filter(model), progress=progress, description=f"seed {seed}")
    h = encode_nodes(result.model, adj)
    save_checkpoint(seed_dir / "model", result.model, {"model": config_to_dict(mcfg), "task": "link", "seed": seed,
                                                      "loss": link.loss})
    atomic_path(seed_dir / "nodes.npz", lambda tmp: _save_npz(tmp, h=h.astype(np.float32)))
    if dataset.valid is not None:  # for the report's score histograms
        pos, neg = (score_pairs(result.model, h, p, link.eval_batch) for p in (dataset.valid.edge, dataset.valid.edge_neg))
        atomic_path(seed_dir / "valid_scores.npz", lambda tmp: _save_npz(tmp, pos=pos, neg=neg))
    out = {"seed": seed, "best_step": result.best_step, "steps": result.steps, "stopped_early": result.stopped_early,
           "valid": result.best_metrics, "steps_per_epoch": len(batches), **_epoch_stats(result.history)}
    if dataset.test is not None:  # the test split, scored once with the model chosen on validation
        test = dataset.test
        out["test"] = link_metrics(*(score_pairs(result.model, h, p, link.eval_batch) for p in (test.edge, test.edge_neg)))
    atomic_write_text(seed_dir / "result.json", json.dumps(out, indent=2, default=float) + "\n")
    return out


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sample std (ddof=1, 0 for one seed) over seeds of each validation metric."""
    rows = [r["valid"] for r in results if r.get("valid")]
    keys = [k for k in (rows[0] if rows else {}) if k.startswith(("hits@", "mrr", "auc"))]
    stats = {}
    for k in keys:
        values = np.array([r[k] for r in rows], dtype=np.float64)
        stats[k] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                    "values": values.tolist()}
    tests = [r["test"] for r in results if r.get("test")]
    test_stats = {k: {"mean": float(np.mean([t[k] for t in tests])),
                      "std": float(np.std([t[k] for t in tests], ddof=1)) if len(tests) > 1 else 0.0}
                  for k in (tests[0] if tests else {})}
    return {"seeds": [r["seed"] for r in results], "valid": stats, **({"test": test_stats} if tests else {}),
            "epoch_seconds_median": float(np.median([r["epoch_seconds_median"] for r in results])),
            "epoch_cpu_seconds_median": float(np.median([r["epoch_cpu_seconds_median"] for r in results])),
            "peak_rss_mb": float(max(r["peak_rss_mb"] for r in results))}


def train_run(dataset: LinkDataset, config: GraphRunConfig, run_dir: str | Path, *, seeds: tuple[int, ...] = (0,),
              progress: bool = False) -> dict[str, Any]:
    """Train one model per seed into ``run_dir`` (resuming what is there); returns the summary."""
    run_dir = Path(run_dir)
    if not seeds:
        raise InputError("give at least one seed")
    if config.link.sampler == "neighbor" and len(config.link.fanouts) != config.model.layers:
        raise InputError(f"fanouts need one number per GNN layer ({config.model.layers}), got {list(config.link.fanouts)}")
    _prepare(run_dir, dataset, config, tuple(seeds))
    results = [_train_seed(dataset, config, run_dir / f"seed-{s}", s, progress) for s in seeds]
    summary = summarize(results)
    atomic_write_text(run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


@dataclass
class TrainedRun:
    """A trained seed of a run: the model, its node representations and the training graph."""

    model: LinkModel
    h: np.ndarray
    graph: Graph
    seed: int
    loss: str
    path: Path
    original_ids: np.ndarray | None = None  # a subgraph run: original_ids[node] = id in the full data
    original_num_nodes: int | None = None

    def score(self, pairs: np.ndarray) -> np.ndarray:
        return score_pairs(self.model, self.h, pairs)


def _seed_dirs(run_dir: Path) -> list[Path]:
    dirs = sorted(run_dir.glob("seed-*"), key=lambda p: int(p.name.split("-")[1]))
    done = [d for d in dirs if (d / "nodes.npz").exists() and (d / "model").exists()]
    if not done:
        raise InputError("no trained model here (train one with `biolens graph train`)", source=str(run_dir))
    return done


def best_seed(run_dir: str | Path) -> int:
    """The trained seed with the best validation Hits@20 (the first one without validation)."""
    best, best_value = None, -1.0
    for d in _seed_dirs(Path(run_dir)):
        result = json.loads((d / "result.json").read_text()) if (d / "result.json").exists() else {}
        value = (result.get("valid") or {}).get(MAIN_METRIC, 0.0)
        if best is None or value > best_value:
            best, best_value = int(d.name.split("-")[1]), value
    return best


def load_graph(run_dir: Path) -> tuple[Graph, np.ndarray | None, int | None]:
    """The training graph of a run, and for a subgraph run the original ids and node count."""
    with np.load(run_dir / "graph.npz", allow_pickle=False) as z:
        names = z["names"] if z["names"].size else None
        graph = Graph(num_nodes=int(z["num_nodes"]), edges=z["edges"].astype(np.int64), names=names)
        if "original_ids" in z.files:
            return graph, z["original_ids"], int(z["original_num_nodes"])
    return graph, None, None


def load_run(run_dir: str | Path, seed: int | None = None) -> list[TrainedRun]:
    """The trained seeds of a run folder (``seed``: only that one)."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").exists():
        raise InputError("not a biolens graph run (no config.json)", source=str(run_dir))
    graph, original_ids, original_n = load_graph(run_dir)
    config = _run_config_from_dict(json.loads((run_dir / "config.json").read_text())["config"])
    runs = []
    for d in _seed_dirs(run_dir):
        s = int(d.name.split("-")[1])
        if seed is not None and s != seed:
            continue

        def skeleton(meta: dict[str, Any]) -> LinkModel:  # shapes only: no weights are initialised
            mcfg = config_from_dict(GraphModelConfig, meta["model"])
            feats = np.zeros((mcfg.num_nodes, mcfg.feature_dim), np.float32) if mcfg.feature_dim else None
            return eqx.filter_eval_shape(LinkModel, mcfg, features=feats, key=jax.random.PRNGKey(0))

        model, _ = load_checkpoint(d / "model", skeleton)
        with np.load(d / "nodes.npz", allow_pickle=False) as z:
            h = z["h"]
        runs.append(TrainedRun(model=model, h=h, graph=graph, seed=s, loss=config.link.loss, path=d,
                               original_ids=original_ids, original_num_nodes=original_n))
    if not runs:
        raise InputError(f"seed {seed} is not trained in this run", source=str(run_dir))
    return runs


def evaluate_run(run_dir: str | Path, split: str | Path | LinkSplit) -> dict[str, Any]:
    """Metrics of every trained seed on a split file, with mean and std over seeds."""
    runs = load_run(run_dir)
    graph, first = runs[0].graph, runs[0]
    if not isinstance(split, LinkSplit):
        split = read_split(split, first.original_num_nodes or graph.num_nodes)
    outside = 0
    if first.original_ids is not None:  # a subgraph run: keep the pairs inside, in its numbering
        edge, neg = (remap_pairs(p, first.original_ids, first.original_num_nodes) for p in (split.edge, split.edge_neg))
        outside = len(split.edge) + len(split.edge_neg) - len(edge) - len(neg)
        if len(edge) == 0 or len(neg) == 0:
            raise InputError("no positive or no negative pair of the split falls in the run's subgraph", source=split.source)
        split = LinkSplit(edge=edge, edge_neg=neg, source=split.source)
    overlap = int(np.isin(pair_keys(split.edge, graph.num_nodes), pair_keys(graph.edges, graph.num_nodes)).sum())
    per_seed = []
    for run in runs:
        per_seed.append({"seed": run.seed, **link_metrics(run.score(split.edge), run.score(split.edge_neg))})
    out: dict[str, Any] = {}
    for key in (k for k in per_seed[0] if k != "seed"):
        values = np.array([r[key] for r in per_seed])
        out[key] = float(values.mean())
        if len(values) > 1:
            out[f"{key}_std"] = float(values.std(ddof=1))
    out.update({"seeds": [r["seed"] for r in per_seed], "per_seed": per_seed, "positives": len(split.edge),
                "negatives": len(split.edge_neg), "positives_in_training_graph": overlap, "split": split.source})
    if first.original_ids is not None:
        out["pairs_outside_subgraph"] = outside
    return out
