"""GraphSAGE encoder and link predictor (Equinox).

The model scores a node pair ``(u, v)`` as ``MLP(h_u * h_v)``, where ``h`` are node
representations from 1-3 GraphSAGE layers over learnable node embeddings and/or given node
features (Hamilton et al. 2017, https://arxiv.org/abs/1706.02216; the link predictor on the
element-wise product follows OGB's ogbl-ddi baselines and PLNLP, https://arxiv.org/abs/2112.02936).

One GraphSAGE layer: ``h_i' = W [h_i ; AGG_{j in N(i)} h_j] + b`` (concatenation, then one
dense layer), followed by ReLU and dropout except after the last layer.

GNN layers work on whole node matrices (``(N, F)``, message passing needs every node at once);
the predictor's ``__call__`` takes one pair and is ``vmap``-ped by :meth:`LinkModel.score`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from ..core.errors import InputError
from ._propagate import AGGREGATIONS, Adjacency, aggregate

__all__ = ["Dropout", "GraphModelConfig", "GraphSAGE", "LinkModel", "LinkPredictor", "SAGELayer", "trainable_filter"]


@dataclass(frozen=True, kw_only=True)
class GraphModelConfig:
    """Model shape. ``embedding_dim`` learnable dims per node (0: none); ``feature_dim`` the
    width of given node features (0: none); at least one of them must be > 0."""

    num_nodes: int
    embedding_dim: int = 256
    feature_dim: int = 0
    hidden: int = 256
    layers: int = 2
    aggregation: str = "mean"
    degree_norm: bool = False
    self_loops: bool = False
    dropout: float = 0.5
    predictor_layers: int = 3
    predictor_hidden: int = 256
    predictor_dropout: float = 0.5

    def __post_init__(self) -> None:
        if self.aggregation not in AGGREGATIONS:
            raise InputError(f"aggregation must be one of {AGGREGATIONS}, got {self.aggregation!r}")
        if not 1 <= self.layers <= 3:
            raise InputError(f"layers must be 1, 2 or 3, got {self.layers}")
        if self.predictor_layers < 1:
            raise InputError("predictor_layers must be >= 1")
        if self.embedding_dim <= 0 and self.feature_dim <= 0:
            raise InputError("the model needs node embeddings (embedding_dim > 0) or node features")
        for name in ("dropout", "predictor_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise InputError(f"{name} must be in [0, 1), got {getattr(self, name)}")


class Dropout(eqx.Module):
    """Inverted dropout whose mask costs one random byte per element (not one 32-bit word).

    On CPUs random-bit generation dominates dropout over large pair batches; four masks per
    generated word cut that cost 4x. ``p`` is rounded to a multiple of 1/256.
    """

    p: float = eqx.field(static=True)
    inference: bool = False

    def __call__(self, x: Float[Array, "*shape"], *, key: PRNGKeyArray | None) -> Float[Array, "*shape"]:
        drop = round(self.p * 256)
        if self.inference or drop == 0 or key is None:
            return x
        n = x.size
        words = jax.random.bits(key, ((n + 3) // 4,), dtype=jnp.uint32)
        bytes_ = jax.lax.bitcast_convert_type(words, jnp.uint8).reshape(-1)[:n].reshape(x.shape)
        keep = bytes_ >= drop
        return jnp.where(keep, x * (256.0 / (256 - drop)), 0.0)


class SAGELayer(eqx.Module):
    """``h' = W [h ; AGG(h)] + b``. Shapes: ``(N, F_in) -> (N, F_out)``."""

    linear: eqx.nn.Linear
    aggregation: str = eqx.field(static=True)

    def __init__(self, in_dim: int, out_dim: int, aggregation: str, *, key: PRNGKeyArray) -> None:
        self.linear = eqx.nn.Linear(2 * in_dim, out_dim, key=key)
        self.aggregation = aggregation

    def __call__(self, x: Float[Array, "N F"], adj: Adjacency,
                 drop: Int[Array, "B 2"] | None = None) -> Float[Array, "N H"]:
        both = jnp.concatenate([x, aggregate(x, adj, self.aggregation, drop)], axis=-1)
        return both @ self.linear.weight.T + self.linear.bias


class GraphSAGE(eqx.Module):
    """A stack of :class:`SAGELayer` with ReLU and dropout between layers (not after the last).

    ``adjs`` holds one :class:`Adjacency` per layer: the same full graph for full-batch
    training, or the sampled block of each hop (outermost first) for neighbour sampling.
    """

    layers: tuple[SAGELayer, ...]
    dropout: Dropout

    def __init__(self, in_dim: int, hidden: int, layers: int, aggregation: str, dropout: float,
                 *, key: PRNGKeyArray) -> None:
        keys = jax.random.split(key, layers)
        dims = [in_dim] + [hidden] * layers
        self.layers = tuple(SAGELayer(dims[i], dims[i + 1], aggregation, key=keys[i]) for i in range(layers))
        self.dropout = Dropout(dropout)

    def __call__(self, x: Float[Array, "N F"], adjs: tuple[Adjacency, ...], *,
                 key: PRNGKeyArray | None = None, drop: Int[Array, "B 2"] | None = None) -> Float[Array, "N H"]:
        keys = jax.random.split(key, len(self.layers)) if key is not None else [None] * len(self.layers)
        for i, (layer, adj) in enumerate(zip(self.layers, adjs, strict=True)):
            x = layer(x, adj, drop)
            if i < len(self.layers) - 1:
                x = self.dropout(jax.nn.relu(x), key=keys[i])
        return x


class LinkPredictor(eqx.Module):
    """``MLP(h_u * h_v)``: ``layers`` dense layers (ReLU + dropout between), one logit out."""

    linears: tuple[eqx.nn.Linear, ...]
    dropout: Dropout

    def __init__(self, in_dim: int, hidden: int, layers: int, dropout: float, *, key: PRNGKeyArray) -> None:
        keys = jax.random.split(key, layers)
        dims = [in_dim] + [hidden] * (layers - 1) + [1]
        self.linears = tuple(eqx.nn.Linear(dims[i], dims[i + 1], key=keys[i]) for i in range(layers))
        self.dropout = Dropout(dropout)

    def __call__(self, h_u: Float[Array, " H"], h_v: Float[Array, " H"], *,
                 key: PRNGKeyArray | None = None) -> Float[Array, ""]:
        x = h_u * h_v
        keys = jax.random.split(key, len(self.linears)) if key is not None else [None] * len(self.linears)
        for linear, k in zip(self.linears[:-1], keys[:-1], strict=True):
            x = self.dropout(jax.nn.relu(linear(x)), key=k)
        return self.linears[-1](x)[0]


class LinkModel(eqx.Module):
    """Node inputs (learnable embeddings and/or fixed features) -> GraphSAGE -> pair scores."""

    embedding: Float[Array, "N D"] | None
    features: Float[Array, "N F"] | None
    encoder: GraphSAGE
    predictor: LinkPredictor

    def __init__(self, config: GraphModelConfig, *, features: Float[ArrayLike, "N F"] | None = None,
                 key: PRNGKeyArray) -> None:
        k_emb, k_enc, k_pred = jax.random.split(key, 3)
        d, n = config.embedding_dim, config.num_nodes
        if d > 0:  # Xavier-uniform, as OGB's and PLNLP's ogbl-ddi models
            bound = math.sqrt(6.0 / (n + d))
            self.embedding = jax.random.uniform(k_emb, (n, d), minval=-bound, maxval=bound)
        else:
            self.embedding = None
        if config.feature_dim > 0:
            if features is None or features.shape != (n, config.feature_dim):
                raise InputError(f"the model needs node features of shape ({n}, {config.feature_dim})")
            self.features = jnp.asarray(features, dtype=jnp.float32)
        else:
            self.features = None
        in_dim = max(d, 0) + config.feature_dim
        self.encoder = GraphSAGE(in_dim, config.hidden, config.layers, config.aggregation, config.dropout, key=k_enc)
        self.predictor = LinkPredictor(config.hidden, config.predictor_hidden, config.predictor_layers,
                                       config.predictor_dropout, key=k_pred)

    def inputs(self, ids: Int[Array, " n"] | None = None) -> Float[Array, "n F"]:
        """Input rows of the nodes ``ids`` (all nodes when ``None``)."""
        parts = [p if ids is None else p[ids] for p in (self.embedding, self.features) if p is not None]
        return parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=-1)

    def encode(self, adjs: tuple[Adjacency, ...], *, ids: Int[Array, " n"] | None = None,
               key: PRNGKeyArray | None = None, drop: Int[Array, "B 2"] | None = None) -> Float[Array, "n H"]:
        """Node representations; ``ids`` picks the input rows of a sampled block's local nodes;
        ``drop``: edges whose messages are left out (see :func:`~._propagate.aggregate`)."""
        return self.encoder(self.inputs(ids), adjs, key=key, drop=drop)

    def score(self, h: Float[Array, "n H"], pairs: Int[Array, "P 2"], *,
              key: PRNGKeyArray | None = None) -> Float[Array, " P"]:
        """Logits of node pairs (indices into the rows of ``h``)."""
        h_u, h_v = h[pairs[:, 0]], h[pairs[:, 1]]
        dropout = self.predictor.dropout
        if key is None or dropout.inference or round(dropout.p * 256) == 0 or len(self.predictor.linears) == 1:
            return jax.vmap(lambda a, b: self.predictor(a, b))(h_u, h_v)
        keys = jax.random.split(key, len(pairs))
        return jax.vmap(lambda a, b, k: self.predictor(a, b, key=k))(h_u, h_v, keys)


def trainable_filter(model: LinkModel):
    """Every floating-point array is trained except given node features."""
    spec = jax.tree_util.tree_map(eqx.is_inexact_array, model)
    if model.features is not None:
        spec = eqx.tree_at(lambda m: m.features, spec, False)
    return spec
