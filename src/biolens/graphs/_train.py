"""Training a link predictor through the shared loop (:func:`biolens.core.train.fit`).

Each epoch visits every training edge once as a positive, in an order and with negatives
drawn from a generator seeded by ``(seed, epoch)``: global negative sampling re-drawn every
epoch (never a training edge, never ``(u, u)``), so a resumed run sees the same data.

Losses (``LinkSettings.loss``):

* ``bce``: binary cross-entropy, ``mean softplus(-s_pos) + mean softplus(s_neg)`` (OGB's baselines);
* ``auc``: PLNLP's pairwise AUC surrogate, ``mean (1 - (s_pos - s_neg))^2`` over each positive and
  its own ``num_neg`` negatives (:func:`biolens.core.losses.pairwise_auc_loss`).

Two ways to build a step: ``full`` runs the GNN over the whole graph once per batch of pairs;
``neighbor`` runs it on a sampled block around the batch's endpoints (:mod:`._sampling`).
"""

from __future__ import annotations

import functools
import math
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..core.batching import pad_apply
from ..core.errors import InputError
from ..core.losses import binary_cross_entropy, pairwise_auc_loss, pairwise_hinge_auc_loss
from ..core.metrics import auroc, hits_at_k, mrr
from ._graph import Graph, LinkSplit, pair_keys
from ._model import LinkModel
from ._negatives import NegativeSampler
from ._propagate import Adjacency
from ._sampling import NeighborSampler

__all__ = ["LOSSES", "LinkSettings", "PairBatches", "encode_nodes", "link_metrics", "make_evaluator",
           "make_loss_fn", "peak_memory_mb", "score_pairs"]

LOSSES = ("bce", "auc", "hinge")
HITS_KS = (10, 20, 50, 100)


@dataclass(frozen=True, kw_only=True)
class LinkSettings:
    """Link-prediction settings beside the model and the optimiser.

    ``num_neg`` negatives per positive; ``sampler`` ``full`` (whole-graph GNN per step) or
    ``neighbor`` (sampled blocks, ``fanouts`` neighbours per hop); ``propagation`` ``auto``,
    ``dense`` or ``segment`` (see :mod:`._propagate`); ``eval_batch`` pairs per scoring call;
    ``mask_targets``: each step's positive edges are left out of that step's message passing, so the
    model learns to predict edges it cannot see, as it must on held-out pairs (Refined-GAE's
    ``--maskinput``, Ma et al. 2024, arXiv:2411.03845; full-graph sampler only).
    """

    loss: str = "bce"
    num_neg: int = 1
    sampler: str = "full"
    fanouts: tuple[int, ...] = (15, 10)
    propagation: str = "auto"
    eval_batch: int = 65536
    mask_targets: bool = False

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise InputError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.sampler not in ("full", "neighbor"):
            raise InputError(f"sampler must be full or neighbor, got {self.sampler!r}")
        if self.num_neg < 1:
            raise InputError("num_neg must be >= 1")
        if self.mask_targets and self.sampler != "full":
            raise InputError("mask_targets needs the full-graph sampler (a sampled block may not hold the target edges)")


class PairBatches:
    """Batches of ``batch_size`` training edges and ``num_neg`` fresh negatives per edge.

    The last partial batch of an epoch is dropped (it differs every epoch, so every edge is
    still visited). With a ``sampler``, each batch carries its sampled block; otherwise it
    carries ``adj``, the whole graph's message-passing arrays.
    """

    def __init__(self, graph: Graph, batch_size: int, num_neg: int, *, seed: int, adj: Adjacency | None = None,
                 sampler: NeighborSampler | None = None) -> None:
        if graph.num_edges == 0:
            raise InputError("the training graph has no edges")
        self.graph, self.num_neg, self.seed = graph, num_neg, seed
        self.batch_size = min(batch_size, graph.num_edges)
        self.negatives = NegativeSampler(pair_keys(graph.edges, graph.num_nodes), graph.num_nodes)
        self.adj, self.sampler = adj, sampler

    def __len__(self) -> int:
        return self.graph.num_edges // self.batch_size

    def epoch(self, index: int) -> Iterator[dict]:
        rng = np.random.default_rng((self.seed, index))
        order = rng.permutation(self.graph.num_edges)
        size, k = self.batch_size, self.num_neg
        negatives = self.negatives.sample(len(self) * size * k, rng)
        for b in range(len(self)):
            pos = self.graph.edges[order[b * size : (b + 1) * size]]
            neg = negatives[b * size * k : (b + 1) * size * k]
            if self.sampler is None:
                yield {"pos": pos.astype(np.int32), "neg": neg.astype(np.int32), "adj": self.adj}
                continue
            block, local = self.sampler.sample(np.concatenate([pos, neg]), rng)
            yield {"pos": local[:size].astype(np.int32), "neg": local[size:].astype(np.int32),
                   "adj": block.adj, "ids": block.ids.astype(np.int32)}


@functools.cache
def make_loss_fn(loss: str, num_neg: int, layers: int, *, mask_targets: bool = False):
    """``loss_fn(model, state, batch, key)`` for :func:`~biolens.core.train.fit`; with
    ``mask_targets`` the batch's positives are left out of its message passing. One function per
    setting, so runs of one setting (``--seeds N``) share a compiled training step."""

    def loss_fn(model: LinkModel, state, batch, key):
        k_enc, k_pred = jax.random.split(key)
        pos, neg = batch["pos"], batch["neg"]
        h = model.encode((batch["adj"],) * layers, ids=batch.get("ids"), key=k_enc,
                         drop=pos if mask_targets else None)
        scores = model.score(h, jnp.concatenate([pos, neg]), key=k_pred)
        s_pos, s_neg = scores[: len(pos)], scores[len(pos) :]
        if loss == "bce":
            value = binary_cross_entropy(s_pos, jnp.ones_like(s_pos)) + binary_cross_entropy(s_neg, jnp.zeros_like(s_neg))
        elif loss == "auc":
            value = pairwise_auc_loss(s_pos, s_neg.reshape(len(pos), num_neg))
        else:
            value = pairwise_hinge_auc_loss(s_pos, s_neg.reshape(len(pos), num_neg))
        return value, state

    return loss_fn


@eqx.filter_jit
def _encode(model: LinkModel, adj: Adjacency, layers: int):
    return model.encode((adj,) * layers)


def encode_nodes(model: LinkModel, adj: Adjacency) -> np.ndarray:
    """Representations ``(N, H)`` of every node (inference mode, full neighbourhoods)."""
    model = eqx.nn.inference_mode(model)
    return np.asarray(_encode(model, adj, len(model.encoder.layers)))


@eqx.filter_jit
def _score(predictor, h, pairs):
    return jax.vmap(predictor)(h[pairs[:, 0]], h[pairs[:, 1]])


def score_pairs(model: LinkModel, h: np.ndarray, pairs: np.ndarray, batch: int = 65536) -> np.ndarray:
    """Logits of ``pairs`` (P, 2) from node representations ``h`` (inference mode)."""
    predictor = eqx.nn.inference_mode(model.predictor)
    pairs = np.asarray(pairs, dtype=np.int32)
    h = jnp.asarray(h)
    if len(pairs) == 0:
        return np.zeros(0, np.float32)
    return pad_apply(lambda chunk: _score(predictor, h, chunk), pairs, batch_size=batch, pad=0)


def link_metrics(pos: np.ndarray, neg: np.ndarray, ks: tuple[int, ...] = HITS_KS) -> dict[str, float]:
    """Hits@K as OGB defines it (a positive counts if it scores strictly above the K-th best
    negative), MRR of each positive among all negatives, and ROC AUC."""
    out = {f"hits@{k}": hits_at_k(pos, neg, k) for k in ks}
    out["mrr"] = mrr(pos, neg)
    out["auc"] = auroc(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg])
    return out


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_evaluator(adj: Adjacency, split: LinkSplit, batch: int = 65536):
    """``evaluate(model, state)`` for ``fit``: validation metrics plus, since the previous
    evaluation, the wall-clock and CPU seconds of training (CPU time summed over threads does
    not depend on what else the machine runs), and the peak memory so far."""
    last = {"t": time.perf_counter(), "cpu": time.process_time()}

    def evaluate(model: LinkModel, state) -> dict[str, float]:
        t0, cpu0 = time.perf_counter(), time.process_time()
        h = encode_nodes(model, adj)
        metrics = link_metrics(score_pairs(model, h, split.edge, batch), score_pairs(model, h, split.edge_neg, batch))
        end, cpu_end = time.perf_counter(), time.process_time()
        timing = {"train_seconds": t0 - last["t"], "train_cpu_seconds": cpu0 - last["cpu"],
                  "eval_seconds": end - t0, "eval_cpu_seconds": cpu_end - cpu0, "peak_rss_mb": peak_memory_mb()}
        last["t"], last["cpu"] = end, cpu_end
        finite = {k: v for k, v in metrics.items() if not (isinstance(v, float) and math.isnan(v))}
        return {**finite, **timing}

    return evaluate
