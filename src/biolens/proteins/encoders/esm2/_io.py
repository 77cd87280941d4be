"""ESM2 tokens and Hugging Face checkpoint folders.

Tokens follow Hugging Face's ``EsmTokenizer`` with the ``facebook/esm2_*`` ``vocab.txt``
(:data:`ESM_TOKENS`): ``<cls>``, residues, ``<eos>``, then ``<pad>``. One token per residue: a
letter the vocabulary lacks (``J``) becomes ``<unk>``, as ``EsmTokenizer`` maps a lone ``J``
(it merges a *run* of unknown letters into one ``<unk>``, which would shift every later residue;
biolens keeps one ``<unk>`` per residue).

A checkpoint folder has the Hugging Face layout: ``config.json`` plus ``model.safetensors`` or a
sharded ``model.safetensors.index.json``. Tensors are read with safetensors as numpy arrays, never
unpickled; a folder with only ``pytorch_model.bin`` is refused with a way to convert it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Int

from ....core.errors import InputError, MissingWeightsError
from ....core.files import file_digest, read_json, text_digest
from ._model import ESM2, ESM2Config

__all__ = [
    "CLS",
    "EOS",
    "ESM_TOKENS",
    "MASK",
    "PAD",
    "UNK",
    "load_esm2",
    "save_esm2",
    "save_tokenizer",
    "tokenize",
    "weight_files",
    "weights_digest",
]

#: ``vocab.txt`` of ``facebook/esm2_*``: the token with id ``i`` is ``ESM_TOKENS[i]``.
ESM_TOKENS: tuple[str, ...] = (
    "<cls>", "<pad>", "<eos>", "<unk>",
    *"LAGVSERTIDPKQNFYMHWCXBUZO.-",
    "<null_1>", "<mask>",
)  # fmt: skip
CLS, PAD, EOS, UNK = 0, 1, 2, 3
MASK = ESM_TOKENS.index("<mask>")


def _letter_table() -> np.ndarray:
    table = np.full(256, UNK, dtype=np.int32)
    for i, token in enumerate(ESM_TOKENS):
        if len(token) == 1:
            table[ord(token)] = i
    return table


def tokenize(sequences: Sequence[str], *, rows: int | None = None, length: int | None = None) -> Int[np.ndarray, "B T"]:
    """Token ids ``(rows, length)``: each row ``<cls> residues <eos> <pad>...``; extra rows all ``<pad>``.

    ``length`` counts tokens (default: the longest sequence + 2); ``rows`` defaults to the
    number of sequences.
    """
    rows = len(sequences) if rows is None else rows
    length = max(map(len, sequences), default=0) + 2 if length is None else length
    table = _letter_table()
    out = np.full((rows, length), PAD, dtype=np.int32)
    for i, seq in enumerate(sequences):
        if len(seq) + 2 > length:
            raise ValueError(f"sequence {i} has {len(seq)} residues; {length} tokens hold at most {length - 2}")
        out[i, 0] = CLS
        out[i, 1 : len(seq) + 1] = table[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
        out[i, len(seq) + 1] = EOS
    return out


def weight_files(folder: str | Path) -> list[Path]:
    """The safetensors files of a Hugging Face folder (one, or the shards of an index)."""
    folder = Path(folder)
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        doc = read_json(index)
        weight_map = doc.get("weight_map") if isinstance(doc, dict) else None
        if not isinstance(weight_map, dict):
            raise InputError("has no 'weight_map' object", source=str(index))
        shards = sorted({str(v) for v in weight_map.values()})
        missing = [s for s in shards if not (folder / s).is_file()]
        if missing:
            raise MissingWeightsError(f"{index} names shards that are missing: {missing}")
        return [folder / s for s in shards]
    if (folder / "model.safetensors").is_file():
        return [folder / "model.safetensors"]
    if any(folder.glob("pytorch_model*.bin")):
        raise MissingWeightsError(
            f"{folder} has only PyTorch pickle weights (pytorch_model.bin); biolens reads safetensors only "
            "and never unpickles. Convert once, where PyTorch is installed: "
            "transformers.AutoModelForMaskedLM.from_pretrained(FOLDER).save_pretrained(FOLDER, "
            "safe_serialization=True) -- or download model.safetensors from the Hub."
        )
    raise MissingWeightsError(f"{folder} has no model.safetensors (or model.safetensors.index.json)")


def weights_digest(folder: str | Path) -> str:
    """SHA-256 over ``config.json`` and every weight file (their own SHA-256s, in order)."""
    folder = Path(folder)
    parts = [file_digest(folder / "config.json")] + [file_digest(p) for p in weight_files(folder)]
    return text_digest(" ".join(parts))


def read_config(folder: str | Path) -> ESM2Config:
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise MissingWeightsError(f"{folder} is not a Hugging Face model folder: no config.json")
    hf = read_json(path)
    if not isinstance(hf, dict):
        raise InputError("is not a JSON object", source=str(path))
    try:
        return ESM2Config.from_hf(hf)
    except KeyError as exc:
        raise InputError(f"lacks the ESM2 setting {exc.args[0]!r}", source=str(path)) from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise InputError(exc.problem, source=str(path)) from None
        raise InputError(f"has a setting of the wrong type ({exc})", source=str(path)) from None


def _tensor_getter(files: list[Path]) -> Callable[[str], np.ndarray | None]:
    """``get(name)`` -> float32 array, or ``None`` if absent; names lose ``esm.``, LayerNorm
    ``gamma``/``beta`` become ``weight``/``bias`` (both spellings occur in the wild)."""
    from safetensors import SafetensorError, safe_open

    where: dict[str, tuple[Path, str]] = {}
    for path in files:
        with _safetensors(path) as fh:
            for key in fh.keys():
                name = key.removeprefix("esm.")
                name = name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
                where[name] = (path, key)

    def get(name: str) -> np.ndarray | None:
        if name.endswith("inv_freq"):
            name = next((n for n in where if n.endswith("rotary_embeddings.inv_freq")), name)
        if name not in where:
            return None
        path, key = where[name]
        try:
            with safe_open(path, framework="numpy") as fh:
                return np.asarray(fh.get_tensor(key), dtype=np.float32)
        except (SafetensorError, OSError, ValueError, TypeError) as exc:
            raise InputError(f"cannot read tensor {key!r}: {exc} (corrupt or truncated file?)", source=str(path)) from None

    return get


@contextmanager
def _safetensors(path: Path) -> Iterator[Any]:
    """``safe_open`` whose failures (corrupt or truncated file) name the file."""
    from safetensors import SafetensorError, safe_open

    try:
        fh = safe_open(path, framework="numpy")
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(f"not a readable safetensors file ({exc})", source=str(path)) from None
    with fh:
        yield fh


def _check_layers(get: Callable[[str], np.ndarray | None], config: ESM2Config, source: str) -> None:
    """The number of layers in the tensors must be the config's ``num_hidden_layers``, both ways."""
    probe = "encoder.layer.{}.attention.self.query.bias"
    n = config.num_layers
    found = n if n == 0 or get(probe.format(n - 1)) is not None else 0
    while get(probe.format(found)) is not None:
        found += 1
    if found != n:
        raise InputError(f"{source}: config.json says num_hidden_layers = {n}, the weights hold {found} layers; "
                         "the folder's config and tensors disagree")


def _hf_arrays(get: Callable[[str], np.ndarray | None], config: ESM2Config, source: str) -> dict[str, np.ndarray]:
    """Our parameter paths (``layers.attn.qkv.weight``...) -> arrays, from HF tensor names."""

    def need(name: str) -> np.ndarray:
        value = get(name)
        if value is None:
            raise InputError(f"{source}: ESM2 weight {name!r} is missing")
        return value

    def stack(fmt: str, transpose: bool = False) -> np.ndarray:
        return np.stack([need(fmt.format(i)).T if transpose else need(fmt.format(i)) for i in range(config.num_layers)])

    layer = "encoder.layer.{}."
    qkv = [layer + f"attention.self.{p}." for p in ("query", "key", "value")]
    out = {
        "embed": need("embeddings.word_embeddings.weight"),
        "final_norm.weight": need("encoder.emb_layer_norm_after.weight"),
        "final_norm.bias": need("encoder.emb_layer_norm_after.bias"),
        "layers.attn.qkv.weight": np.concatenate([stack(p + "weight", True) for p in qkv], axis=-1),
        "layers.attn.qkv.bias": np.concatenate([stack(p + "bias") for p in qkv], axis=-1),
    }
    for ours, theirs, transpose in [
        ("attn_norm", "attention.LayerNorm", False), ("attn.out", "attention.output.dense", True),
        ("ffn_norm", "LayerNorm", False), ("ffn_in", "intermediate.dense", True), ("ffn_out", "output.dense", True),
    ]:  # fmt: skip
        out[f"layers.{ours}.weight"] = stack(layer + theirs + ".weight", transpose)
        out[f"layers.{ours}.bias"] = stack(layer + theirs + ".bias")
    if get("lm_head.dense.weight") is not None:
        decoder = get("lm_head.decoder.weight")
        if decoder is not None and not np.array_equal(decoder, out["embed"]):
            raise InputError(f"{source}: lm_head.decoder.weight is not tied to the embedding; ESM2 ties them")
        out["lm_head.dense.weight"] = need("lm_head.dense.weight").T
        out["lm_head.dense.bias"] = need("lm_head.dense.bias")
        out["lm_head.norm.weight"] = need("lm_head.layer_norm.weight")
        out["lm_head.norm.bias"] = need("lm_head.layer_norm.bias")
        out["lm_head.bias"] = need("lm_head.bias")
    return out


def fill_arrays(skeleton: Any, arrays: dict[str, np.ndarray], source: str, *, dtype: Any = jnp.float32,
                implied_by: str = "the config", consume: bool = False) -> Any:
    """Replace every array leaf of the Equinox ``skeleton`` by ``arrays[path]`` (``path`` as
    ``layers.qkv.weight``), shapes checked, cast to ``dtype``; ``consume`` pops each array from
    ``arrays`` as it is used (a large checkpoint is not held twice). Shared by the ESM2, ESM C and
    ProtT5 loaders.

    Raises:
        InputError: naming ``source`` and the leaf with no array or another shape.
    """

    def take(path, leaf):
        name = jax.tree_util.keystr(path, simple=True, separator=".")
        value = arrays.pop(name, None) if consume else arrays.get(name)
        if value is None:
            raise InputError(f"{source}: no weights for {name}")
        if value.shape != leaf.shape:
            raise InputError(f"{source}: {name} has shape {value.shape}, {implied_by} implies {leaf.shape}")
        return jnp.asarray(value, dtype=dtype)

    return jax.tree_util.tree_map_with_path(take, skeleton)


def load_esm2(folder: str | Path, *, dtype: Any = jnp.float32) -> ESM2:
    """Load an ESM2 checkpoint folder (``config.json`` + safetensors) as an :class:`ESM2`.

    The masked-LM head is loaded when present (``EsmForMaskedLM`` checkpoints), else omitted.
    ``dtype``: the parameters' dtype (float32 by default, whatever the file stores).
    """
    folder = Path(folder)
    config = read_config(folder)
    get = _tensor_getter(weight_files(folder))
    _check_layers(get, config, str(folder))
    arrays = _hf_arrays(get, config, str(folder))
    with_head = "lm_head.bias" in arrays
    stored = get("rotary_embeddings.inv_freq")  # published checkpoints store it; HF then uses it
    inv_freq = None if stored is None else tuple(stored.tolist())
    # a model of shapes only (nothing allocated or initialised), then filled with the checkpoint
    skeleton = eqx.filter_eval_shape(
        lambda: ESM2(config, key=jax.random.key(0), lm_head=with_head, inv_freq=inv_freq)
    )
    return fill_arrays(skeleton, arrays, str(folder), dtype=dtype)


def _hf_tensors(model: ESM2) -> dict[str, np.ndarray]:
    """Hugging Face ``EsmForMaskedLM`` tensor names -> arrays (the inverse of :func:`_hf_arrays`)."""
    cfg = model.config
    params = {jax.tree_util.keystr(p, simple=True, separator="."): np.asarray(v, dtype=np.float32)
              for p, v in jax.tree_util.tree_leaves_with_path(eqx.filter(model, eqx.is_array))}
    out = {
        "esm.embeddings.word_embeddings.weight": params["embed"],
        "esm.encoder.emb_layer_norm_after.weight": params["final_norm.weight"],
        "esm.encoder.emb_layer_norm_after.bias": params["final_norm.bias"],
    }
    d = cfg.hidden_size
    names = [("attn_norm", "attention.LayerNorm", False), ("attn.out", "attention.output.dense", True),
             ("ffn_norm", "LayerNorm", False), ("ffn_in", "intermediate.dense", True), ("ffn_out", "output.dense", True)]
    for i in range(cfg.num_layers):
        layer = f"esm.encoder.layer.{i}."
        for j, part in enumerate(("query", "key", "value")):
            out[layer + f"attention.self.{part}.weight"] = params["layers.attn.qkv.weight"][i][:, j * d : (j + 1) * d].T
            out[layer + f"attention.self.{part}.bias"] = params["layers.attn.qkv.bias"][i][j * d : (j + 1) * d]
        for ours, theirs, transpose in names:
            weight = params[f"layers.{ours}.weight"][i]
            out[layer + theirs + ".weight"] = weight.T if transpose else weight
            out[layer + theirs + ".bias"] = params[f"layers.{ours}.bias"][i]
    if model.lm_head is not None:
        out["lm_head.dense.weight"] = params["lm_head.dense.weight"].T
        out["lm_head.dense.bias"] = params["lm_head.dense.bias"]
        out["lm_head.layer_norm.weight"] = params["lm_head.norm.weight"]
        out["lm_head.layer_norm.bias"] = params["lm_head.norm.bias"]
        out["lm_head.bias"] = params["lm_head.bias"]
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def save_esm2(model: ESM2, folder: str | Path) -> Path:
    """Write ``model`` as a Hugging Face ESM2 folder (``config.json`` + ``model.safetensors``),
    readable by :func:`load_esm2` and by ``transformers.EsmForMaskedLM.from_pretrained``.

    The LM-head decoder is tied to the token embedding (not stored, as Hugging Face saves it);
    the rotary frequencies are recomputed from the config on loading.
    """
    from safetensors.numpy import save_file

    from ....core.files import atomic_path, atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = _hf_tensors(model)
    atomic_path(folder / "model.safetensors", lambda tmp: save_file(tensors, str(tmp), metadata={"format": "pt"}))
    atomic_write_text(folder / "config.json", json.dumps(model.config.to_hf(), indent=2) + "\n")
    save_tokenizer(folder)
    return folder


def save_tokenizer(folder: str | Path) -> Path:
    """Write the tokenizer files ``transformers.EsmTokenizer`` reads (``vocab.txt``,
    ``tokenizer_config.json``, ``special_tokens_map.json``), so ``AutoTokenizer`` loads the
    folder; ids are :data:`ESM_TOKENS`' (those of ``facebook/esm2_*``)."""
    from ....core.files import atomic_write_text

    folder = Path(folder)
    special = {"cls_token": "<cls>", "eos_token": "<eos>", "mask_token": "<mask>", "pad_token": "<pad>",
               "unk_token": "<unk>"}  # fmt: skip
    config = {"tokenizer_class": "EsmTokenizer", "model_max_length": 1026, "clean_up_tokenization_spaces": True,
              **special}  # fmt: skip
    atomic_write_text(folder / "vocab.txt", "\n".join(ESM_TOKENS) + "\n")
    atomic_write_text(folder / "tokenizer_config.json", json.dumps(config, indent=2) + "\n")
    atomic_write_text(folder / "special_tokens_map.json", json.dumps(special, indent=2) + "\n")
    return folder
