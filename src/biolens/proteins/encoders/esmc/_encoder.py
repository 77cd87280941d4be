"""ESM C encoders: ``esmc-300m``, ``esmc-600m`` and ``esmc:DIR`` (a local folder or weight file).

Weights for a named model are looked up, in order: the ``weights=`` option (a folder in the
EvolutionaryScale layout, ``DIR/data/weights/esmc_300m_2024_12_v0.pth``, an ESM++ folder with
``config.json`` + ``model.safetensors``, or the weight file itself); ``$BIOLENS_WEIGHTS_DIR/<repo
name>`` (e.g. ``esmc-300m-2024-12``); the local Hugging Face cache of the EvolutionaryScale
repository; a download from the Hub when the ``hub`` extra is installed and the network answers.
Files: :mod:`biolens.proteins.encoders.esmc`; the model: :mod:`biolens.proteins.encoders.esmc`.

Licences (the ``esm`` package's LICENSE.md): ESM C 300M -- Cambrian Open License Agreement;
ESM C 600M -- Cambrian Non-Commercial License Agreement.

Everything else is the ESM2 encoder's (:class:`~.esm2.ESM2Encoder`): same tokens, states at
``layer`` (default: the final, normalised states, the ``esm`` package's ``embeddings``), ``cls``,
the residue mask without ``<cls>``/``<eos>``/padding, length-laddered batches, fine-tuning of the
last ``k`` blocks. Proteins longer than 2,046 residues (ESM C's 2,048-token context) are windowed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ....core.errors import InputError, MissingWeightsError
from .._base import Encoder
from ..esm2._encoder import ESM2Encoder, _layer, compute_dtype

__all__ = ["HUB_REPOS", "LICENSES", "ESMCEncoder", "availability", "build", "find_weights"]

HUB_REPOS = {"esmc-300m": "EvolutionaryScale/esmc-300m-2024-12", "esmc-600m": "EvolutionaryScale/esmc-600m-2024-12"}
LICENSES = {
    "esmc-300m": "Cambrian Open License",
    "esmc-600m": "Cambrian Non-Commercial License",
}
_OPTIONS = {"weights", "layer", "dtype"}


class ESMCEncoder(ESM2Encoder):
    """An :class:`~biolens.proteins.encoders.esmc.ESMC` model as a protein encoder (ESM2's machinery)."""

    max_residues = 2046

    @classmethod
    def from_folder(cls, folder: str | Path, *, name: str, layer: int | None = None, dtype: str | None = None) -> ESMCEncoder:
        from ._io import find_weight_file, load_esmc, weights_digest

        path = Path(folder)
        file = find_weight_file(path) if path.is_dir() else path
        dtype = dtype or "float32"
        model = load_esmc(file, dtype=compute_dtype(dtype))
        return cls(model, name=name, layer=layer, digest=weights_digest(file), dtype=dtype)


def _missing(name: str, repo: str, reason: str) -> str:
    pth = f"data/weights/{name.replace('-', '_')}_2024_12_v0.pth"
    return (
        f"no weights for {name} ({repo}, {LICENSES[name]}): {reason}. Get them in one of these ways: "
        f"(1) pass weights=DIR (CLI: --weights DIR), a folder holding {pth} as on https://huggingface.co/{repo} "
        f"(or an ESM++ folder: config.json + model.safetensors); (2) put that folder at "
        f"$BIOLENS_WEIGHTS_DIR/{repo.split('/')[1]}; (3) pip install 'biolens[hub]' and run once online."
    )


def _has_weights(folder: Path) -> bool:
    from ._io import find_weight_file

    try:
        find_weight_file(folder)
    except MissingWeightsError:
        return False
    return True


def _hub(repo: str, *, local_only: bool) -> tuple[Path | None, str]:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None, "the 'hub' extra (huggingface_hub) is not installed"
    try:
        path = Path(snapshot_download(repo, allow_patterns=["data/weights/*.pth"], local_files_only=local_only))
    except Exception as exc:  # cache miss, offline, gated: report, do not crash
        return None, f"download from the Hub failed ({type(exc).__name__}: {exc})"
    return (path, "") if _has_weights(path) else (None, f"{path} has no .pth")


def find_weights(name: str, weights: str | Path | None = None, *, download: bool = True) -> Path:
    """The folder (or file) holding ``name``'s weights (search order: the module docstring)."""
    repo = HUB_REPOS[name]
    if weights is not None:
        path = Path(weights).expanduser()
        if path.is_file() or (path.is_dir() and _has_weights(path)):
            return path
        raise MissingWeightsError(_missing(name, repo, f"{path} holds no ESM C weights"))
    root = os.environ.get("BIOLENS_WEIGHTS_DIR")
    if root and _has_weights(Path(root).expanduser() / repo.split("/")[1]):
        return Path(root).expanduser() / repo.split("/")[1]
    cached, _ = _hub(repo, local_only=True)
    if cached is not None:
        return cached
    tried = [f"not in $BIOLENS_WEIGHTS_DIR ({root})" if root else "$BIOLENS_WEIGHTS_DIR is not set", "not in the Hugging Face cache"]
    if download:
        folder, why = _hub(repo, local_only=False)
        if folder is not None:
            return folder
        tried.append(why)
    raise MissingWeightsError(_missing(name, repo, "; ".join(tried)))


def build(name: str, arg: str | None, **options: Any) -> Encoder:
    """Registry hook: ``esmc-300m``, ``esmc-600m`` (options ``weights=``, ``layer=``, ``dtype=``) or ``esmc:DIR``."""
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise InputError(f"encoder {name} takes options {sorted(_OPTIONS)}, not {unknown}")
    if name == "esmc":
        if options.get("weights") is not None:
            raise InputError("esmc:DIR names its folder; do not pass weights= as well")
        path = Path(arg).expanduser().resolve()
        if not path.exists():
            raise MissingWeightsError(f"esmc:{arg}: {path} does not exist")
        return ESMCEncoder.from_folder(path, name=f"esmc:{path}", layer=_layer(options), dtype=options.get("dtype"))
    return ESMCEncoder.from_folder(find_weights(name, options.get("weights")), name=name, layer=_layer(options),
                                   dtype=options.get("dtype"))


def availability(name: str) -> tuple[bool, str]:
    """Whether ``name``'s weights are here (never downloads)."""
    if name == "esmc":
        return True, "give a local folder or .pth/.safetensors file: esmc:DIR"
    try:
        return True, f"weights at {find_weights(name, download=False)}"
    except MissingWeightsError as exc:
        return False, str(exc)
