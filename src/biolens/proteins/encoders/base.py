"""The encoder contract shared by every protein encoder.

An encoder maps validated protein sequences to per-token states. The embedding driver
(:mod:`biolens.proteins.embed`) batches, windows, pools and caches; an encoder only runs a
padded batch. Pooling ignores padding and special tokens (:mod:`.pooling`).
"""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from jaxtyping import Array, Bool, Float

from ...core.files import text_digest

__all__ = ["DifferentiableEncoder", "Encoder", "TokenStates"]


@dataclass(frozen=True)
class TokenStates:
    """An encoder's output for a padded batch of ``B`` rows and ``T`` token positions.

    Attributes:
        states: per-token states, ``(B, T, D)``.
        residue_mask: ``True`` where a position holds a residue (not padding, not a special token).
        cls: the sequence-summary token's state (ESM's ``<cls>``), ``(B, D)``, or ``None``.
        extra: encoder-specific sequence summaries, each ``(B, D')`` (UniRep's ``h_final``...).
    """

    states: Float[Array, "B T D"] | Float[np.ndarray, "B T D"]
    residue_mask: Bool[Array, "B T"] | Bool[np.ndarray, "B T"]
    cls: Float[Array, "B D"] | Float[np.ndarray, "B D"] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Encoder(abc.ABC):
    """A protein encoder: a name, a fingerprint, an output width and per-residue states.

    Subclasses set ``name``, ``width`` and implement :meth:`encode_batch`, :meth:`settings` and
    :meth:`weights_digest`. ``max_residues`` bounds one forward pass: longer proteins are
    embedded in overlapping windows by the driver. ``poolings`` lists the pooled outputs
    the encoder supports; ``per_residue`` says whether per-residue output makes sense.
    """

    name: str
    width: int
    max_residues: int | None = None
    has_cls: bool = False
    per_residue: bool = True
    poolings: tuple[str, ...] = ("mean", "max", "mean+max")
    #: default number of padded tokens per batch (B * T); a speed/memory trade-off.
    token_budget: int = 8192
    #: batches the embedding driver encodes at once on threads (:func:`~biolens.core.parallel.ordered_map`);
    #: above 1 only for encoders whose :meth:`encode_batch` is thread-safe and releases the GIL.
    batches_in_flight: int = 1

    @abc.abstractmethod
    def settings(self) -> dict[str, Any]:
        """Settings that change the output (layer, options); part of the fingerprint."""

    @abc.abstractmethod
    def weights_digest(self) -> str:
        """A hash of the weights (``"none"`` for encoders without weights)."""

    @abc.abstractmethod
    def encode_batch(self, sequences: Sequence[str], rows: int, length: int) -> TokenStates:
        """Encode ``sequences`` padded to ``rows`` rows of ``length`` residues.

        ``sequences`` are validated upper-case protein letters, each at most ``length`` long
        (and at most ``max_residues``). Rows past ``len(sequences)`` are padding.
        """

    def fingerprint(self) -> str:
        """Name + weights hash + settings: equal fingerprints give equal embeddings."""
        payload = {"name": self.name, "weights": self.weights_digest(), "settings": self.settings()}
        return text_digest(json.dumps(payload, sort_keys=True))[:32]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "width": self.width, "settings": self.settings()}

    def export_metadata(self, pooling: str, per_residue: bool) -> dict[str, Any]:
        """What an embedding file records about the vectors in it (flat values: HDF5 attributes)."""
        settings = self.settings()
        return {"encoder": self.name, "fingerprint": self.fingerprint(), "width": self.width,
                "layer": settings.get("layer"), "pooling": "per_residue" if per_residue else pooling,
                "settings": json.dumps(settings, sort_keys=True, default=str)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, width={self.width})"


@runtime_checkable
class DifferentiableEncoder(Protocol):
    """A JAX-native encoder that can be fine-tuned: gradients flow through :meth:`apply`.

    Implemented next to :class:`Encoder` by encoders whose forward pass is an ``eqx.Module``
    (ESM2, UniRep, a masked LM of one's own). The task model calls, inside a jitted loss::

        batch = encoder.tokenize(sequences, rows, length)        # numpy, outside jit
        states, mask = encoder.apply(module, batch, key=key)     # pure, differentiable

    Attributes:
        module: the encoder's weights and structure (an ``eqx.Module``).
    """

    module: Any

    def tokenize(self, sequences: Sequence[str], rows: int, length: int) -> dict[str, np.ndarray]:
        """Token arrays for ``sequences`` padded to ``rows`` x ``length`` residues (plus any
        special tokens), e.g. ``{"tokens": (rows, T) int32}``. Rows past ``len(sequences)`` are padding."""
        ...

    @staticmethod
    def apply(module: Any, batch: dict[str, Any], *, key: Any = None) -> tuple[Float[Array, "B T D"], Bool[Array, "B T"]]:
        """Per-token states and the residue mask (``True`` on residues, not on padding or special
        tokens) -- the same arrays ``encode_batch`` would return as :class:`TokenStates`. An
        encoder with ``has_cls`` keeps its summary token at position 0 (``cls`` pooling reads it).
        ``key`` enables dropout in training; ``None`` is inference."""
        ...

    def finetune(self, module: Any, last: int | None) -> tuple[Any, Any]:
        """Prepare ``module`` for fine-tuning its last ``last`` layers (all when ``None``, none when 0).

        Returns ``(module, trainable)``: a module computing the same function (an encoder whose
        layers are stacked for ``lax.scan`` may split the stack into a frozen and a trainable part
        here) and an Equinox filter -- a pytree of bools with the module's structure, ``True``
        for the parameters to update.
        """
        ...
