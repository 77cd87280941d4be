import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.losses import binary_cross_entropy
from biolens.core.metrics import auroc
from biolens.core.train import ArrayBatches, TrainConfig, fit
from biolens.dna import MODELS, forward, init_model, model_config, one_hot, reverse_complement
from biolens.dna._train import _loss

TINY = dict(seq_len=24, conv_filters=8, kernel_size=5, dense_units=16, heads=2, transformer_hidden=8)


def n_params(model):
    return sum(x.size for x in jax.tree.leaves(eqx.filter(model, eqx.is_array)))


@pytest.mark.parametrize("preset", sorted(MODELS))
def test_presets_give_logits_per_task(preset):
    model, state = init_model(model_config(preset, n_outputs=3, **TINY))
    x = jnp.asarray(np.random.default_rng(0).random((5, 24, 4)), jnp.float32)
    logits, _ = forward(eqx.nn.inference_mode(model), state, x)
    assert logits.shape == (5, 3) and bool(jnp.all(jnp.isfinite(logits)))
    # each sequence's prediction is its own (no batch coupling at inference)
    alone, _ = forward(eqx.nn.inference_mode(model), state, x[2:3])
    np.testing.assert_allclose(alone[0], logits[2], rtol=1e-5, atol=1e-6)


def test_ablations_are_one_setting_each():
    base = init_model(model_config("conv-transformer", **TINY))[0]
    fewer = init_model(model_config("conv-transformer", **{**TINY, "conv_filters": 4}))[0]
    no_mlp = init_model(model_config("conv-transformer", mlp_blocks=0, **TINY))[0]
    deeper = init_model(model_config("conv-transformer", transformer_blocks=3, **TINY))[0]
    assert n_params(fewer) < n_params(base) and no_mlp.mlp == () and n_params(no_mlp) < n_params(base)
    assert base.blocks.up.weight.shape[0] == 1 and deeper.blocks.up.weight.shape[0] == 3
    assert init_model(model_config("cnn", **TINY))[0].blocks is None
    assert init_model(model_config("cnn-bn", **TINY))[0].convs[0].norm is not None
    with pytest.raises(ValueError, match="divisible"):
        model_config("conv-transformer", conv_filters=6, heads=4)


def test_scanned_transformer_equals_blocks_applied_one_by_one():
    model = eqx.nn.inference_mode(init_model(model_config("conv-transformer", transformer_blocks=2, **TINY))[0])
    h = jax.random.normal(jax.random.PRNGKey(1), (6, 8))
    params, static = eqx.partition(model.blocks, eqx.is_array)
    manual = h
    for i in range(2):
        block = eqx.combine(jax.tree.map(lambda a, i=i: a[i], params), static)
        manual = block(manual)
    np.testing.assert_allclose(model._transformer(h, None), manual, rtol=1e-5, atol=1e-5)


def planted(n, seed, motif="GGGACGT", either_strand=False):
    """Random 24-mers; half carry ``motif`` (or, ``either_strand``, its reverse complement) at a random place (label 1)."""
    rng = np.random.default_rng(seed)
    seqs, labels = [], []
    for i in range(n):
        s = list(rng.choice(list("ACGT"), size=24))
        if i % 2 == 0:
            p = int(rng.integers(0, 24 - len(motif) + 1))
            s[p : p + len(motif)] = reverse_complement(motif) if either_strand and rng.random() < 0.5 else motif
        seqs.append("".join(s))
        labels.append(float(i % 2 == 0))
    return one_hot(seqs), np.asarray(labels, np.float32)[:, None]


@pytest.mark.parametrize(("name", "settings", "either_strand", "min_auroc"), [
    ("cnn-bn", {}, False, 0.9),
    ("conv-gru", {"strands": "both", "recurrent_units": 8}, True, 0.85),  # a BiGRU on both strands
])
def test_models_learn_a_planted_motif_through_the_core_loop(name, settings, either_strand, min_auroc):
    x, y = planted(512, 0, either_strand=either_strand)
    xv, yv = planted(256, 1, either_strand=either_strand)
    model, state = init_model(model_config(name, **TINY, **settings))
    assert (model.recurrent is not None) == (name == "conv-gru")
    batches = ArrayBatches({"x": x, "y": y, "mask": np.ones_like(y)}, 64)
    res = fit(model, _loss, batches, TrainConfig(learning_rate=3e-3, max_epochs=8, patience=None), state=state)
    logits, _ = forward(eqx.nn.inference_mode(res.model), res.state, jnp.asarray(xv))
    assert auroc(yv[:, 0], np.asarray(logits)[:, 0]) > min_auroc
    assert float(binary_cross_entropy(logits, jnp.asarray(yv))) < 0.6


def test_multitask_loss_ignores_masked_labels():
    model, state = init_model(model_config("cnn", n_outputs=2, **TINY))
    x = jnp.asarray(planted(8, 3)[0])
    mask = jnp.asarray(np.tile([1.0, 0.0], (8, 1)))
    key = jax.random.PRNGKey(0)
    y1 = jnp.asarray(np.tile([1.0, 0.0], (8, 1)))
    y2 = jnp.asarray(np.tile([1.0, 1.0], (8, 1)))
    loss1, _ = _loss(model, state, {"x": x, "y": y1, "mask": mask}, key)
    loss2, _ = _loss(model, state, {"x": x, "y": y2, "mask": mask}, key)
    loss3, _ = _loss(model, state, {"x": x, "y": y2, "mask": jnp.ones_like(mask)}, key)
    assert float(loss1) == float(loss2) and float(loss3) != float(loss2)
