"""A robustness split carved from the training edges by a distribution-shift rule.

ogbl-ddi's validation and test splits are by protein target: the held-out interactions are
those of drugs acting on other targets than the training ones, so a random edge split (which
:func:`~biolens.graphs.holdout_split` draws) is easier than the judged one. Without target
annotations the closest rule available here is by drug group: a seeded random group of drugs
is held out, and *every* training edge between two held-out drugs becomes a positive of the
robustness split. Those pairs are removed from the training graph, so the model must rank
interactions inside a group of drugs whose mutual links it never saw (each drug keeps its
edges to the rest of the graph). Negatives are non-edges inside the same group, so the split
measures ranking within the shifted part of the graph, not between it and the rest.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ._graph import Graph, LinkSplit, pair_keys
from ._negatives import NegativeSampler

__all__ = ["group_holdout_split"]


def group_holdout_split(graph: Graph, group_fraction: float, seed: int, *,
                        max_negatives: int = 100_000) -> tuple[Graph, LinkSplit]:
    """Hold out the edges among a random ``group_fraction`` of the nodes (seeded).

    Returns the training graph without those edges and a :class:`LinkSplit` whose positives are
    the removed edges and whose negatives are up to ``max_negatives`` distinct non-edges with
    both ends in the group (never an edge of ``graph``).
    """
    if not 0 < group_fraction < 1:
        raise InputError(f"the held-out group fraction must be in (0, 1), got {group_fraction}")
    n = graph.num_nodes
    rng = np.random.default_rng((seed, 15))
    size = max(2, round(group_fraction * n))
    group = np.zeros(n, dtype=bool)
    group[rng.choice(n, size, replace=False)] = True
    inside = group[graph.edges[:, 0]] & group[graph.edges[:, 1]]
    if not inside.any() or inside.all():
        raise InputError(f"a group of {size} of {n} nodes holds {int(inside.sum())} of {graph.num_edges} edges; "
                         "choose another fraction")
    members = np.flatnonzero(group)
    # non-edges inside the group: sample pairs of members, keep those that are no edge of the graph
    sampler = NegativeSampler(pair_keys(graph.edges, n), n)
    pairs_in_group = size * (size - 1) // 2
    want = min(max_negatives, pairs_in_group - int(inside.sum()))
    if want < 1:
        raise InputError(f"the held-out group of {size} nodes is a clique: no negative pairs inside it")
    found = np.zeros(0, dtype=np.int64)
    for _ in range(100):
        u, v = rng.choice(members, (2, 4 * want + 64))
        keys = np.minimum(u, v) * n + np.maximum(u, v)
        keys = keys[(u != v) & ~sampler.is_edge(keys)]
        found = np.unique(np.concatenate([found, keys]))
        if len(found) >= want:
            break
    keys = rng.permutation(found)[:want]
    neg = np.stack([keys // n, keys % n], axis=1)
    train = Graph(num_nodes=n, edges=graph.edges[~inside], names=graph.names, features=graph.features)
    split = LinkSplit(edge=graph.edges[inside], edge_neg=neg,
                      source=f"held-out drug group ({size} of {n} nodes, seed {seed})")
    return train, split
