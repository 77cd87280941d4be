"""The ProtT5 encoder: ``prott5-xl`` and ``prott5:DIR`` (any local Hugging Face T5 folder).

Weights for ``prott5-xl`` are looked up, in order: the ``weights=`` option (a folder in the
Hugging Face layout of ``Rostlab/prot_t5_xl_half_uniref50-enc`` -- the encoder in float16, 2.4 GB,
which Rostlab's own embedding script uses -- or of the full ``Rostlab/prot_t5_xl_uniref50``);
``$BIOLENS_WEIGHTS_DIR/prot_t5_xl_half_uniref50-enc``; the local Hugging Face cache; the same two
places for the full ``prot_t5_xl_uniref50`` (its encoder is the same model, in float32); a download
from the Hub when the ``hub`` extra is installed and the network answers. Files:
:mod:`biolens.proteins.encoders.prott5._io`; the model: :mod:`~biolens.proteins.encoders.prott5._model`.

Licence: the Hub model cards state none; the ProtTrans repository (agemagician/ProtTrans) that
released the models is under the Academic Free License v3.0.

States are the hidden states at ``layer`` (default: the final, normalised one, Hugging Face's
``last_hidden_state``); the residue mask excludes ``</s>`` and padding (ProtT5 has no CLS token,
so ``cls`` pooling is not offered). Everything else is the ESM2 encoder's
(:class:`~biolens.proteins.encoders.esm2.ESM2Encoder`): length-laddered batches, fine-tuning of the
last ``k`` blocks. Relative positions have no length limit; proteins longer than
:attr:`ProtT5Encoder.max_residues` are windowed only to bound memory (one head's ``(T, T)`` scores).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ....core.batching import bucket_length, default_buckets
from ....core.errors import InputError, MissingWeightsError
from .._base import Encoder, TokenStates
from ..esm2._encoder import ESM2Encoder, _layer, compute_dtype, find_hub_folder

__all__ = ["HUB_REPOS", "LICENSE", "ProtT5Encoder", "availability", "build", "find_weights"]

HUB_REPOS = {"prott5-xl": "Rostlab/prot_t5_xl_half_uniref50-enc"}
#: The full encoder-decoder checkpoint of the same encoder, accepted when found locally.
FULL_REPOS = {"prott5-xl": "Rostlab/prot_t5_xl_uniref50"}
LICENSE = "AFL-3.0 (ProtTrans repository; the model card states none)"
_HUB_FILES = ["config.json", "spiece.model", "model.safetensors", "model.safetensors.index.json",
              "model-*.safetensors", "pytorch_model.bin"]  # fmt: skip
_OPTIONS = {"weights", "layer", "dtype"}


class ProtT5Encoder(ESM2Encoder):
    """A :class:`~biolens.proteins.encoders.prott5.ProtT5` encoder as a protein encoder.

    Args:
        model: the encoder (:func:`~biolens.proteins.encoders.prott5.load_prott5`, or random).
        vocab: the token table (:func:`~biolens.proteins.encoders.prott5.read_vocabulary`).
        name, layer, digest: as for :class:`~biolens.proteins.encoders.esm2.ESM2Encoder`.
        dtype: as for :class:`~biolens.proteins.encoders.esm2.ESM2Encoder`.
    """

    has_cls = False
    max_residues = 4095

    def __init__(
        self, model: Any, *, vocab: Any, name: str, layer: int | None = None, digest: str, dtype: str = "float32"
    ) -> None:
        super().__init__(model, name=name, layer=layer, digest=digest, dtype=dtype)
        self.vocab = vocab

    @classmethod
    def from_folder(cls, folder: str | Path, *, name: str, layer: int | None = None, dtype: str | None = None) -> ProtT5Encoder:
        from ._io import load_prott5, read_vocabulary, weights_digest

        digest = weights_digest(folder)
        dtype = dtype or "float32"
        model = load_prott5(folder, dtype=compute_dtype(dtype))
        return cls(model, vocab=read_vocabulary(folder), name=name, layer=layer, digest=digest, dtype=dtype)

    def tokenize(self, sequences: Sequence[str], rows: int, length: int) -> dict[str, np.ndarray]:
        from ._io import tokenize

        return {"tokens": tokenize(sequences, rows=rows, length=length + 1, vocab=self.vocab)}

    @staticmethod
    def apply(module: Any, batch: dict[str, Any], *, key: Any = None) -> tuple[Any, Any]:
        """States at the layer :meth:`finetune` prepared ``module`` for, and the residue mask
        (no dropout: ``key`` is unused)."""
        import jax

        from ._io import EOS, PAD

        model, tokens = module.joined(), batch["tokens"]
        states = jax.vmap(lambda t: model(t, layer=module.hi).hidden)(tokens)
        return states.astype("float32"), (tokens != EOS) & (tokens != PAD)

    def lora(self, module: Any, config: Any, *, key: Any) -> tuple[Any, Any]:
        raise InputError(f"{self.name}: LoRA adapters are not implemented for ProtT5 (its blocks keep raw "
                         "weight matrices); use --finetune full (with --finetune-last K)")

    def encode_batch(self, sequences: Sequence[str], rows: int, length: int) -> TokenStates:
        from ..esm2._model import batch_hidden
        from ._io import tokenize

        n = len(sequences)
        computed_rows, tokens = self.batch_shape(sequences, rows, length)
        ids = tokenize(sequences, rows=computed_rows, length=tokens, vocab=self.vocab)
        states = np.asarray(batch_hidden(self.model, ids, self.layer), dtype=np.float32)[:n]
        mask = np.zeros(states.shape[:2], dtype=bool)
        for i, seq in enumerate(sequences):
            mask[i, : len(seq)] = True
        return TokenStates(states, mask)

    def batch_shape(self, sequences: Sequence[str], rows: int, length: int) -> tuple[int, int]:
        """As :meth:`ESM2Encoder.batch_shape`, with one special token (``</s>``) instead of two."""
        n = len(sequences)
        ladder = default_buckets(self.max_residues + 1, minimum=16, growth=self.length_growth)
        need = max(len(s) for s in sequences) + 1
        return min(rows, 1 << (n - 1).bit_length()), min(length + 1, bucket_length(need, ladder))


def _missing(name: str, repo: str, reason: str) -> str:
    folder = repo.split("/")[1]
    return (
        f"no weights for {name} ({repo}, {LICENSE}): {reason}. Get them in one of these ways: "
        f"(1) pass weights=DIR (CLI: --weights DIR), a folder with config.json, spiece.model and "
        f"pytorch_model.bin (or model.safetensors) as on https://huggingface.co/{repo}; (2) put that folder at "
        f"$BIOLENS_WEIGHTS_DIR/{folder}; (3) pip install 'biolens[hub]' and run once online."
    )


def find_weights(name: str, weights: str | Path | None = None, *, download: bool = True) -> Path:
    """The folder holding ``name``'s weights (search order: the module docstring)."""
    repo = HUB_REPOS[name]

    def missing(why: str) -> str:
        return _missing(name, repo, why)

    if weights is not None or name not in FULL_REPOS:
        return find_hub_folder(repo, weights, download=download, missing=missing, files=_HUB_FILES)
    for local in (repo, FULL_REPOS[name]):  # the full checkpoint, when that is what is here (never downloaded)
        try:
            return find_hub_folder(local, None, download=False, missing=str, files=_HUB_FILES)
        except MissingWeightsError:
            pass
    if not download:
        raise MissingWeightsError(missing(f"neither it nor {FULL_REPOS[name]} is in $BIOLENS_WEIGHTS_DIR or the "
                                          "Hugging Face cache"))
    return find_hub_folder(repo, None, download=True, missing=missing, files=_HUB_FILES)


def build(name: str, arg: str | None, **options: Any) -> Encoder:
    """Registry hook: ``prott5-xl`` (options ``weights=``, ``layer=``, ``dtype=``) or ``prott5:DIR``."""
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise InputError(f"encoder {name} takes options {sorted(_OPTIONS)}, not {unknown}")
    dtype = options.get("dtype")
    if name == "prott5":
        if options.get("weights") is not None:
            raise InputError("prott5:DIR names its folder; do not pass weights= as well")
        folder = Path(arg).expanduser().resolve()
        if not folder.is_dir():
            raise MissingWeightsError(f"prott5:{arg}: {folder} is not a folder")
        return ProtT5Encoder.from_folder(folder, name=f"prott5:{folder}", layer=_layer(options), dtype=dtype)
    folder = find_weights(name, options.get("weights"))
    return ProtT5Encoder.from_folder(folder, name=name, layer=_layer(options), dtype=dtype)


def availability(name: str) -> tuple[bool, str]:
    """Whether ``name``'s weights are here (never downloads)."""
    if name == "prott5":
        return True, "give a local Hugging Face T5 folder: prott5:DIR"
    try:
        return True, f"weights at {find_weights(name, download=False)}"
    except MissingWeightsError as exc:
        return False, str(exc)
