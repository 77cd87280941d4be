"""Loss functions shared by every domain (pure, jit-friendly; masks and weights explicit)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int

__all__ = [
    "balanced_class_weights", "binary_cross_entropy", "masked_mean", "mse",
    "pairwise_auc_loss", "softmax_cross_entropy",
]


def masked_mean(values: Float[Array, "..."], mask: Float[Array, "..."] | None = None) -> Float[Array, ""]:
    """Mean of ``values`` where ``mask`` is non-zero (weights allowed); plain mean without a mask."""
    if mask is None:
        return jnp.mean(values)
    mask = jnp.broadcast_to(mask, values.shape).astype(values.dtype)
    return jnp.sum(values * mask) / jnp.maximum(jnp.sum(mask), 1e-12)


def binary_cross_entropy(
    logits: Float[Array, "..."], labels: Float[Array, "..."], *,
    pos_weight: Float[Array, "..."] | float | None = None, mask: Float[Array, "..."] | None = None,
) -> Float[Array, ""]:
    """Sigmoid cross-entropy on logits; ``pos_weight`` scales the positive term (class imbalance,
    per label for multi-label), ``mask`` leaves entries out (padding, missing labels)."""
    labels = labels.astype(logits.dtype)
    log_p, log_not_p = -jax.nn.softplus(-logits), -jax.nn.softplus(logits)
    w = 1.0 if pos_weight is None else pos_weight
    return masked_mean(-(w * labels * log_p + (1 - labels) * log_not_p), mask)


def softmax_cross_entropy(
    logits: Float[Array, "... C"], labels: Int[Array, "..."], *,
    class_weights: Float[Array, " C"] | None = None, mask: Float[Array, "..."] | None = None,
) -> Float[Array, ""]:
    """Cross-entropy of integer labels; ``class_weights`` weight each item by its true class
    (normalised by the total weight, as PyTorch's weighted mean); ``mask`` leaves items out."""
    losses = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    weights = jnp.ones_like(losses) if class_weights is None else jnp.asarray(class_weights)[labels]
    if mask is not None:
        weights = weights * mask
    return jnp.sum(losses * weights) / jnp.maximum(jnp.sum(weights), 1e-12)


def mse(pred: Float[Array, "..."], target: Float[Array, "..."], *, mask: Float[Array, "..."] | None = None) -> Float[Array, ""]:
    return masked_mean((pred - target) ** 2, mask)


def pairwise_auc_loss(pos: Float[Array, " P"], neg: Float[Array, " N"] | Float[Array, "P K"]) -> Float[Array, ""]:
    """A smooth AUC surrogate: the mean of ``(1 - (s_pos - s_neg))^2`` over pairs (PLNLP's "AUC"
    loss, Wang et al. 2021, https://arxiv.org/abs/2112.02936). It is a square loss, not a hinge:
    a pair ranked with a margin above 1 is also pulled back towards margin 1.

    ``neg`` of shape (N,): every positive against every negative (P * N pairs). ``neg`` of shape
    (P, K): each positive against its own K negatives, as PLNLP trains (memory linear in P).
    PLNLP sums over pairs; the mean differs by a constant factor only.
    """
    margins = 1.0 - (pos[:, None] - (neg if neg.ndim == 2 else neg[None, :]))
    return jnp.mean(jnp.square(margins))


def pairwise_hinge_auc_loss(pos: Float[Array, " P"], neg: Float[Array, " N"] | Float[Array, "P K"]) -> Float[Array, ""]:
    """The squared-hinge AUC surrogate: mean of ``max(0, 1 - (s_pos - s_neg))^2`` (PLNLP's
    "HingeAUC"). Unlike :func:`pairwise_auc_loss`, pairs already ranked with margin >= 1 cost
    nothing, so the gradient concentrates on the hard negatives that decide Hits@K.
    Shapes as in :func:`pairwise_auc_loss`."""
    margins = 1.0 - (pos[:, None] - (neg if neg.ndim == 2 else neg[None, :]))
    return jnp.mean(jnp.square(jax.nn.relu(margins)))


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """``n / (C * count_c)`` per class (scikit-learn's 'balanced'); 0 for classes never seen."""
    counts = np.bincount(np.asarray(labels, int), minlength=n_classes).astype(np.float64)
    weights = np.divide(len(labels), n_classes * counts, out=np.zeros(n_classes), where=counts > 0)
    return weights.astype(np.float32)
