"""Input gradients (saliency) of any differentiable JAX ``predict`` callable."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..core.batching import pad_apply

__all__ = ["gradient_importance", "input_gradients"]


def input_gradients(
    predict: Callable[[Array], Array],
    x: Float[np.ndarray, "N L 4"],
    *,
    target: int | None = None,
    times_input: bool = False,
    center: bool = False,
    batch_size: int = 256,
) -> Float[np.ndarray, "N L 4"]:
    """``d predict(x)[n, target] / d x[n]`` for every sequence.

    Args:
        predict: a JAX-traceable ``(B, L, 4) -> (B,)`` or ``(B, T)``, each row depending only on
            its own input (true of a model in inference mode).
        target: the output column for ``(B, T)`` predictors (required when ``T > 1``).
        times_input: return gradient x input (non-zero only at the present base of a one-hot row).
        center: subtract each position's mean gradient over the four bases first (removes the
            component a one-hot input cannot move along; Majdandzic et al. 2023).
        batch_size: sequences per gradient call (one compiled shape; the last batch is padded).

    Returns:
        ``(N, L, 4)`` float32.
    """

    def total(xb):
        out = predict(xb)
        if out.ndim == 2:
            if target is None and out.shape[1] != 1:
                raise ValueError(f"predict returns {out.shape[1]} outputs: choose one with target=")
            out = out[:, 0 if target is None else target]
        return jnp.sum(out)

    grad = jax.jit(jax.grad(total))
    x = np.asarray(x, dtype=np.float32)
    g = pad_apply(lambda chunk: grad(jnp.asarray(chunk)), x, batch_size=batch_size)
    if center:
        g = g - g.mean(-1, keepdims=True)
    return g * x if times_input else g


def gradient_importance(grads: Float[np.ndarray, "N L 4"], x: Float[np.ndarray, "N L 4"]) -> Float[np.ndarray, "N L"]:
    """Per-position importance: gradient x input summed over bases (the present base's gradient)."""
    return (np.asarray(grads) * np.asarray(x)).sum(-1)
