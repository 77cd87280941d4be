import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.proteins.supervised import HeadConfig, build_head

KEY = jax.random.PRNGKey(0)


@pytest.mark.parametrize("kind,out_shape", [("linear", (3,)), ("mlp", (3,))])
def test_pooled_heads_shapes(kind, out_shape):
    head = build_head(HeadConfig(kind=kind, hidden=16), 20, 3, key=KEY)
    assert head.input == "pooled"
    assert head(jnp.ones(20)).shape == out_shape
    assert jax.vmap(head)(jnp.ones((4, 20))).shape == (4, *out_shape)


@pytest.mark.parametrize("kind", ["cnn", "attention", "per_residue"])
def test_residue_heads_ignore_padding(kind):
    head = build_head(HeadConfig(kind=kind, hidden=8, channels=8, kernel=5), 20, 3, key=KEY)
    run = eqx.filter_jit(lambda h, x, m: h(x, m))
    x = jax.random.normal(KEY, (11, 20))
    alone = run(head, x, jnp.ones(11, bool))
    padded_x = jnp.concatenate([x, 99.0 * jnp.ones((13, 20))])  # loud padding
    padded = run(head, padded_x, jnp.arange(24) < 11)
    if kind == "per_residue":
        assert alone.shape == (11, 3) and padded.shape == (24, 3)
        padded = padded[:11]
    else:
        assert alone.shape == (3,)
    np.testing.assert_allclose(alone, padded, rtol=1e-5, atol=1e-5)
    assert np.isfinite(np.asarray(run(head, padded_x, jnp.zeros(24, bool)))).all()  # an all-padding row stays finite


def test_attention_weights_sum_to_one_on_residues():
    head = build_head(HeadConfig(kind="attention", hidden=8), 20, 2, key=KEY)
    mask = jnp.arange(10) < 6
    w = head.weights(jax.random.normal(KEY, (10, 20)), mask)
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-6) and float(jnp.abs(w[6:]).sum()) == 0.0


def test_dropout_only_in_training():
    head = build_head(HeadConfig(kind="mlp", hidden=16, dropout=0.5), 20, 1, key=KEY)
    x = jnp.ones(20)
    a, b = head(x, key=jax.random.PRNGKey(1)), head(x, key=jax.random.PRNGKey(2))
    assert not np.allclose(a, b)
    assert np.allclose(head(x), head(x))


def test_bad_head_settings():
    with pytest.raises(InputError, match="unknown head"):
        build_head(HeadConfig(kind="transformer"), 20, 1, key=KEY)
    with pytest.raises(InputError, match="kernel must be odd"):
        build_head(HeadConfig(kind="cnn", kernel=4), 20, 1, key=KEY)
