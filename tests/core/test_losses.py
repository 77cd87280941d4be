import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.losses import (
    balanced_class_weights,
    binary_cross_entropy,
    mse,
    pairwise_auc_loss,
    pairwise_hinge_auc_loss,
    softmax_cross_entropy,
)


def test_bce_matches_formula_and_masks():
    logits, labels = jnp.array([2.0, -1.0, 0.5]), jnp.array([1.0, 0.0, 1.0])
    p = 1 / (1 + np.exp(-np.array(logits)))
    expect = -np.mean(np.array(labels) * np.log(p) + (1 - np.array(labels)) * np.log(1 - p))
    assert float(binary_cross_entropy(logits, labels)) == pytest.approx(expect, rel=1e-5)
    masked = float(binary_cross_entropy(logits, labels, mask=jnp.array([1.0, 1.0, 0.0])))
    assert masked == pytest.approx(-np.mean(np.log([p[0], 1 - p[1]])), rel=1e-5)


def test_weighted_softmax_ce_is_weighted_mean():
    logits = jnp.array([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    labels = jnp.array([0, 1, 1])
    per = -np.log(np.exp(np.array(logits)[[0, 1, 2], [0, 1, 1]]) / np.exp(np.array(logits)).sum(1))
    w = np.array([1.0, 3.0])
    got = float(softmax_cross_entropy(logits, labels, class_weights=jnp.array(w)))
    assert got == pytest.approx((per * w[[0, 1, 1]]).sum() / w[[0, 1, 1]].sum(), rel=1e-5)


def test_balanced_weights_and_mse_and_auc_loss():
    assert balanced_class_weights(np.array([0, 0, 0, 1]), 3).tolist() == pytest.approx([4 / 9, 4 / 3, 0.0])
    assert float(mse(jnp.array([1.0, 3.0]), jnp.array([0.0, 0.0]), mask=jnp.array([1.0, 0.0]))) == 1.0
    assert float(pairwise_auc_loss(jnp.array([2.0]), jnp.array([1.0]))) == 0.0
    assert float(pairwise_auc_loss(jnp.array([0.0]), jnp.array([1.0]))) == 4.0


def test_auc_loss_pairs_each_positive_with_its_own_negatives():
    pos, neg = jnp.array([2.0, 0.0]), jnp.array([[1.0, 3.0], [0.0, -1.0]])
    # margins 1 - (pos - neg): [[0, 2], [1, 0]] -> squares [0, 4, 1, 0]
    assert float(pairwise_auc_loss(pos, neg)) == pytest.approx(5 / 4)
    # all pairs of the 2 positives and 4 negatives: margins 1 - (p - n)
    every = [(1 - (p - n)) ** 2 for p in (2.0, 0.0) for n in (1.0, 3.0, 0.0, -1.0)]
    assert float(pairwise_auc_loss(pos, neg.reshape(-1))) == pytest.approx(np.mean(every))


def test_hinge_auc_loss_ignores_pairs_past_the_margin():
    pos, neg = jnp.array([2.0, 0.0]), jnp.array([[1.0, 3.0], [-5.0, -1.0]])
    # margins 1 - (pos - neg): [[0, 2], [-4, 0]] -> clipped at 0, squared: [0, 4, 0, 0]
    assert float(pairwise_hinge_auc_loss(pos, neg)) == pytest.approx(4 / 4)
    # the square AUC loss pulls the well-separated pair (0 vs -5) back: (-4)^2 = 16
    assert float(pairwise_auc_loss(pos, neg)) == pytest.approx((4 + 16) / 4)
