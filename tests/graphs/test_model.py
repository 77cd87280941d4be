import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.metrics import hits_at_k
from biolens.graphs import (
    Graph,
    GraphModelConfig,
    LinkModel,
    NeighborSampler,
    aggregate,
    canonical_edges,
    degrees,
    graph_adjacency,
    link_metrics,
    pair_keys,
    sample_negatives,
    subgraph,
)
from biolens.graphs._model import Dropout
from biolens.graphs._negatives import NegativeSampler
from biolens.graphs._train import PairBatches


def random_graph(n=30, p=0.2, seed=0):
    rng = np.random.default_rng(seed)
    iu = np.triu_indices(n, 1)
    keep = rng.random(len(iu[0])) < p
    edges, _ = canonical_edges(np.stack([iu[0][keep], iu[1][keep]], 1), n)
    return Graph(num_nodes=n, edges=edges)


def dense_reference(graph, x, how, degree_norm, self_loops):
    a = np.zeros((graph.num_nodes, graph.num_nodes))
    a[graph.edges[:, 0], graph.edges[:, 1]] = a[graph.edges[:, 1], graph.edges[:, 0]] = 1.0
    if self_loops:
        a += np.eye(graph.num_nodes)
    deg = a.sum(1)
    if degree_norm:
        inv = np.where(deg > 0, 1 / np.sqrt(np.maximum(deg, 1)), 0)
        a = inv[:, None] * a * inv[None, :]
    out = a @ x
    return out / np.maximum(deg, 1)[:, None] if how == "mean" else out


@pytest.mark.parametrize("mode, chunk", [("segment", None), ("segment", 16), ("dense", None)])
@pytest.mark.parametrize("how", ["mean", "sum"])
@pytest.mark.parametrize("degree_norm, self_loops", [(False, False), (True, False), (False, True), (True, True)])
def test_message_passing_equals_dense_adjacency_matmul(mode, chunk, how, degree_norm, self_loops):
    graph = random_graph()
    graph = Graph(num_nodes=31, edges=graph.edges)  # node 30 is isolated
    x = np.random.default_rng(1).normal(size=(31, 5)).astype(np.float32)
    adj = graph_adjacency(graph, self_loops=self_loops, degree_norm=degree_norm, mode=mode, edge_chunk=chunk)
    got = aggregate(jnp.asarray(x), adj, how)
    np.testing.assert_allclose(got, dense_reference(graph, x, how, degree_norm, self_loops), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode, chunk", [("segment", None), ("segment", 16), ("dense", None)])
@pytest.mark.parametrize("how", ["mean", "sum"])
@pytest.mark.parametrize("degree_norm", [False, True])
def test_dropped_edges_send_no_messages(mode, chunk, how, degree_norm):
    """Input masking: aggregating with ``drop`` equals the graph without those edges, the other
    messages keeping the full graph's normalisation weights."""
    graph = random_graph()
    drop = graph.edges[::5]
    x = np.random.default_rng(2).normal(size=(graph.num_nodes, 4)).astype(np.float32)
    adj = graph_adjacency(graph, degree_norm=degree_norm, mode=mode, edge_chunk=chunk)
    got = aggregate(jnp.asarray(x), adj, how, jnp.asarray(drop, jnp.int32))
    a = np.zeros((graph.num_nodes,) * 2)
    a[graph.edges[:, 0], graph.edges[:, 1]] = a[graph.edges[:, 1], graph.edges[:, 0]] = 1.0
    if degree_norm:
        inv = 1 / np.sqrt(np.maximum(a.sum(1), 1))
        a = inv[:, None] * a * inv[None, :]
    a[drop[:, 0], drop[:, 1]] = a[drop[:, 1], drop[:, 0]] = 0.0
    kept = np.zeros_like(a)
    kept[a != 0] = 1.0
    want = a @ x
    if how == "mean":
        want = want / np.maximum(kept.sum(1), 1)[:, None]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert not np.allclose(got, aggregate(jnp.asarray(x), adj, how), atol=1e-3)


def test_masking_targets_needs_the_full_graph_and_no_max():
    from biolens.core.errors import InputError
    from biolens.graphs import preset

    with pytest.raises(InputError, match="full-graph sampler"):
        preset("tiny", link=dict(mask_targets=True, sampler="neighbor"))
    with pytest.raises(ValueError, match="not max"):
        aggregate(jnp.zeros((3, 2)), graph_adjacency(random_graph(3, 1.0)), "max", jnp.zeros((1, 2), jnp.int32))
    with pytest.raises(InputError, match="not max"):
        preset("tiny", model=dict(aggregation="max"), link=dict(mask_targets=True))


def test_chunked_segment_sums_have_the_same_gradient():
    graph = random_graph(25, 0.3, seed=2)
    x = jnp.asarray(np.random.default_rng(3).normal(size=(25, 3)).astype(np.float32))
    adjs = [graph_adjacency(graph, mode="segment", edge_chunk=c) for c in (None, 7)]
    grads = [jax.grad(lambda x, a=a: jnp.sum(aggregate(x, a, "mean") ** 2))(x) for a in adjs]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_max_aggregation_is_the_neighbour_maximum():
    graph = random_graph(12, 0.3, seed=3)
    x = np.random.default_rng(2).normal(size=(12, 4)).astype(np.float32)
    got = np.asarray(aggregate(jnp.asarray(x), graph_adjacency(graph, mode="segment"), "max"))
    for i in range(12):
        nbrs = [v for u, v in graph.edges if u == i] + [u for u, v in graph.edges if v == i]
        np.testing.assert_allclose(got[i], x[nbrs].max(0) if nbrs else np.zeros(4), rtol=1e-6)


def test_sage_layer_is_concat_then_dense():
    graph = random_graph(10, 0.4)
    cfg = GraphModelConfig(num_nodes=10, embedding_dim=4, hidden=3, layers=1, predictor_hidden=3)
    model = LinkModel(cfg, key=jax.random.PRNGKey(0))
    adj = graph_adjacency(graph, mode="segment")
    x = np.asarray(model.embedding)
    mean = dense_reference(graph, x, "mean", False, False)
    lin = model.encoder.layers[0].linear
    expect = np.concatenate([x, mean], 1) @ np.asarray(lin.weight).T + np.asarray(lin.bias)
    np.testing.assert_allclose(model.encode((adj,)), expect, rtol=1e-5, atol=1e-6)


def test_predictor_is_symmetric_and_sees_the_product():
    cfg = GraphModelConfig(num_nodes=6, embedding_dim=8, hidden=8, predictor_hidden=8, predictor_layers=3)
    model = eqx.nn.inference_mode(LinkModel(cfg, key=jax.random.PRNGKey(1)))
    h = jax.random.normal(jax.random.PRNGKey(2), (6, 8))
    pairs = jnp.array([[0, 1], [1, 0], [2, 5], [5, 2]])
    s = model.score(h, pairs, key=jax.random.PRNGKey(3))  # inference mode: no dropout
    assert s.shape == (4,) and float(s[0]) == pytest.approx(float(s[1])) and float(s[2]) == pytest.approx(float(s[3]))


def test_dropout_keeps_the_expected_fraction_and_scale():
    x = jnp.ones((400, 250))
    y = np.asarray(Dropout(0.3)(x, key=jax.random.PRNGKey(0)))
    kept = y > 0
    assert abs(kept.mean() - (1 - 77 / 256)) < 0.01  # p rounds to 77/256
    np.testing.assert_allclose(y[kept], 256 / (256 - 77), rtol=1e-6)
    assert np.array_equal(Dropout(0.3, inference=True)(x, key=jax.random.PRNGKey(0)), x)


@pytest.mark.parametrize("num_nodes", [40, 20_000])  # the bit table and the sorted-key lookup
def test_negative_sampling_never_returns_a_positive_or_a_self_pair(num_nodes):
    rng = np.random.default_rng(0)
    if num_nodes == 40:  # a dense graph: 60% of all pairs are edges
        graph = random_graph(40, 0.6)
    else:
        graph = Graph(num_nodes=num_nodes, edges=canonical_edges(rng.integers(0, 50, (2000, 2)) * 400, num_nodes,
                                                                  on_self_loop="drop")[0])
    neg = sample_negatives(pair_keys(graph.edges, num_nodes), num_nodes, 5000, np.random.default_rng(1))
    assert neg.shape == (5000, 2) and (neg[:, 0] != neg[:, 1]).all() and (neg >= 0).all() and (neg < num_nodes).all()
    assert not np.isin(pair_keys(neg, num_nodes), pair_keys(graph.edges, num_nodes)).any()
    again = sample_negatives(pair_keys(graph.edges, num_nodes), num_nodes, 5000, np.random.default_rng(1))
    assert np.array_equal(neg, again)


def test_negatives_cover_the_non_edges_uniformly():
    graph = random_graph(8, 0.5)
    sampler = NegativeSampler(pair_keys(graph.edges, 8), 8)
    neg = sampler.sample(40_000, np.random.default_rng(0))
    counts = np.unique(pair_keys(neg, 8), return_counts=True)[1]
    assert len(counts) == 28 - graph.num_edges and counts.min() > 0.8 * counts.mean()


def test_pair_batches_are_fresh_each_epoch_and_reproducible():
    graph = random_graph(30, 0.3)
    batches = PairBatches(graph, 16, 2, seed=5)
    one, again, two = list(batches.epoch(0)), list(batches.epoch(0)), list(batches.epoch(1))
    assert len(one) == graph.num_edges // 16 and one[0]["neg"].shape == (32, 2)
    assert all(np.array_equal(a["pos"], b["pos"]) and np.array_equal(a["neg"], b["neg"]) for a, b in zip(one, again))
    assert not np.array_equal(one[0]["neg"], two[0]["neg"])
    pos = np.concatenate([b["pos"] for b in one])
    assert len(np.unique(pair_keys(pos, 30))) == len(pos)  # each edge at most once per epoch


def test_subgraph_renumbers_and_keeps_names():
    graph = Graph(num_nodes=6, edges=np.array([[0, 1], [1, 4], [2, 5], [4, 5]]), names=np.array(list("abcdef")))
    sub, old = subgraph(graph, np.array([5, 1, 4]))
    assert old.tolist() == [1, 4, 5] and sub.names.tolist() == ["b", "e", "f"]
    assert sub.edges.tolist() == [[0, 1], [1, 2]] and degrees(sub).tolist() == [1, 2, 1]


def test_full_fanout_neighbour_sampling_equals_full_graph_encoding():
    graph = random_graph(40, 0.15, seed=4)
    cfg = GraphModelConfig(num_nodes=40, embedding_dim=6, hidden=5, layers=2, predictor_hidden=5)
    model = eqx.nn.inference_mode(LinkModel(cfg, key=jax.random.PRNGKey(0)))
    full = np.asarray(model.encode((graph_adjacency(graph),) * 2))
    sampler = NeighborSampler(graph, fanouts=(100, 100))  # >= every degree: nothing is dropped
    pairs = np.array([[3, 7], [7, 11], [20, 3]])
    block, local = sampler.sample(pairs, np.random.default_rng(0))
    assert block.ids[: block.num_real][:4].tolist() == [3, 7, 11, 20] and block.ids.shape[0] % 64 == 0
    h = np.asarray(model.encode((block.adj,) * 2, ids=jnp.asarray(block.ids)))
    np.testing.assert_allclose(h[local], full[pairs], rtol=1e-5, atol=1e-5)


def test_sampled_blocks_hold_real_edges_within_the_fanout():
    graph = random_graph(60, 0.3, seed=5)
    sampler = NeighborSampler(graph, fanouts=(3, 2))
    block, local = sampler.sample(np.array([[0, 1], [2, 3]]), np.random.default_rng(1))
    src, dst = np.asarray(block.adj.src), np.asarray(block.adj.dst)
    real = dst < block.adj.num_nodes
    glob_src, glob_dst = block.ids[src[real]], block.ids[dst[real]]
    assert np.isin(pair_keys(np.stack([glob_src, glob_dst], 1), 60), pair_keys(graph.edges, 60)).all()
    assert np.bincount(dst[real]).max() <= 3 and local.tolist() == [[0, 1], [2, 3]]


def test_hits_at_k_hand_worked_example():
    # negatives sorted: 0.9, 0.8, 0.7, 0.4, 0.1 -> the 3rd highest negative is 0.7
    neg = np.array([0.1, 0.9, 0.4, 0.8, 0.7])
    pos = np.array([0.95, 0.7, 0.75, 0.2])  # 0.95 and 0.75 beat 0.7; 0.7 ties (does not count)
    assert hits_at_k(pos, neg, 3) == 0.5
    assert hits_at_k(pos, neg, 1) == 0.25  # only 0.95 > 0.9
    assert hits_at_k(pos, neg, 6) == 1.0  # fewer negatives than K: OGB counts every positive
    m = link_metrics(pos, neg, ks=(1, 3))
    # ranks among the negatives: 1, 3.5 (0.7 ties: half), 3, 5 -> MRR = mean of 1/rank
    assert m["hits@1"] == 0.25 and m["hits@3"] == 0.5
    assert m["mrr"] == pytest.approx(np.mean([1, 1 / 3.5, 1 / 3, 1 / 5]))
    # AUC: pairs (pos > neg) + 0.5 ties over 4 x 5 pairs = (5 + 2.5 + 3 + 1) / 20
    assert m["auc"] == pytest.approx(11.5 / 20)


def test_model_config_rejects_bad_settings():
    from biolens.core.errors import InputError

    base = GraphModelConfig(num_nodes=5)
    for bad in (dict(layers=4), dict(aggregation="median"), dict(dropout=1.0), dict(embedding_dim=0)):
        with pytest.raises(InputError):
            dataclasses.replace(base, **bad)


def test_given_features_are_inputs_but_never_trained():
    from biolens.core.train import TrainConfig, fit
    from biolens.graphs._model import trainable_filter
    from biolens.graphs._train import make_loss_fn

    graph = random_graph(20, 0.3, seed=6)
    feats = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    cfg = GraphModelConfig(num_nodes=20, embedding_dim=0, feature_dim=3, hidden=4, predictor_hidden=4, predictor_layers=2)
    model = LinkModel(cfg, features=feats, key=jax.random.PRNGKey(0))
    adj = graph_adjacency(graph)
    res = fit(model, make_loss_fn("bce", 1, 2), PairBatches(graph, 8, 1, seed=0, adj=adj),
              TrainConfig(max_epochs=2, batch_size=8, patience=None, weight_decay=0.1), trainable=trainable_filter(model))
    assert np.array_equal(res.model.features, feats) and res.model.embedding is None
    assert not np.allclose(res.model.encoder.layers[0].linear.weight, model.encoder.layers[0].linear.weight)


def test_group_holdout_split_holds_out_the_edges_inside_a_drug_group():
    from biolens.graphs import group_holdout_split

    graph = random_graph(60, 0.3, seed=7)
    train, split = group_holdout_split(graph, 0.3, seed=1)
    group = np.unique(np.concatenate([split.edge.ravel(), split.edge_neg.ravel()]))
    assert len(group) <= 18  # 30% of 60 nodes
    keys, held = pair_keys(graph.edges, 60), pair_keys(split.edge, 60)
    # the positives are exactly the removed edges, and every edge inside the group is removed
    assert len(held) + train.num_edges == graph.num_edges and not np.isin(held, pair_keys(train.edges, 60)).any()
    in_group = np.isin(train.edges, group).all(1)
    assert not in_group.any()
    neg = pair_keys(split.edge_neg, 60)
    assert len(np.unique(neg)) == len(neg) and not np.isin(neg, keys).any()
    assert (split.edge_neg[:, 0] != split.edge_neg[:, 1]).all() and np.isin(split.edge_neg, group).all()
    again = group_holdout_split(graph, 0.3, seed=1)[1]
    assert np.array_equal(again.edge, split.edge) and np.array_equal(again.edge_neg, split.edge_neg)


def test_masked_training_step_sees_the_graph_without_its_targets():
    """The masked loss of a batch equals the plain loss on the graph with the batch's positives
    removed: the model is never shown the edges it is scored on."""
    from biolens.graphs._train import make_loss_fn

    graph = random_graph(40, 0.3)
    pos, rest = graph.edges[:12], graph.edges[12:]
    neg = np.array([[0, 1], [2, 3]] * 6, dtype=np.int32)
    model = eqx.nn.inference_mode(LinkModel(GraphModelConfig(num_nodes=40, embedding_dim=8, hidden=8,
                                                             predictor_hidden=8), key=jax.random.PRNGKey(0)))
    key = jax.random.PRNGKey(1)
    batch = {"pos": jnp.asarray(pos, jnp.int32), "neg": jnp.asarray(neg)}
    masked, _ = make_loss_fn("hinge", 1, 2, mask_targets=True)(model, None, {**batch, "adj": graph_adjacency(graph)}, key)
    plain = graph_adjacency(Graph(num_nodes=40, edges=rest))
    removed, _ = make_loss_fn("hinge", 1, 2)(model, None, {**batch, "adj": plain}, key)
    seen, _ = make_loss_fn("hinge", 1, 2)(model, None, {**batch, "adj": graph_adjacency(graph)}, key)
    np.testing.assert_allclose(masked, removed, rtol=1e-5)
    assert abs(float(seen) - float(masked)) > 1e-4
