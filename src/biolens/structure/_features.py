"""Per-residue features of local backbone geometry, invariant to rotation and translation.

For residue ``i`` with frame ``(R_i, t_i)`` (:func:`.geometry.frames`), everything is a scalar
or a vector expressed in that frame, so a rigid motion of the whole chain changes nothing:

* backbone dihedrals phi, psi, omega as sin/cos, with a flag where each is defined (9);
* the N–CA–C bond angle as sin/cos (2);
* for the bonded neighbours ``i-2, i-1, i+1, i+2`` (never across a chain break): their CA in
  frame ``i`` (3, in nm) and a presence flag (1); for ``i±1`` also their frame's first two
  axes in frame ``i`` (6) — 4 × 4 + 2 × 6 = 28;
* the ``k`` nearest residues in space (by CA, ``|i - j| > 2``, any segment of the chain): CA in
  frame ``i`` (3, nm), distance (1, nm), their x/y axes in frame ``i`` (6), signed log sequence
  separation (1) and a presence flag (1) — 12 per neighbour.

Width: ``39 + 12 k`` (135 for the default ``k = 8``).
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Bool, Float, Int

from ._geometry import dihedrals, frames, to_local
from ._read import Backbone

__all__ = ["DEFAULT_NEIGHBOURS", "feature_width", "residue_features"]

DEFAULT_NEIGHBOURS = 8
SEQUENCE_OFFSETS = (-2, -1, 1, 2)
ORIENTED_OFFSETS = (-1, 1)
NM = 0.1  # features in nanometres keep their scale near 1


def feature_width(neighbours: int = DEFAULT_NEIGHBOURS) -> int:
    """The number of features per residue."""
    return 9 + 2 + 4 * len(SEQUENCE_OFFSETS) + 6 * len(ORIENTED_OFFSETS) + 12 * neighbours


def _bond_angle(coords: np.ndarray) -> np.ndarray:
    a = coords[:, 0] - coords[:, 1]
    b = coords[:, 2] - coords[:, 1]
    cos = np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    cos = np.clip(cos, -1.0, 1.0)
    return np.stack([cos, np.sqrt(1.0 - cos**2)], -1)


def _sequence_neighbours(rot: np.ndarray, t: np.ndarray, segment: np.ndarray) -> np.ndarray:
    L = len(t)
    parts = []
    for off in SEQUENCE_OFFSETS:
        j = np.clip(np.arange(L) + off, 0, L - 1)
        ok = (np.arange(L) + off >= 0) & (np.arange(L) + off < L) & (segment[j] == segment)
        pos = to_local(rot, t, t[j]) * NM
        cols = [pos, np.ones((L, 1))]
        if off in ORIENTED_OFFSETS:
            rel = np.einsum("lji,ljk->lik", rot, rot[j])  # R_i^T R_j
            cols.append(rel[:, :, :2].transpose(0, 2, 1).reshape(L, 6))
        parts.append(np.concatenate(cols, -1) * ok[:, None])
    return np.concatenate(parts, -1)


def _spatial_neighbours(rot: np.ndarray, t: np.ndarray, k: int) -> np.ndarray:
    L = len(t)
    out = np.zeros((L, k, 12))
    if k == 0 or L < 4:
        return out.reshape(L, -1)
    idx = np.arange(L)
    dist = np.linalg.norm(t[:, None] - t[None], axis=-1)
    dist[np.abs(idx[:, None] - idx[None]) <= 2] = np.inf
    m = min(k, L - 1)
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :m]
    d = np.take_along_axis(dist, nearest, 1)
    ok = np.isfinite(d)
    pos = np.einsum("lji,lmj->lmi", rot, t[nearest] - t[:, None]) * NM
    rel = np.einsum("lji,lmjk->lmik", rot, rot[nearest])[..., :2].swapaxes(-1, -2).reshape(L, m, 6)
    sep = nearest - idx[:, None]
    feats = np.concatenate(
        [pos, (d * NM)[..., None], rel, (np.sign(sep) * np.log1p(np.abs(sep)))[..., None], np.ones((L, m, 1))], -1
    )
    out[:, :m] = np.where(ok[..., None], feats, 0.0)
    return out.reshape(L, -1)


def residue_features(
    backbone: Backbone, neighbours: int = DEFAULT_NEIGHBOURS
) -> tuple[Float[np.ndarray, "L F"], Bool[np.ndarray, " L"]]:
    """Features ``(L, feature_width(neighbours))`` float32 and the residue mask (all True:
    every residue read has N, CA and C)."""
    coords = backbone.coords.astype(np.float64)
    seg: Int[np.ndarray, " L"] = backbone.segment
    rot, t = frames(coords[:, 0], coords[:, 1], coords[:, 2])
    ang, ok = dihedrals(coords, seg)
    torsion = np.concatenate([np.sin(ang) * ok, np.cos(ang) * ok, ok], -1)
    feats = np.concatenate(
        [torsion, _bond_angle(coords), _sequence_neighbours(rot, t, seg), _spatial_neighbours(rot, t, neighbours)], -1
    )
    return feats.astype(np.float32), np.ones(len(coords), bool)
