"""Speed of full-graph message passing and of one training step on an OGB-layout graph.

Prints JSON: wall-clock and CPU seconds (CPU time summed over threads, which depends little on
what else the machine runs) for one neighbour aggregation (forward; forward + backward) by dense
adjacency matmul and by segment sums over the edge list, and for one full training step (GNN
over the whole graph + link predictor on a batch of pairs), with the machine's load.

    python benchmarks/graphs_propagation.py [--dataset ../shared/data/graphs/ogbl_ddi] [--dim 128]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from biolens.data import resolve_input
from biolens.graphs import aggregate, graph_adjacency, load_ogb, preset
from biolens.graphs._model import LinkModel
from biolens.graphs._train import PairBatches, make_loss_fn, peak_memory_mb


def timed(fn, *args, repeat: int = 3) -> dict[str, float]:
    """Wall-clock and CPU seconds (all threads) per call, after one compiling call."""
    jax.block_until_ready(fn(*args))
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        jax.block_until_ready(fn(*args))
    return {"wall_s": (time.perf_counter() - start) / repeat, "cpu_s": (time.process_time() - cpu) / repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="../shared/data/graphs/ogbl_ddi")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=65536)
    args = parser.parse_args()
    path = resolve_input(args.dataset)
    if not path.exists():
        path = resolve_input("sample:ogbl-ddi-sample")
    graph = load_ogb(path).graph
    x = jnp.asarray(np.random.default_rng(0).normal(size=(graph.num_nodes, args.dim)).astype(np.float32))
    out: dict = {"dataset": str(path), "nodes": graph.num_nodes, "directed_edges": 2 * graph.num_edges, "dim": args.dim}
    for mode in ("dense", "segment"):
        adj = graph_adjacency(graph, mode=mode)
        fwd = jax.jit(lambda x, adj=adj: aggregate(x, adj, "mean"))
        grad = jax.jit(jax.grad(lambda x, adj=adj: jnp.sum(aggregate(x, adj, "mean") ** 2)))
        out[f"{mode}_forward"] = timed(fwd, x)
        out[f"{mode}_forward_backward"] = timed(grad, x)
    cfg = preset("default", model=dict(embedding_dim=args.dim, hidden=args.dim, predictor_hidden=args.dim))
    model = LinkModel(dataclasses.replace(cfg.model, num_nodes=graph.num_nodes), key=jax.random.PRNGKey(0))
    adj = graph_adjacency(graph)
    batches = PairBatches(graph, args.batch_size, cfg.link.num_neg, seed=0, adj=adj)
    batch = next(iter(batches.epoch(0)))
    loss_fn = make_loss_fn(cfg.link.loss, cfg.link.num_neg, cfg.model.layers)
    step = eqx.filter_jit(lambda m, b, k: eqx.filter_value_and_grad(lambda m: loss_fn(m, None, b, k)[0])(m))
    out["train_step"] = timed(step, model, batch, jax.random.PRNGKey(1))
    out["steps_per_epoch"] = len(batches)
    out["train_epoch_estimate"] = {k: v * len(batches) for k, v in out["train_step"].items()}
    out["peak_rss_mb"] = peak_memory_mb()
    out["loadavg_1min"] = os.getloadavg()[0]
    out["cpus"] = os.cpu_count()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
