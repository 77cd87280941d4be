"""Fine-tuning a slice of an encoder whose layers are stacked along a leading axis.

ESM2 and UniRep keep their layers stacked (one array per parameter, a leading layer axis) so that
they run under one ``lax.scan``. An Equinox filter marks whole arrays trainable or frozen, so to
train only the last ``k`` layers :func:`tune_layers` copies those slices out into their own
(trainable) leaves; :meth:`TunedLayers.joined` writes them back into the frozen stack inside the
forward pass, which therefore computes exactly the encoder's function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax

__all__ = ["TunedLayers", "tune_layers"]


class TunedLayers(eqx.Module):
    """An encoder module with layers ``lo..hi-1`` of its stack held apart for training.

    Attributes:
        base: the encoder module; its stack (``where(base)``) keeps the frozen values of every layer.
        tuned: stacked layers ``lo..hi-1`` (leading axis ``hi - lo``), or ``None`` when the model has no stack.
        lo, hi: the trained slice of the stack; ``hi`` is also the number of stacked layers the
            encoder runs (its output layer).
        where: selects the stack in ``base`` (a module-level function, so the structure is stable).
    """

    base: Any
    tuned: Any
    lo: int = eqx.field(static=True)
    hi: int = eqx.field(static=True)
    where: Callable[[Any], Any] | None = eqx.field(static=True)

    def joined(self) -> Any:
        """``base`` with the tuned slices written into its stack: the module the encoder runs."""
        if self.tuned is None or self.hi == self.lo:
            return self.base
        full = jax.tree.map(lambda s, t: s.at[self.lo : self.hi].set(t), self.where(self.base), self.tuned)
        return eqx.tree_at(self.where, self.base, full)


def _everything(tree: Any, value: bool) -> Any:
    return jax.tree.map(lambda _: value, tree)


def tune_layers(
    module: Any, where: Callable[[Any], Any] | None, lo: int, hi: int, *,
    train_all: bool = False, also: Sequence[Callable[[Any], Any]] = (),
) -> tuple[TunedLayers, Any]:
    """Hold stack layers ``lo..hi-1`` of ``module`` apart for training.

    Args:
        module: the encoder module; where: selects its stack (``None``: no stack, ``lo == hi``).
        lo, hi: the slice to train (``lo == hi``: none).
        train_all: also train everything outside the stack (embeddings, norms...).
        also: selectors of further parts of ``module`` to train (e.g. a final norm).

    Returns:
        ``(TunedLayers, filter)``: the filter is a pytree of bools for :func:`biolens.core.train.fit`,
        ``True`` on the parameters to update; the frozen stack itself is never updated.
    """
    tuned = None if where is None else jax.tree.map(lambda a: a[lo:hi], where(module))
    tl = TunedLayers(base=module, tuned=tuned, lo=lo, hi=hi, where=where)
    filt = _everything(tl, False)
    if train_all:
        filt = eqx.tree_at(lambda m: m.base, filt, _everything(module, True))
        if where is not None:
            filt = eqx.tree_at(lambda m: where(m.base), filt, _everything(where(module), False))
    for part in also:
        filt = eqx.tree_at(lambda m, part=part: part(m.base), filt, _everything(part(module), True))
    if tuned is not None:
        filt = eqx.tree_at(lambda m: m.tuned, filt, _everything(tuned, True))
    return tl, filt
