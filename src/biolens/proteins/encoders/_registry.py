"""Encoders by name.

Names: ``onehot``, ``composition``, ``dipeptide``, ``unirep-64|256|1900``,
``esm2-8m|35m|150m|650m|3b`` (or ``esm2:DIR`` for any local Hugging Face ESM2 folder),
``esmc-300m|600m`` (or ``esmc:DIR``), ``prott5-xl`` (or ``prott5:DIR``) and
``mlm:RUN`` (a masked LM pretrained with ``biolens pretrain``); the Hugging Face ids of those
models (``facebook/esm2_t6_8M_UR50D``..., :data:`HF_IDS`) name the same entries. Families that need weights or
optional packages are imported lazily; :func:`list_encoders` says what is available here.
"""

from __future__ import annotations

import importlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ...core.errors import InputError
from ._base import Encoder

__all__ = ["ENCODERS", "HF_IDS", "EncoderEntry", "availability", "canonical_name", "get_encoder", "hf_aliases",
           "list_encoders"]


@dataclass(frozen=True)
class EncoderEntry:
    """A registered encoder name.

    Attributes:
        name: the registry name (``esm2-8m``); a family prefix for ``family:ARG`` names.
        family: the module in :mod:`biolens.proteins.encoders` that builds it.
        width: output width per residue (``None`` when it depends on the argument).
        description: one line for ``biolens encoders``.
        license: the licence of the weights.
        extra: the pip extra the encoder needs, if any.
    """

    name: str
    family: str
    width: int | None
    description: str
    license: str = "-"
    extra: str | None = None


_ENTRIES = [
    EncoderEntry("onehot", "onehot", 20, "one-hot residues (20 columns; ambiguous letters spread)"),
    EncoderEntry("composition", "onehot", 20, "amino-acid composition"),
    EncoderEntry("dipeptide", "onehot", 420, "amino-acid + dipeptide composition"),
    EncoderEntry("unirep-64", "unirep", 64, "UniRep mLSTM, 4 x 64 (Alley et al. 2019)", "CC BY-NC 4.0 weights", "unirep"),
    EncoderEntry("unirep-256", "unirep", 256, "UniRep mLSTM, 4 x 256", "CC BY-NC 4.0 weights", "unirep"),
    EncoderEntry("unirep-1900", "unirep", 1900, "UniRep mLSTM, 1 x 1900", "CC BY-NC 4.0 weights", "unirep"),
    EncoderEntry("esm2-8m", "esm2", 320, "ESM2 t6 8M (facebook/esm2_t6_8M_UR50D)", "MIT"),
    EncoderEntry("esm2-35m", "esm2", 480, "ESM2 t12 35M (facebook/esm2_t12_35M_UR50D)", "MIT"),
    EncoderEntry("esm2-150m", "esm2", 640, "ESM2 t30 150M (facebook/esm2_t30_150M_UR50D)", "MIT"),
    EncoderEntry("esm2-650m", "esm2", 1280, "ESM2 t33 650M (facebook/esm2_t33_650M_UR50D)", "MIT"),
    EncoderEntry("esm2-3b", "esm2", 2560, "ESM2 t36 3B (facebook/esm2_t36_3B_UR50D)", "MIT"),
    EncoderEntry("esm2", "esm2", None, "ESM2 from a local Hugging Face folder: esm2:DIR", "MIT"),
    EncoderEntry("esmc-300m", "esmc", 960, "ESM C 300M, 30 x 960 (EvolutionaryScale/esmc-300m-2024-12)", "Cambrian Open License"),
    EncoderEntry("esmc-600m", "esmc", 1152, "ESM C 600M, 36 x 1152 (EvolutionaryScale/esmc-600m-2024-12)", "Cambrian Non-Commercial License"),
    EncoderEntry("esmc", "esmc", None, "ESM C from a local folder or .pth/.safetensors file: esmc:DIR", "see the model's"),
    EncoderEntry("prott5-xl", "prott5", 1024, "ProtT5-XL-UniRef50 encoder, 24 x 1024 (Rostlab/prot_t5_xl_half_uniref50-enc; or Rostlab/prot_t5_xl_uniref50)",
                 "AFL-3.0 (ProtTrans)"),
    EncoderEntry("prott5", "prott5", None, "a T5 encoder from a local Hugging Face folder: prott5:DIR", "see the model's"),
    EncoderEntry("mlm", "mlm", None, "a masked LM trained with `biolens pretrain`: mlm:RUN", "yours"),
]
ENCODERS: dict[str, EncoderEntry] = {e.name: e for e in _ENTRIES}

# Hugging Face model ids accepted as encoder names (``--encoder facebook/esm2_t6_8M_UR50D``, any case).
# The weights are still found locally as the entry's (weights=, $BIOLENS_WEIGHTS_DIR, the Hub cache).
# ``Rostlab/prot_t5_xl_uniref50`` is the full encoder-decoder whose encoder ``prott5-xl`` is (in float16).
HF_IDS: dict[str, str] = {
    "facebook/esm2_t6_8M_UR50D": "esm2-8m",
    "facebook/esm2_t12_35M_UR50D": "esm2-35m",
    "facebook/esm2_t30_150M_UR50D": "esm2-150m",
    "facebook/esm2_t33_650M_UR50D": "esm2-650m",
    "facebook/esm2_t36_3B_UR50D": "esm2-3b",
    "Rostlab/prot_t5_xl_half_uniref50-enc": "prott5-xl",
    "Rostlab/prot_t5_xl_uniref50": "prott5-xl",
    "EvolutionaryScale/esmc-300m-2024-12": "esmc-300m",
    "EvolutionaryScale/esmc-600m-2024-12": "esmc-600m",
}
_HF_LOWER = {k.lower(): v for k, v in HF_IDS.items()}


def canonical_name(spec: str) -> str:
    """The registry name for ``spec``: a Hugging Face id becomes its entry (``esm2-8m``)."""
    return _HF_LOWER.get(spec.strip().lower(), spec)


def hf_aliases(name: str) -> list[str]:
    """The Hugging Face ids that name the registry entry ``name``."""
    return [hf_id for hf_id, target in HF_IDS.items() if target == name]


_BUILT: OrderedDict[tuple, Encoder] = OrderedDict()
_MAX_BUILT = 4


def _entry(spec: str) -> tuple[EncoderEntry, str | None]:
    name, sep, arg = canonical_name(spec).partition(":")
    entry = ENCODERS.get(name)
    if entry is None or (entry.width is None and not sep):
        known = ", ".join(n if ENCODERS[n].width is not None else f"{n}:PATH" for n in ENCODERS)
        hub = (f"; Hugging Face ids known: {', '.join(HF_IDS)} (another model: esm2:DIR, esmc:DIR or prott5:DIR "
               "with its downloaded folder)" if "/" in name and not name.startswith(("/", ".", "~")) else "")
        raise InputError(f"unknown encoder {spec!r}; known encoders: {known}{hub}")
    if sep and entry.width is not None:
        raise InputError(f"encoder {name!r} takes no ':' argument (got {spec!r})")
    return entry, (arg or None)


def _family(entry: EncoderEntry):
    return importlib.import_module(f"{__package__}.{entry.family}")


def get_encoder(spec: str | Encoder, **options: Any) -> Encoder:
    """Build (or reuse) the encoder named ``spec`` with ``options`` (``layer=``, ``weights=``...).

    Built encoders are kept in a small cache, so repeated calls do not reload weights.
    """
    if isinstance(spec, Encoder):
        if options:
            raise InputError("encoder options apply to encoder names, not to encoder objects")
        return spec
    spec = canonical_name(spec)
    entry, arg = _entry(spec)
    # the weights folder found for a name depends on $BIOLENS_WEIGHTS_DIR: a changed one builds again
    key = (spec, tuple(sorted((k, str(v)) for k, v in options.items() if v is not None)),
           os.environ.get("BIOLENS_WEIGHTS_DIR"))
    if key in _BUILT:
        _BUILT.move_to_end(key)
        return _BUILT[key]
    encoder = _family(entry).build(entry.name, arg, **{k: v for k, v in options.items() if v is not None})
    _BUILT[key] = encoder
    while len(_BUILT) > _MAX_BUILT:
        _BUILT.popitem(last=False)
    return encoder


def availability(name: str) -> tuple[bool, str]:
    """``(available, how)``: whether the encoder can be built here, and how to make it so."""
    entry = ENCODERS[name]
    try:
        module = _family(entry)
    except ImportError as exc:  # pragma: no cover
        return False, f"cannot import {entry.family}: {exc}"
    return module.availability(entry.name)


def list_encoders() -> list[tuple[EncoderEntry, bool, str]]:
    return [(e, *availability(e.name)) for e in _ENTRIES]
