"""Training losses of the structure models, in the form ``core.train.fit`` expects:
``loss(model, state, batch, key) -> (loss, state)``; ``state`` is the VQ codebook (or ``None``).

Every model is trained on FAPE over its crop (all atoms seen from random residue frames of the
crop), so the decoder learns consistent placement over the whole crop, not only residue to residue.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ._models import ModelConfig
from ._quantize import Codebook, ema_update, quantize
from ._rigid import backbone_frames, fape

__all__ = ["loss_function", "reconstruction_loss"]


def _step_loss(rot, trans, true_rot, true_trans, mask):
    """Squared error of the rigid step from each residue's frame to the next one's (rotation
    entries, and translation in units of 2 Å), over pairs of consecutive real residues."""

    def steps(r, t):
        return jnp.einsum("lji,ljk->lik", r[:-1], r[1:]), jnp.einsum("lji,lj->li", r[:-1], t[1:] - t[:-1])

    (pr, pt), (tr, tt) = steps(rot, trans), steps(true_rot, true_trans)
    err = jnp.sum((pr - tr) ** 2, (-1, -2)) + jnp.sum((pt - tt) ** 2, -1) / 4.0
    w = mask[:-1] & mask[1:]
    return jnp.sum(err * w) / jnp.maximum(jnp.sum(w), 1)


def reconstruction_loss(
    decoded, batch: dict[str, Array], *, frames: int | None = None, key: jax.Array | None = None,
    step_weight: float = 0.0, clamp: float = 10.0,
) -> Array:
    """Mean FAPE of decoded crops ``(rot, trans, atoms)`` against the batch's coordinates, plus
    ``step_weight`` times the error of residue-to-residue steps (a dense local signal: chained
    errors soon exceed FAPE's clamp, where it has no gradient).

    With ``frames`` and ``key``, each crop's atoms are seen from that many random residue
    frames instead of all of them (an unbiased, cheaper estimate for training). ``clamp``: FAPE's
    distance clamp (Å).
    """
    n = batch["mask"].shape[1]
    keys = jax.random.split(key, batch["mask"].shape[0]) if key is not None else None

    def one(rot, trans, atoms, coords, mask, atom_mask, k):
        true_rot, true_trans = backbone_frames(coords)
        pick = jnp.arange(n) if k is None or frames is None or frames >= n else jax.random.permutation(k, n)[:frames]
        pred = (rot[pick], trans[pick], atoms)
        true = (true_rot[pick], true_trans[pick], coords)
        loss = fape(pred, true, mask, atom_mask & mask[:, None], frame_mask=mask[pick], clamp=clamp)
        return loss + step_weight * _step_loss(rot, trans, true_rot, true_trans, mask) if step_weight else loss

    return jnp.mean(jax.vmap(one)(*decoded, batch["coords"], batch["mask"], batch["atom_mask"], keys))


def _reconstruction(config: ModelConfig, decoded, batch, key) -> Array:
    return reconstruction_loss(decoded, batch, frames=config.fape_frames, key=key, step_weight=config.step_weight,
                               clamp=config.fape_clamp)


def _vq_loss(config: ModelConfig):
    def loss(model, book: Codebook, batch, key):
        z = jax.vmap(model.encode)(batch["features"], batch["mask"])
        idx, zq = quantize(book.vectors, z)
        straight = z + jax.lax.stop_gradient(zq - z)
        decoded = jax.vmap(model.decoder)(straight, batch["mask"])
        w = batch["mask"][..., None]
        commit = jnp.sum(w * (z - jax.lax.stop_gradient(zq)) ** 2) / jnp.maximum(jnp.sum(w) * z.shape[-1], 1)
        d = z.shape[-1]
        new_book = ema_update(book, z.reshape(-1, d), idx.reshape(-1), batch["mask"].reshape(-1),
                              decay=config.ema_decay, dead_threshold=config.dead_threshold, key=key)
        rec = _reconstruction(config, decoded, batch, jax.random.fold_in(key, 7))
        return rec + config.commitment * commit, new_book

    return loss


def _vae_loss(config: ModelConfig):
    def loss(model, state, batch, key):
        mean, logvar = jax.vmap(model.encode)(batch["features"], batch["mask"])
        z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape)
        decoded = jax.vmap(model.decoder)(z, batch["mask"])
        kl = 0.5 * jnp.sum(mean**2 + jnp.exp(logvar) - 1.0 - logvar, -1)
        kl = jnp.sum(kl * batch["mask"]) / jnp.maximum(jnp.sum(batch["mask"]), 1)
        rec = _reconstruction(config, decoded, batch, jax.random.fold_in(key, 7))
        return rec + config.kl_weight * kl, state

    return loss


def _threedi_loss(config: ModelConfig):
    def loss(model, state, batch, key):
        z = jax.vmap(model.encode)(batch["states"])
        decoded = jax.vmap(model.decoder)(z, batch["mask"])
        return _reconstruction(config, decoded, batch, key), state

    return loss


@functools.cache
def loss_function(config: ModelConfig) -> Callable:
    """The training loss for ``config.kind`` (one function per config: runs of one config share a
    compiled training step)."""
    return {"vqvae": _vq_loss, "vae": _vae_loss, "3di": _threedi_loss}[config.kind](config)
