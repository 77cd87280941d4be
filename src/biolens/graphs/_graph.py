"""Undirected graphs as arrays: canonical edges, degrees, directed message edges, subgraphs.

A :class:`Graph` stores each undirected edge once as ``(u, v)`` with ``u < v``, sorted and
unique; message passing uses both directions (:func:`directed_edges`). Node ids are
``0 .. num_nodes - 1``; :func:`subgraph` renumbers a node subset to ``0 .. k - 1`` (the book's
500-node subsetting, done without losing the map back to the original ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from jaxtyping import Int

from ..core.errors import InputError

__all__ = [
    "EdgeSummary", "Graph", "LinkSplit", "canonical_edges", "check_pairs", "degrees",
    "directed_edges", "pair_keys", "remap_pairs", "subgraph",
]


@dataclass
class EdgeSummary:
    """What reading an edge list did: rows read, and rows merged into an existing edge."""

    rows: int = 0
    edges: int = 0
    duplicates: int = 0  # the same (u, v) again
    reversed: int = 0  # (v, u) after (u, v)
    self_loops: int = 0  # (u, u) rows dropped (only with on_self_loop="drop")

    def lines(self) -> list[str]:
        out = [f"edges: {self.edges:,} undirected from {self.rows:,} rows"]
        if self.duplicates or self.reversed:
            out.append(f"merged {self.duplicates:,} duplicate and {self.reversed:,} reversed rows")
        if self.self_loops:
            out.append(f"dropped {self.self_loops:,} self-loop rows (u, u)")
        return out


@dataclass(frozen=True, eq=False)
class Graph:
    """An undirected graph: ``edges`` are unique ``(u, v)`` pairs with ``u < v``, sorted.

    Attributes:
        num_nodes: number of nodes ``N``; ids run ``0 .. N - 1``.
        edges: ``(E, 2)`` int64 canonical edges.
        names: optional ``(N,)`` node names (e.g. DrugBank ids).
        features: optional ``(N, F)`` float32 node features.
    """

    num_nodes: int
    edges: Int[np.ndarray, "E 2"]
    names: np.ndarray | None = None
    features: np.ndarray | None = field(default=None, repr=False)

    @property
    def num_edges(self) -> int:
        return len(self.edges)

    def node_index(self, token: str) -> int:
        """A node's index from a name (e.g. ``DB00001``) or a decimal index."""
        if self.names is not None:
            hits = np.flatnonzero(self.names == token)
            if len(hits):
                return int(hits[0])
        if token.isdigit() and int(token) < self.num_nodes:
            return int(token)
        known = f" or a name such as {str(self.names[0])!r}" if self.names is not None and len(self.names) else ""
        raise InputError(f"unknown node {token!r}: give an index 0..{self.num_nodes - 1}{known}")

    def node_name(self, index: int) -> str:
        return str(self.names[index]) if self.names is not None else str(index)


@dataclass(frozen=True, eq=False)
class LinkSplit:
    """Evaluation pairs: ``edge`` (P, 2) positives and ``edge_neg`` (M, 2) negatives."""

    edge: Int[np.ndarray, "P 2"]
    edge_neg: Int[np.ndarray, "M 2"]
    source: str = ""


def pair_keys(pairs: Int[np.ndarray, "P 2"], num_nodes: int) -> Int[np.ndarray, " P"]:
    """One int64 key per unordered pair: ``min * N + max`` (order-free, for set lookups)."""
    pairs = np.asarray(pairs, dtype=np.int64)
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    return lo * np.int64(num_nodes) + hi


def _where(row: int, line_offset: int | None) -> dict:
    return {"line": row + line_offset} if line_offset is not None else {"record": f"row {row}"}


def check_pairs(pairs: np.ndarray, num_nodes: int, *, source: str, what: str = "edge",
                line_offset: int | None = 1) -> np.ndarray:
    """Validate an ``(P, 2)`` integer array of node ids; the error names the first bad row
    (``line_offset`` turns a row index into a file line number, or ``None`` for "row")."""
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise InputError(f"{what} must have shape (n, 2), got {pairs.shape}", source=source)
    if pairs.dtype.kind not in "iu":
        raise InputError(f"{what} must hold integer node ids, got {pairs.dtype}", source=source)
    bad = (pairs < 0) | (pairs >= num_nodes)
    if bad.any():
        row = int(np.flatnonzero(bad.any(1))[0])
        raise InputError(
            f"{what} ({pairs[row, 0]}, {pairs[row, 1]}): node id out of range 0..{num_nodes - 1}",
            source=source, **_where(row, line_offset),
        )
    return pairs.astype(np.int64)


def canonical_edges(
    pairs: Int[np.ndarray, "R 2"], num_nodes: int, *, source: str = "edges",
    on_duplicate: str = "merge", on_self_loop: str = "error", line_offset: int | None = 1,
) -> tuple[Int[np.ndarray, "E 2"], EdgeSummary]:
    """Unique ``u < v`` edges from rows of an undirected edge list.

    ``on_duplicate``: ``merge`` (count repeated and reversed rows in the summary) or ``error``.
    ``on_self_loop``: ``error`` or ``drop`` (counted). Ids must already be in range.
    """
    pairs = check_pairs(pairs, num_nodes, source=source, line_offset=line_offset)
    summary = EdgeSummary(rows=len(pairs))
    loops = pairs[:, 0] == pairs[:, 1]
    if loops.any():
        if on_self_loop != "drop":
            row = int(np.flatnonzero(loops)[0])
            raise InputError(f"self-loop ({pairs[row, 0]}, {pairs[row, 0]}): a node cannot pair with itself "
                             "(drop such rows with on_self_loop='drop')", source=source, **_where(row, line_offset))
        summary.self_loops = int(loops.sum())
    rows = np.flatnonzero(~loops)  # file rows kept, for error lines
    pairs = pairs[rows]
    keys = pair_keys(pairs, num_nodes)
    unique_keys, first = np.unique(keys, return_index=True)
    repeats = len(keys) - len(unique_keys)
    if repeats:
        exact = len(keys) - len(np.unique(pairs[:, 0] * np.int64(num_nodes) + pairs[:, 1]))
        summary.duplicates, summary.reversed = exact, repeats - exact
        if on_duplicate != "merge":
            row = int(np.setdiff1d(np.arange(len(keys)), first)[0])
            raise InputError(f"edge ({pairs[row, 0]}, {pairs[row, 1]}) repeats an earlier row (same or reversed); "
                             "the graph is undirected (merge repeats with on_duplicate='merge')",
                             source=source, **_where(int(rows[row]), line_offset))
    edges = np.stack([unique_keys // num_nodes, unique_keys % num_nodes], axis=1)
    summary.edges = len(edges)
    return edges, summary


def degrees(graph: Graph) -> Int[np.ndarray, " N"]:
    """Number of neighbours of each node."""
    return np.bincount(graph.edges.ravel(), minlength=graph.num_nodes)


def directed_edges(graph: Graph, *, self_loops: bool = False) -> tuple[Int[np.ndarray, " D"], Int[np.ndarray, " D"]]:
    """``(src, dst)`` with both directions of every edge (plus ``(i, i)`` with ``self_loops``),
    sorted by ``dst`` then ``src`` (sorted segment ids let the aggregation skip a sort)."""
    u, v = graph.edges[:, 0], graph.edges[:, 1]
    src, dst = np.concatenate([u, v]), np.concatenate([v, u])
    if self_loops:
        ids = np.arange(graph.num_nodes, dtype=np.int64)
        src, dst = np.concatenate([src, ids]), np.concatenate([dst, ids])
    order = np.lexsort((src, dst))
    return src[order], dst[order]


def remap_pairs(pairs: Int[np.ndarray, "P 2"], old_ids: Int[np.ndarray, " K"], num_nodes: int) -> Int[np.ndarray, "Q 2"]:
    """Keep the pairs whose two nodes are both in ``old_ids`` and renumber them ``0 .. K - 1``."""
    new_id = np.full(num_nodes, -1, dtype=np.int64)
    new_id[old_ids] = np.arange(len(old_ids))
    mapped = new_id[np.asarray(pairs, dtype=np.int64)]
    return mapped[(mapped >= 0).all(1)]


def subgraph(graph: Graph, nodes: Int[np.ndarray, " K"]) -> tuple[Graph, Int[np.ndarray, " K"]]:
    """The subgraph induced by ``nodes``, renumbered ``0 .. K - 1`` in increasing old id.

    Returns the new graph and ``old_ids`` (``old_ids[new] = old``), which also maps names and
    features.
    """
    old_ids = np.unique(np.asarray(nodes, dtype=np.int64))
    if len(old_ids) and (old_ids[0] < 0 or old_ids[-1] >= graph.num_nodes):
        raise InputError(f"subgraph nodes must be in 0..{graph.num_nodes - 1}")
    edges = remap_pairs(graph.edges, old_ids, graph.num_nodes)
    sub = Graph(
        num_nodes=len(old_ids), edges=edges,
        names=None if graph.names is None else graph.names[old_ids],
        features=None if graph.features is None else graph.features[old_ids],
    )
    return sub, old_ids
