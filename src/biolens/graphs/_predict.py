"""Scoring drug pairs and ranking a drug's likely partners with a trained run."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InputError
from ._graph import pair_keys
from ._run import TrainedRun

__all__ = ["score_nodes", "top_partners"]


def _sigmoid(x: np.ndarray | np.floating) -> np.ndarray | np.floating:
    return 1.0 / (1.0 + np.exp(-x))


def _row(run: TrainedRun, u: int, v: int, score: float | np.floating, known: bool | np.bool_) -> dict[str, Any]:
    row: dict[str, Any] = {"a": run.graph.node_name(u), "b": run.graph.node_name(v), "score": float(score)}
    if run.loss == "bce":  # a BCE model's logit is a log-odds; the AUC loss's score is only a ranking
        row["probability"] = float(_sigmoid(score))
    row["known"] = bool(known)
    return row


def score_nodes(run: TrainedRun, tokens: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """Scores of the pairs ``(tokens[0], tokens[1]), (tokens[2], tokens[3]), ...`` (names or indices).

    ``known`` says whether the pair is an edge of the training graph.
    """
    if len(tokens) % 2:
        raise InputError(f"give node pairs (A B [C D ...]) or one node for its top partners; got {len(tokens)} nodes")
    ids = np.array([run.graph.node_index(t) for t in tokens], dtype=np.int64).reshape(-1, 2)
    for u, v in ids:
        if u == v:
            raise InputError(f"a node cannot pair with itself: {run.graph.node_name(int(u))}")
    scores = run.score(ids)
    known = _known(run, ids)
    return [_row(run, int(u), int(v), s, k) for (u, v), s, k in zip(ids, scores, known, strict=True)]


def _known(run: TrainedRun, pairs: np.ndarray) -> np.ndarray:
    n = run.graph.num_nodes
    return np.isin(pair_keys(pairs, n), pair_keys(run.graph.edges, n))


def top_partners(run: TrainedRun, token: str, *, k: int = 10, include_known: bool = False) -> list[dict[str, Any]]:
    """The ``k`` highest-scoring partners of one node (by default leaving out its known partners)."""
    if k < 1:
        raise InputError("--top must be >= 1")
    u = run.graph.node_index(token)
    others = np.delete(np.arange(run.graph.num_nodes), u)
    pairs = np.stack([np.full(len(others), u), others], axis=1)
    known = _known(run, pairs)
    if not include_known:
        pairs, known = pairs[~known], known[~known]
    if len(pairs) == 0:
        raise InputError(f"{token} is already linked to every other node")
    scores = run.score(pairs)
    order = np.argsort(-scores, kind="stable")[:k]
    return [{"rank": i + 1, **_row(run, u, int(pairs[j, 1]), scores[j], known[j])} for i, j in enumerate(order)]
