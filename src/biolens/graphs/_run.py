"""Run folders (the :class:`~biolens.core.runs.RunFolder` contract): train one or several seeds,
then evaluate, score pairs and rank partners.

A run folder::

    RUN/config.json              the settings and the data's identity (content digest), its path in ``info``
    RUN/graph.npz                the training graph (edges, node count, node names)
    RUN/train/seed-S/            fit's resumable state and metrics.jsonl, valid_scores.npz (report)
    RUN/checkpoint/seed-S/       model.eqx, meta.json (with the seed's result), nodes.npy (final node
                                 representations)
    RUN/result.json              :class:`GraphResult`: mean and std over seeds, and each seed's result
    RUN/report.html              learning curves and score histograms

(Before the run contract, a seed lived in ``RUN/seed-S/`` and the summary in ``summary.json``; such
folders are still read by :func:`load` and :func:`evaluate`, not resumed.)

Running the same training again resumes an interrupted run; a finished seed is not trained
again; other settings or other data in the folder are refused, naming what differs. Node
representations are stored, so evaluation and prediction need neither the graph nor a GNN pass.
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

from ..core.checkpoint import load_array, load_checkpoint, read_meta, save_checkpoint
from ..core.config import config_defaults, config_from_dict, config_to_dict
from ..core.errors import InputError
from ..core.files import atomic_path, read_json
from ..core.npzfile import read_npz
from ..core.runs import RunFolder, RunResult, content_digest
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

__all__ = ["GraphEvaluation", "GraphResult", "TrainedRun", "best_seed", "evaluate", "evaluate_run", "load",
           "load_run", "summarize", "train", "train_run"]

MAIN_METRIC = "hits@20"
KIND = "graph-link"


@dataclass(frozen=True, kw_only=True)
class GraphResult(RunResult):
    """What :func:`train` measured (``result.json``): per validation metric its mean, sample std and
    per-seed values; the test split's mean and std when the data has one; timings; each seed's result."""

    seeds: tuple[int, ...]
    valid: dict[str, dict[str, Any]]
    test: dict[str, dict[str, float]] | None = None
    epoch_seconds_median: float
    epoch_cpu_seconds_median: float
    peak_rss_mb: float
    per_seed: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, kw_only=True)
class GraphEvaluation(RunResult):
    """What :func:`evaluate` measured on a split: each metric's mean over seeds (and ``_std``), per seed."""

    metrics: dict[str, float]
    seeds: tuple[int, ...]
    per_seed: tuple[dict[str, Any], ...]
    positives: int
    negatives: int
    positives_in_training_graph: int
    split: str | None
    pairs_outside_subgraph: int | None = None

    def as_row(self) -> dict[str, Any]:
        """The flat JSON ``biolens graph evaluate`` prints (metrics first)."""
        row = {**self.metrics, **{k: v for k, v in self.to_json().items() if k != "metrics"}}
        return {k: v for k, v in row.items() if not (k == "pairs_outside_subgraph" and v is None)}


def _run_config_from_dict(data: dict[str, Any]) -> GraphRunConfig:
    from ..core.train import TrainConfig

    return GraphRunConfig(model=config_from_dict(GraphModelConfig, data["model"]),
                          train=config_from_dict(TrainConfig, data["train"]),
                          link=config_from_dict(LinkSettings, data["link"]))


def data_identity(dataset: LinkDataset) -> dict[str, Any]:
    """The content digest of what a run learns from and is validated on, with its sizes."""
    g = dataset.graph
    splits = [(s.edge, s.edge_neg) if s is not None else None for s in (dataset.valid, dataset.test)]
    digest = content_digest(g.num_nodes, g.edges, g.names, g.features, splits, dataset.original_ids)
    return {"digest": digest, "num_nodes": g.num_nodes, "num_edges": g.num_edges}


def _prepare(run: RunFolder, dataset: LinkDataset, config: GraphRunConfig, seeds: tuple[int, ...]) -> None:
    if (run.path / "summary.json").exists() and not run.config_path.exists():
        raise InputError("holds a graph run written by an older biolens (seed-S/, summary.json): it stays "
                         "readable by evaluate and predict but cannot be resumed; use a new --out folder",
                         source=str(run.path))
    info = {"source": dataset.source, "valid": dataset.valid.source if dataset.valid else None,
            "split_note": dataset.split_note, "seeds": list(seeds)}
    run.open(kind=KIND, settings=config_to_dict(config), data=data_identity(dataset), info=info,
             defaults=config_defaults(config))
    graph = dataset.graph
    if not (run.path / "graph.npz").exists():
        atomic_path(run.path / "graph.npz", lambda tmp: _save_graph(tmp, graph, dataset))
    if dataset.split_note and dataset.valid is not None and not (run.path / "valid.npz").exists():
        atomic_path(run.path / "valid.npz", lambda tmp: _save_npz(tmp, edge=dataset.valid.edge,
                                                                  edge_neg=dataset.valid.edge_neg))


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


def _train_seed(dataset: LinkDataset, config: GraphRunConfig, run: RunFolder, seed: int, progress: bool) -> dict[str, Any]:
    graph, link = dataset.graph, config.link
    ckpt, train_dir = run.checkpoint_dir / f"seed-{seed}", run.train_dir / f"seed-{seed}"
    if (ckpt / "nodes.npy").exists():  # a finished seed (the checkpoint is written last, atomically)
        return read_meta(ckpt)["result"]
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
    result = fit(model, make_loss_fn(link.loss, link.num_neg, mcfg.layers, mask_targets=link.mask_targets), batches, tcfg, evaluate=evaluate,
                 run_dir=train_dir, trainable=trainable_filter(model), progress=progress, description=f"seed {seed}")
    h = encode_nodes(result.model, adj)
    if dataset.valid is not None:  # for the report's score histograms
        pos, neg = (score_pairs(result.model, h, p, link.eval_batch) for p in (dataset.valid.edge, dataset.valid.edge_neg))
        atomic_path(train_dir / "valid_scores.npz", lambda tmp: _save_npz(tmp, pos=pos, neg=neg))
    out = {"seed": seed, "best_step": result.best_step, "steps": result.steps, "stopped_early": result.stopped_early,
           "valid": result.best_metrics, "steps_per_epoch": len(batches), **_epoch_stats(result.history)}
    if dataset.test is not None:  # the test split, scored once with the model chosen on validation
        test = dataset.test
        out["test"] = link_metrics(*(score_pairs(result.model, h, p, link.eval_batch) for p in (test.edge, test.edge_neg)))
    out = json.loads(json.dumps(out, default=float))
    save_checkpoint(ckpt, result.model, {"model": config_to_dict(mcfg), "task": "link", "seed": seed, "loss": link.loss,
                                         "result": out}, arrays={"nodes": h.astype(np.float32)})
    return out


def summarize(results: list[dict[str, Any]]) -> GraphResult:
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
    return GraphResult(seeds=tuple(r["seed"] for r in results), valid=stats, test=test_stats or None,
                       epoch_seconds_median=float(np.median([r["epoch_seconds_median"] for r in results])),
                       epoch_cpu_seconds_median=float(np.median([r["epoch_cpu_seconds_median"] for r in results])),
                       peak_rss_mb=float(max(r["peak_rss_mb"] for r in results)), per_seed=tuple(results))


def train(dataset: LinkDataset, config: GraphRunConfig, out: str | Path, *, seeds: tuple[int, ...] = (0,),
          progress: bool = False) -> GraphResult:
    """Train one model per seed into the run folder ``out`` (resuming what is there) and write
    ``result.json`` and ``report.html``; another process in ``out`` or another run there is refused."""
    from ._report import write_report

    if not seeds:
        raise InputError("give at least one seed")
    if config.link.sampler == "neighbor" and len(config.link.fanouts) != config.model.layers:
        raise InputError(f"fanouts need one number per GNN layer ({config.model.layers}), got {list(config.link.fanouts)}")
    with RunFolder(out) as run:
        _prepare(run, dataset, config, tuple(seeds))
        result = summarize([_train_seed(dataset, config, run, s, progress) for s in seeds])
        run.write_result(result)
        write_report(run.path)
    return result


train_run = train


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


@dataclass(frozen=True)
class _Seed:
    """Where a trained seed lives: ``checkpoint/seed-S/`` (or an older biolens' ``seed-S/``)."""

    seed: int
    checkpoint: Path
    legacy: bool

    def nodes(self) -> np.ndarray:
        if not self.legacy:
            return load_array(self.checkpoint, "nodes")
        return read_npz(self.checkpoint.parent / "nodes.npz")["h"]

    def result(self) -> dict[str, Any]:
        if not self.legacy:
            return read_meta(self.checkpoint).get("result", {})
        path = self.checkpoint.parent / "result.json"
        return read_json(path) if path.exists() else {}


def _seed_dirs(run_dir: Path) -> list[_Seed]:
    new = [_Seed(int(d.name.split("-")[1]), d, False) for d in (run_dir / "checkpoint").glob("seed-*")
           if (d / "nodes.npy").exists()]
    old = [_Seed(int(d.name.split("-")[1]), d / "model", True) for d in run_dir.glob("seed-*")
           if (d / "nodes.npz").exists() and (d / "model").exists()]
    done = sorted(new or old, key=lambda s: s.seed)
    if not done:
        raise InputError("no trained model here (train one with `biolens graph train`)", source=str(run_dir))
    return done


def best_seed(run_dir: str | Path) -> int:
    """The trained seed with the best validation Hits@20 (the first one without validation)."""
    best, best_value = None, -1.0
    for s in _seed_dirs(Path(run_dir)):
        value = (s.result().get("valid") or {}).get(MAIN_METRIC, 0.0)
        if best is None or value > best_value:
            best, best_value = s.seed, value
    return best


def load_graph(run_dir: Path) -> tuple[Graph, np.ndarray | None, int | None]:
    """The training graph of a run, and for a subgraph run the original ids and node count."""
    z = read_npz(run_dir / "graph.npz")
    names = z["names"] if z["names"].size else None
    graph = Graph(num_nodes=int(z["num_nodes"]), edges=z["edges"].astype(np.int64), names=names)
    if "original_ids" in z:
        return graph, z["original_ids"], int(z["original_num_nodes"])
    return graph, None, None


def run_config(run_dir: str | Path) -> GraphRunConfig:
    """The settings a run was trained with (from ``config.json``; older folders kept them under ``config``)."""
    path = Path(run_dir) / "config.json"
    if not path.exists():
        raise InputError("not a biolens graph run (no config.json)", source=str(run_dir))
    saved = read_json(path, mapping=True)
    if "settings" not in saved and "config" not in saved:
        raise InputError("has no run settings (no 'settings' key): not written by biolens graph train, or edited",
                         source=str(path))
    try:
        return _run_config_from_dict(saved["settings"] if "settings" in saved else saved["config"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"its run settings are incomplete or altered ({type(exc).__name__}: {exc}); retrain, or "
                         "restore the file biolens graph train wrote", source=str(path)) from None


def load(run_dir: str | Path, seed: int | None = None) -> list[TrainedRun]:
    """The trained seeds of a run folder (``seed``: only that one)."""
    run_dir = Path(run_dir)
    config = run_config(run_dir)
    graph, original_ids, original_n = load_graph(run_dir)
    runs = []
    for s in _seed_dirs(run_dir):
        if seed is not None and s.seed != seed:
            continue

        def skeleton(meta: dict[str, Any]) -> LinkModel:  # shapes only: no weights are initialised
            mcfg = config_from_dict(GraphModelConfig, meta["model"])
            feats = np.zeros((mcfg.num_nodes, mcfg.feature_dim), np.float32) if mcfg.feature_dim else None
            return eqx.filter_eval_shape(LinkModel, mcfg, features=feats, key=jax.random.PRNGKey(0))

        model, _ = load_checkpoint(s.checkpoint, skeleton)
        runs.append(TrainedRun(model=model, h=s.nodes(), graph=graph, seed=s.seed, loss=config.link.loss,
                               path=s.checkpoint, original_ids=original_ids, original_num_nodes=original_n))
    if not runs:
        raise InputError(f"seed {seed} is not trained in this run", source=str(run_dir))
    return runs


load_run = load


def evaluate(run_dir: str | Path, split: str | Path | LinkSplit) -> GraphEvaluation:
    """Metrics of every trained seed on a split file, with mean and std over seeds."""
    runs = load(run_dir)
    graph, first = runs[0].graph, runs[0]
    if not isinstance(split, LinkSplit):
        split = read_split(split, first.original_num_nodes or graph.num_nodes)
    outside = None
    if first.original_ids is not None:  # a subgraph run: keep the pairs inside, in its numbering
        edge, neg = (remap_pairs(p, first.original_ids, first.original_num_nodes) for p in (split.edge, split.edge_neg))
        outside = len(split.edge) + len(split.edge_neg) - len(edge) - len(neg)
        if len(edge) == 0 or len(neg) == 0:
            raise InputError("no positive or no negative pair of the split falls in the run's subgraph", source=split.source)
        split = LinkSplit(edge=edge, edge_neg=neg, source=split.source)
    overlap = int(np.isin(pair_keys(split.edge, graph.num_nodes), pair_keys(graph.edges, graph.num_nodes)).sum())
    per_seed = [{"seed": run.seed, **link_metrics(run.score(split.edge), run.score(split.edge_neg))} for run in runs]
    metrics: dict[str, float] = {}
    for key in (k for k in per_seed[0] if k != "seed"):
        values = np.array([r[key] for r in per_seed])
        metrics[key] = float(values.mean())
        if len(values) > 1:
            metrics[f"{key}_std"] = float(values.std(ddof=1))
    return GraphEvaluation(metrics=metrics, seeds=tuple(r["seed"] for r in per_seed),
                           per_seed=tuple(json.loads(json.dumps(per_seed, default=float))), positives=len(split.edge),
                           negatives=len(split.edge_neg), positives_in_training_graph=overlap,
                           split=None if split.source is None else str(split.source), pairs_outside_subgraph=outside)


evaluate_run = evaluate
