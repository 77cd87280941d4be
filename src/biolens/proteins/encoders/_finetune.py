"""Fine-tuning a slice of an encoder whose layers are stacked along a leading axis, and LoRA adapters.

ESM2 and UniRep keep their layers stacked (one array per parameter, a leading layer axis) so that
they run under one ``lax.scan``. An Equinox filter marks whole arrays trainable or frozen, so to
train only the last ``k`` layers :func:`tune_layers` copies those slices out into their own
(trainable) leaves. A transformer runs :meth:`TunedLayers.segments` -- the frozen layers
``0..lo-1`` as one scan, then the tuned ones as another -- so no step writes a copy of the stack and
back-propagation stops at layer ``lo``; :meth:`TunedLayers.joined` (the stack with the tuned slices
written back) serves the encoders that need one stack (UniRep, ProtT5).

:func:`add_lora` wraps chosen dense projections of every stacked layer in :class:`LoRADense`
(``W x + b + (alpha / r) B A x`` with ``B = 0`` at the start, Hu et al. 2021): only the adapters
(and the head) train, the encoder's weights stay as loaded, and a saved run stores the adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["LoRAConfig", "LoRADense", "TunedLayers", "add_lora", "lora_filter", "tune_layers"]


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

    def segments(self) -> list[tuple[Any, int]]:
        """``(stack, n)`` pairs to run one after the other (the first ``n`` layers of each): the
        base's layers ``0..lo-1`` (frozen, or carrying LoRA adapters), then the tuned layers
        ``lo..hi-1``; empty ones are left out. Nothing is sliced or copied here."""
        out = []
        if self.lo > 0:
            out.append((self.where(self.base), self.lo))
        if self.tuned is not None and self.hi > self.lo:
            out.append((self.tuned, self.hi - self.lo))
        return out


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


@dataclass(frozen=True)
class LoRAConfig:
    """LoRA adapters: ``rank`` r, ``alpha`` (the update is scaled by ``alpha / rank``) and ``targets``:
    ``qv`` (the query and value projections, the LoRA paper's choice) or ``all`` (every dense
    projection of a layer: queries, keys, values, attention output, both feed-forward matrices)."""

    rank: int = 8
    alpha: float = 16.0
    targets: str = "qv"

    def __post_init__(self) -> None:
        from ...core.errors import InputError

        if self.rank < 1:
            raise InputError(f"the LoRA rank must be >= 1, got {self.rank}")
        if self.alpha <= 0:
            raise InputError(f"the LoRA alpha must be > 0, got {self.alpha}")
        if self.targets not in ("qv", "all"):
            raise InputError(f"LoRA targets must be 'qv' or 'all', got {self.targets!r}")


class LoRADense(eqx.Module):
    """A frozen dense projection ``base`` plus low-rank updates of some of its output blocks.

    The output columns split into ``blocks`` equal blocks (3 for a fused Q|K|V projection);
    block ``parts[j]`` gets ``scale * (x @ a[j]) @ b[j]``. ``b`` starts at zero, so at
    initialisation the output is exactly ``base``'s. The update is applied, never merged into
    the weight, so no step materialises a changed copy of the weight.
    """

    base: Any
    a: Any  # (P, I, r)
    b: Any  # (P, r, O / blocks)
    parts: tuple[int, ...] = eqx.field(static=True)
    blocks: int = eqx.field(static=True)
    scale: float = eqx.field(static=True)

    def __call__(self, x):
        y = self.base(x)
        width = y.shape[-1] // self.blocks
        deltas = [jnp.zeros(y.shape[:-1] + (width,), y.dtype)] * self.blocks
        for j, part in enumerate(self.parts):
            deltas[part] = ((x @ self.a[j]) @ self.b[j]) * self.scale
        return y + (deltas[0] if self.blocks == 1 else jnp.concatenate(deltas, axis=-1))


def _lora_dense(dense: Any, layers: int, parts: tuple[int, ...], blocks: int, config: LoRAConfig, key) -> LoRADense:
    n_in, n_out = dense.weight.shape[-2:]
    a = jax.random.normal(key, (layers, len(parts), n_in, config.rank), jnp.float32) / jnp.sqrt(n_in)
    b = jnp.zeros((layers, len(parts), config.rank, n_out // blocks), jnp.float32)
    return LoRADense(dense, a.astype(dense.weight.dtype), b.astype(dense.weight.dtype), parts, blocks,
                     config.alpha / config.rank)


def add_lora(module: Any, where: Callable[[Any], Any], targets: dict[str, Sequence[tuple[Callable[[Any], Any], tuple[int, ...], int]]],
             config: LoRAConfig, *, key) -> Any:
    """``module`` with the dense projections ``targets[config.targets]`` of its stack (``where``)
    wrapped in :class:`LoRADense` (adapters stacked along the layer axis, like the weights).

    ``targets`` maps a target set to ``(selector, parts, blocks)`` triples: the selector picks a
    dense layer in the stacked layer module, ``parts`` its adapted output blocks out of ``blocks``.
    """
    stack = where(module)
    layers = jax.tree.leaves(stack)[0].shape[0]
    chosen = targets[config.targets]
    for k, (select, parts, blocks) in zip(jax.random.split(key, len(chosen)), chosen, strict=True):
        stack = eqx.tree_at(select, stack, _lora_dense(select(stack), layers, parts, blocks, config, k))
    return eqx.tree_at(where, module, stack)


def _adapters(tree: Any) -> list[LoRADense]:
    is_lora = lambda x: isinstance(x, LoRADense)  # noqa: E731
    return [x for x in jax.tree.leaves(tree, is_leaf=is_lora) if is_lora(x)]


def lora_filter(module: Any) -> Any:
    """The trainable filter of a LoRA-adapted module: ``True`` on the adapters' ``a`` and ``b`` only."""
    filt = jax.tree.map(lambda _: False, module)
    if not _adapters(module):
        return filt
    return eqx.tree_at(lambda f: [leaf for d in _adapters(f) for leaf in (d.a, d.b)], filt,
                       replace_fn=lambda _: True)
