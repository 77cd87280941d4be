"""ESM C weight files: EvolutionaryScale's ``.pth`` state dicts and ESM++ safetensors folders.

Tokens are ESM2's (:func:`biolens.proteins.encoders.esm2.tokenize`): the ``esm`` package's
``EsmSequenceTokenizer`` has the same ids (``<cls>`` 0, ``<pad>`` 1, ``<eos>`` 2, ``<unk>`` 3,
residues 4-30, ``|`` 31 where ESM2 has ``<null_1>``, ``<mask>`` 32); embeddings have 64 rows.

Two layouts are read, both with the same tensor names (ESM++ keeps EvolutionaryScale's names):

* EvolutionaryScale: ``DIR/data/weights/esmc_300m_2024_12_v0.pth`` (or ``esmc_600m_...``, or any
  single ``*.pth`` in ``DIR`` or ``DIR/data/weights``), a ``torch.save`` state dict. It is read with
  biolens' pickle-opcode reader (:mod:`biolens.core.ptfile`, nothing is executed); where that
  reader cannot (e.g. bfloat16 storages) and torch is installed, ``torch.load(weights_only=True)``.
  The head count is not stored: it is ``D / 64`` (both published models have 64-wide heads).
* ESM++ (``Synthyra/ESMplusplus_small`` = 300M, ``..._large`` = 600M): ``config.json``
  (``hidden_size``, ``num_attention_heads``, ``num_hidden_layers``, ``vocab_size``) + ``model.safetensors``.

Names mapped (``i`` = block; PyTorch ``(out, in)`` matrices are transposed to our ``(in, out)``)::

    embed.weight                                   -> embed
    transformer.blocks.i.attn.layernorm_qkv.0.{weight,bias} -> layers.qkv_norm
    transformer.blocks.i.attn.layernorm_qkv.1.weight        -> layers.qkv
    transformer.blocks.i.attn.q_ln.weight / k_ln.weight     -> layers.q_norm / k_norm
    transformer.blocks.i.attn.out_proj.weight               -> layers.out
    transformer.blocks.i.ffn.0.{weight,bias} / ffn.1.weight / ffn.3.weight -> ffn_norm / ffn_in / ffn_out
    transformer.norm.weight                        -> final_norm
    sequence_head.{0,2,3}.{weight,bias}            -> lm_head.dense / norm / out
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ....core.errors import InputError, MissingWeightsError
from ....core.files import file_digest, read_json, text_digest
from ..esm2._io import fill_arrays
from ._model import ESMC, ESMCConfig

__all__ = ["PTH_FILES", "find_weight_file", "load_esmc", "read_state_dict", "state_dict_of", "weights_digest"]

#: The published file of each named model, relative to its folder.
PTH_FILES = {
    "esmc-300m": "data/weights/esmc_300m_2024_12_v0.pth",
    "esmc-600m": "data/weights/esmc_600m_2024_12_v0.pth",
}
HEAD_SIZE = 64


def find_weight_file(folder: str | Path) -> Path:
    """The weight file of an ESM C folder: ``model.safetensors`` (ESM++) or the one ``*.pth``."""
    folder = Path(folder)
    if (folder / "model.safetensors").is_file():
        return folder / "model.safetensors"
    pth = sorted(folder.glob("*.pth")) + sorted((folder / "data" / "weights").glob("esmc_*.pth"))
    if len(pth) == 1:
        return pth[0]
    if len(pth) > 1:
        raise MissingWeightsError(f"{folder} holds several .pth files ({[p.name for p in pth]}); name one folder per model")
    raise MissingWeightsError(
        f"{folder} has no ESM C weights: expected data/weights/esmc_300m_2024_12_v0.pth (EvolutionaryScale) "
        "or config.json + model.safetensors (ESM++)"
    )


def weights_digest(path: str | Path) -> str:
    path = Path(path)
    parts = [file_digest(path)]
    if path.suffix == ".safetensors" and (path.parent / "config.json").is_file():
        parts.insert(0, file_digest(path.parent / "config.json"))
    return text_digest(" ".join(parts))


def _read_pth(path: Path) -> dict[str, np.ndarray]:
    from ....core.ptfile import UnsupportedPickle, read_pt_file

    try:
        obj = read_pt_file(path)
    except UnsupportedPickle as exc:
        try:
            import torch
        except ImportError:
            raise InputError(f"{path}: cannot read this torch file without torch ({exc}); pip install torch") from None
        obj = torch.load(path, map_location="cpu", weights_only=True)
        obj = {k: v.float().numpy() for k, v in obj.items()}
    if not isinstance(obj, Mapping):
        raise InputError(f"{path}: not a state dict (found {type(obj).__name__})")
    return {str(k): np.asarray(v, dtype=np.float32) for k, v in obj.items()}


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Tensor name -> float32 array, from a ``.pth`` or a ``.safetensors`` file."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        return {k: np.asarray(v, dtype=np.float32) for k, v in load_file(str(path)).items()}
    return _read_pth(path)


def _config(sd: Mapping[str, np.ndarray], path: Path, num_heads: int | None) -> ESMCConfig:
    if "embed.weight" not in sd:
        raise InputError(f"{path}: no embed.weight; not an ESM C state dict")
    vocab, d = sd["embed.weight"].shape
    n = 0
    while f"transformer.blocks.{n}.attn.out_proj.weight" in sd:
        n += 1
    heads = num_heads or d // HEAD_SIZE
    cfg_file = path.parent / "config.json"
    if path.suffix == ".safetensors" and cfg_file.is_file():
        hf: dict[str, Any] = read_json(cfg_file)
        heads = int(hf.get("num_attention_heads", heads))
        if int(hf.get("num_hidden_layers", n)) != n or int(hf.get("hidden_size", d)) != d:
            raise InputError(f"{cfg_file} does not match the tensors ({n} layers of width {d})")
    return ESMCConfig(hidden_size=d, num_layers=n, num_heads=heads, vocab_size=vocab)


def _arrays(sd: Mapping[str, np.ndarray], cfg: ESMCConfig, source: str) -> dict[str, np.ndarray]:
    def need(name: str) -> np.ndarray:
        if name not in sd:
            raise InputError(f"{source}: ESM C weight {name!r} is missing")
        return sd[name]

    def stack(part: str, transpose: bool = False) -> np.ndarray:
        return np.stack([need(f"transformer.blocks.{i}.{part}").T if transpose else need(f"transformer.blocks.{i}.{part}")
                         for i in range(cfg.num_layers)])  # fmt: skip

    out = {
        "embed": need("embed.weight"),
        "layers.qkv_norm.weight": stack("attn.layernorm_qkv.0.weight"),
        "layers.qkv_norm.bias": stack("attn.layernorm_qkv.0.bias"),
        "layers.qkv": stack("attn.layernorm_qkv.1.weight", True),
        "layers.q_norm.weight": stack("attn.q_ln.weight"),
        "layers.k_norm.weight": stack("attn.k_ln.weight"),
        "layers.out": stack("attn.out_proj.weight", True),
        "layers.ffn_norm.weight": stack("ffn.0.weight"),
        "layers.ffn_norm.bias": stack("ffn.0.bias"),
        "layers.ffn_in": stack("ffn.1.weight", True),
        "layers.ffn_out": stack("ffn.3.weight", True),
        "final_norm.weight": need("transformer.norm.weight"),
    }
    if "sequence_head.0.weight" in sd:
        for ours, theirs, transpose in [("dense", "0", True), ("norm", "2", False), ("out", "3", True)]:
            weight = need(f"sequence_head.{theirs}.weight")
            out[f"lm_head.{ours}.weight"] = weight.T if transpose else weight
            out[f"lm_head.{ours}.bias"] = need(f"sequence_head.{theirs}.bias")
    return out


def load_esmc(path: str | Path, *, num_heads: int | None = None, dtype: Any = jnp.float32) -> ESMC:
    """Load ESM C from a folder (either layout, see the module docstring) or a weight file.

    ``num_heads`` overrides the head count a ``.pth`` implies (``D / 64``); ``dtype``: the
    parameters' dtype (float32 by default, whatever the file stores)."""
    path = Path(path)
    file = find_weight_file(path) if path.is_dir() else path
    sd = read_state_dict(file)
    cfg = _config(sd, file, num_heads)
    arrays = _arrays(sd, cfg, str(file))
    with_head = "lm_head.out.weight" in arrays
    skeleton = eqx.filter_eval_shape(lambda: ESMC(cfg, key=jax.random.key(0), lm_head=with_head))
    return fill_arrays(skeleton, arrays, str(file), dtype=dtype)


def state_dict_of(model: ESMC) -> dict[str, np.ndarray]:
    """The ``esm`` package's tensor names -> arrays (the inverse of the mapping above)."""
    params = {jax.tree_util.keystr(p, simple=True, separator="."): np.asarray(v, dtype=np.float32)
              for p, v in jax.tree_util.tree_leaves_with_path(eqx.filter(model, eqx.is_array))}  # fmt: skip
    out = {"embed.weight": params["embed"], "transformer.norm.weight": params["final_norm.weight"]}
    names = [("qkv_norm.weight", "attn.layernorm_qkv.0.weight", False), ("qkv_norm.bias", "attn.layernorm_qkv.0.bias", False),
             ("qkv", "attn.layernorm_qkv.1.weight", True), ("q_norm.weight", "attn.q_ln.weight", False),
             ("k_norm.weight", "attn.k_ln.weight", False), ("out", "attn.out_proj.weight", True),
             ("ffn_norm.weight", "ffn.0.weight", False), ("ffn_norm.bias", "ffn.0.bias", False),
             ("ffn_in", "ffn.1.weight", True), ("ffn_out", "ffn.3.weight", True)]  # fmt: skip
    for i in range(model.config.num_layers):
        for ours, theirs, transpose in names:
            value = params[f"layers.{ours}"][i]
            out[f"transformer.blocks.{i}.{theirs}"] = value.T if transpose else value
    if model.lm_head is not None:
        for ours, theirs, transpose in [("dense", "0", True), ("norm", "2", False), ("out", "3", True)]:
            weight = params[f"lm_head.{ours}.weight"]
            out[f"sequence_head.{theirs}.weight"] = weight.T if transpose else weight
            out[f"sequence_head.{theirs}.bias"] = params[f"lm_head.{ours}.bias"]
    return {k: np.ascontiguousarray(v) for k, v in out.items()}
