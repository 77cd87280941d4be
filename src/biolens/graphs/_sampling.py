"""GraphSAGE neighbour sampling: mini-batches of target pairs on a sampled subgraph.

For a batch of node pairs, the seed nodes are their endpoints. Hop by hop, every node added in
the previous hop gets up to ``fanouts[l]`` sampled neighbours (all of them when it has fewer;
otherwise uniformly *with* replacement, so the cost does not grow with the degree). The block
is the union of the sampled edges over the sampled nodes, renumbered ``0 .. n - 1`` with the
seeds first -- the same computation as PyG's ``NeighborLoader``: an ``L``-layer GNN on the
block gives each seed the representation it would get from its sampled ``L``-hop neighbourhood.

Blocks are padded to power-of-two node and edge counts so a jitted step compiles only a few
times; padding edges point at a node id ``>= n`` and are dropped by the aggregation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from jaxtyping import Int

from ..core.batching import octave_bucket
from ..core.errors import InputError
from ._graph import Graph, directed_edges
from ._propagate import Adjacency, block_adjacency

__all__ = ["Block", "NeighborSampler"]


@dataclass
class Block:
    """A sampled subgraph: ``ids`` (n_pad,) global ids of its nodes (padding repeats id 0),
    ``adj`` its message-passing arrays, ``num_real`` the number of real nodes."""

    ids: Int[np.ndarray, " n"]
    adj: Adjacency
    num_real: int


class NeighborSampler:
    """Samples :class:`Block` s around seed nodes of a graph (CSR built once)."""

    def __init__(self, graph: Graph, fanouts: tuple[int, ...], *, self_loops: bool = False,
                 degree_norm: bool = False) -> None:
        if not fanouts or min(fanouts) < 1:
            raise InputError(f"fanouts must be positive numbers, one per GNN layer; got {fanouts}")
        src, dst = directed_edges(graph)  # sorted by dst: the in-neighbours of each node are contiguous
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=graph.num_nodes))])
        self.indices = src
        self.num_nodes = graph.num_nodes
        self.fanouts = tuple(int(f) for f in fanouts)
        self.self_loops, self.degree_norm = self_loops, degree_norm
        self._map = np.full(graph.num_nodes, -1, dtype=np.int64)  # global -> local id while sampling

    def _neighbours(self, nodes: np.ndarray, fanout: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Sampled in-edges ``(src, dst)`` (global ids) of ``nodes``."""
        start, deg = self.indptr[nodes], self.indptr[nodes + 1] - self.indptr[nodes]
        small = deg <= fanout
        # nodes with few neighbours: all of them
        counts = deg[small]
        dst_all = np.repeat(nodes[small], counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        src_all = self.indices[np.repeat(start[small], counts) + offsets]
        # the others: `fanout` draws with replacement
        big = np.flatnonzero(~small)
        draws = rng.integers(0, np.repeat(deg[big], fanout))
        src_some = self.indices[np.repeat(start[big], fanout) + draws]
        dst_some = np.repeat(nodes[big], fanout)
        return np.concatenate([src_all, src_some]), np.concatenate([dst_all, dst_some])

    def sample(self, pairs: Int[np.ndarray, "P 2"], rng: np.random.Generator) -> tuple[Block, Int[np.ndarray, "P 2"]]:
        """The block around the endpoints of ``pairs`` and the pairs in the block's local ids."""
        pairs = np.asarray(pairs, dtype=np.int64)
        nodes = _unique_in_order(pairs.ravel())
        self._map[nodes] = np.arange(len(nodes))
        frontier, srcs, dsts = nodes, [], []
        try:
            for fanout in self.fanouts:
                if len(frontier) == 0:
                    break
                src, dst = self._neighbours(frontier, fanout, rng)
                new = _unique_in_order(src[self._map[src] < 0])
                self._map[new] = np.arange(len(nodes), len(nodes) + len(new))
                nodes = np.concatenate([nodes, new])
                srcs.append(self._map[src])
                dsts.append(self._map[dst])
                frontier = new
            local_pairs = self._map[pairs]
        finally:
            self._map[nodes] = -1
        src = np.concatenate(srcs) if srcs else np.zeros(0, np.int64)
        dst = np.concatenate(dsts) if dsts else np.zeros(0, np.int64)
        return self._pack(nodes, src, dst), local_pairs

    def _pack(self, nodes: np.ndarray, src: np.ndarray, dst: np.ndarray) -> Block:
        n = len(nodes)
        if self.self_loops:
            src, dst = np.concatenate([src, np.arange(n)]), np.concatenate([dst, np.arange(n)])
        n_pad, e_pad = octave_bucket(n, minimum=64), octave_bucket(len(src), minimum=64)
        ids = np.zeros(n_pad, dtype=np.int64)
        ids[:n] = nodes
        src_p = np.zeros(e_pad, dtype=np.int64)
        dst_p = np.full(e_pad, n_pad, dtype=np.int64)  # padding edges are dropped
        src_p[: len(src)], dst_p[: len(dst)] = src, dst
        adj = block_adjacency(src_p, dst_p, n_pad, degree_norm=self.degree_norm)
        return Block(ids=ids, adj=adj, num_real=n)


def _unique_in_order(values: np.ndarray) -> np.ndarray:
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)]
