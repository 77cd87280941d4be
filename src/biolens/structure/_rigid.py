"""Rigid transforms in JAX for the decoder: 6D rotations, chaining residue frames, placing
backbone atoms and the frame-aligned point error (FAPE) loss.

A frame is ``(R, t)`` with ``R``'s columns the local axes: local ``p`` sits at ``R p + t``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

__all__ = ["backbone_frames", "chain_frames", "fape", "place_atoms", "rotation_6d"]


def rotation_6d(a: Float[Array, "*B 6"]) -> Float[Array, "*B 3 3"]:
    """A rotation from two 3-vectors by Gram–Schmidt (Zhou et al., CVPR 2019): continuous, so
    a network can output it. The vectors become the first two columns."""
    x, y = a[..., :3], a[..., 3:]
    e1 = x / jnp.sqrt(jnp.sum(x * x, -1, keepdims=True) + 1e-8)
    y = y - jnp.sum(e1 * y, -1, keepdims=True) * e1
    e2 = y / jnp.sqrt(jnp.sum(y * y, -1, keepdims=True) + 1e-8)
    return jnp.stack([e1, e2, jnp.cross(e1, e2)], -1)


def _compose(a: tuple[Array, Array], b: tuple[Array, Array]) -> tuple[Array, Array]:
    (ra, ta), (rb, tb) = a, b
    return ra @ rb, jnp.einsum("...ij,...j->...i", ra, tb) + ta


def chain_frames(
    rot: Float[Array, "L 3 3"], trans: Float[Array, "L 3"]
) -> tuple[Float[Array, "L 3 3"], Float[Array, "L 3"]]:
    """Global frames from relative ones: frame 0 is the identity and frame ``i + 1`` is frame
    ``i`` composed with ``(rot[i], trans[i])`` (the last relative transform is unused).

    A sequential scan (cheap to compile; 3×3 products are cheap to run).
    """
    eye = jnp.broadcast_to(jnp.eye(3, dtype=rot.dtype), rot[:1].shape)
    rel_r = jnp.concatenate([eye, rot[:-1]], 0)
    rel_t = jnp.concatenate([jnp.zeros_like(trans[:1]), trans[:-1]], 0)
    def body(frame, rel):
        frame = _compose(frame, rel)
        return frame, frame

    return jax.lax.scan(body, (rel_r[0], rel_t[0]), (rel_r, rel_t))[1]


def place_atoms(
    rot: Float[Array, "L 3 3"], trans: Float[Array, "L 3"], local: Float[Array, "L A 3"]
) -> Float[Array, "L A 3"]:
    """Global atom positions from each residue's frame and its atoms' local coordinates."""
    return jnp.einsum("lij,laj->lai", rot, local) + trans[:, None]


def fape(
    pred: tuple[Float[Array, "F 3 3"], Float[Array, "F 3"], Float[Array, "L A 3"]],
    true: tuple[Float[Array, "F 3 3"], Float[Array, "F 3"], Float[Array, "L A 3"]],
    residue_mask: Bool[Array, " L"], atom_mask: Bool[Array, "L A"],
    *, frame_mask: Bool[Array, " F"] | None = None, clamp: float = 10.0, scale: float = 10.0,
) -> Float[Array, ""]:
    """Frame-aligned point error (Jumper et al., Nature 2021, suppl. 1.9.2): every atom ``j``
    seen from every residue frame ``i``, predicted vs true, distance clamped at ``clamp`` Å,
    averaged over valid (frame, atom) pairs and divided by ``scale``. Invariant to rigid motions
    of either structure. The frames may be a subset of the residues (``frame_mask`` then marks
    the valid ones; by default ``residue_mask``)."""

    def local(frames):
        r, t, x = frames
        return jnp.einsum("iba,ijkb->ijka", r, x[None] - t[:, None, None])  # (L_frames, L, A, 3)

    diff = local(pred) - local(true)
    dist = jnp.sqrt(jnp.sum(diff * diff, -1) + 1e-8)
    frame_mask = residue_mask if frame_mask is None else frame_mask
    w = frame_mask[:, None, None] & atom_mask[None] & residue_mask[None, :, None]
    err = jnp.minimum(dist, clamp) * w
    return jnp.sum(err) / jnp.maximum(jnp.sum(w), 1) / scale


def backbone_frames(coords: Float[Array, "L A 3"]) -> tuple[Float[Array, "L 3 3"], Float[Array, "L 3"]]:
    """Residue frames from N, CA, C (``coords[:, :3]``), as :func:`.geometry.frames` does in NumPy."""
    n, ca, c = coords[:, 0], coords[:, 1], coords[:, 2]
    x = c - ca
    e1 = x / jnp.sqrt(jnp.sum(x * x, -1, keepdims=True) + 1e-8)
    u = n - ca
    u = u - jnp.sum(u * e1, -1, keepdims=True) * e1
    e2 = u / jnp.sqrt(jnp.sum(u * u, -1, keepdims=True) + 1e-8)
    return jnp.stack([e1, e2, jnp.cross(e1, e2)], -1), ca
