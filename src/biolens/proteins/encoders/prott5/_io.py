"""ProtT5 tokens and Hugging Face T5 folders (``Rostlab/prot_t5_xl_half_uniref50-enc`` layout).

Tokens: ProtT5's ``spiece.model`` (a SentencePiece model: ``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2,
then one piece per residue, ``▁A`` ... ``▁Z``, then ``<extra_id_*>``), read from the folder with
a minimal protobuf reader (the vocabulary only; nothing is executed), or -- for a folder without
it -- the published order :data:`RESIDUE_PIECES`. The model card's preprocessing is applied:
the rare residues ``U Z O B`` become ``X``, residues are separated by spaces (so SentencePiece
gives one piece per residue, ``▁M ▁K ...``), and ``</s>`` ends the sequence. A letter without a
piece (``J``) becomes ``<unk>`` -- one token per residue, as SentencePiece gives for ``▁J``.

A folder holds ``config.json`` plus ``model.safetensors``, a sharded
``model.safetensors.index.json``, or ``pytorch_model.bin`` (the form Rostlab publishes: float16
for the ``-enc`` model, float32 for the full ``prot_t5_xl_uniref50``). ``pytorch_model.bin`` is read
with biolens' pickle-opcode reader (:mod:`biolens.core.ptfile`; nothing is unpickled), which
reads the whole file into memory: for the full encoder-decoder checkpoint (11.3 GB) convert once to
safetensors, from which only the encoder's tensors are read. Tensors may be float32, float16 or
bfloat16; the model is built in float32 unless ``dtype`` says otherwise.

Names mapped (``i`` = block; PyTorch ``(out, in)`` matrices are transposed to our ``(in, out)``)::

    shared.weight | encoder.embed_tokens.weight                  -> embed
    encoder.block.0.layer.0.SelfAttention.relative_attention_bias -> position_bias (transposed)
    encoder.block.i.layer.0.layer_norm.weight                    -> layers.attn_norm
    encoder.block.i.layer.0.SelfAttention.{q,k,v}.weight         -> layers.qkv (side by side)
    encoder.block.i.layer.0.SelfAttention.o.weight               -> layers.out
    encoder.block.i.layer.1.layer_norm.weight                    -> layers.ffn_norm
    encoder.block.i.layer.1.DenseReluDense.wi (or wi_0 | wi_1)   -> layers.wi
    encoder.block.i.layer.1.DenseReluDense.wo.weight             -> layers.wo
    encoder.final_layer_norm.weight                              -> final_norm
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Int

from ....core.errors import InputError, MissingWeightsError
from ....core.files import file_digest, read_json, text_digest
from ..esm2._io import fill_arrays
from ._model import ProtT5, ProtT5Config

__all__ = [
    "EOS", "PAD", "RARE_RESIDUES", "RESIDUE_PIECES", "UNK", "Vocabulary", "config_from_hf",
    "load_prott5", "read_spiece_pieces", "read_vocabulary", "tokenize", "weight_files", "weights_digest",
]  # fmt: skip

PAD, EOS, UNK = 0, 1, 2
#: The residue pieces of ProtT5's ``spiece.model``, in id order from 3 (``▁A`` = 3 ... ``▁Z`` = 27).
RESIDUE_PIECES = "ALGVSREDTIPKFQNYMHWCXBOUZ"
#: Replaced by ``X`` before tokenizing, as the model card does (``re.sub(r"[UZOB]", "X", seq)``).
RARE_RESIDUES = "UZOB"
_META = "▁"  # SentencePiece's word-boundary mark


class Vocabulary:
    """Residue letter -> token id, from ``spiece.model`` pieces (or the published order)."""

    def __init__(self, pieces: Sequence[str], source: str = "the published ProtT5 vocabulary") -> None:
        ids = {p: i for i, p in enumerate(pieces)}
        special = {"<pad>": PAD, "</s>": EOS, "<unk>": UNK}
        wrong = {p: ids.get(p) for p, i in special.items() if ids.get(p) != i}
        if wrong:
            raise InputError(f"{source}: ProtT5 expects <pad> 0, </s> 1, <unk> 2; found {wrong}")
        if _META + "X" not in ids:
            raise InputError(f"{source}: no piece for X ({_META}X); not a protein vocabulary")
        table = np.full(256, UNK, dtype=np.int32)
        for p, i in ids.items():
            if len(p) == 2 and p[0] == _META and p[1].isascii() and p[1].isupper():
                table[ord(p[1])] = i
        for letter in RARE_RESIDUES:
            table[ord(letter)] = ids[_META + "X"]
        self.table = table
        self.size = len(pieces)
        self.source = source

    @classmethod
    def published(cls) -> Vocabulary:
        pieces = ["<pad>", "</s>", "<unk>", *(_META + c for c in RESIDUE_PIECES)]
        return cls(pieces + [f"<extra_id_{i}>" for i in range(99, -1, -1)])


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise InputError("truncated or malformed protobuf varint")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if byte < 0x80:
            return value, pos


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """``(field number, wire type, value)`` of one protobuf message (bytes for length-delimited)."""
    out, pos = [], 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise InputError("truncated protobuf field")
            value, pos = data[pos : pos + size], pos + size
        elif wire in (1, 5):
            step = 8 if wire == 1 else 4
            value, pos = data[pos : pos + step], pos + step
        else:
            raise InputError(f"protobuf wire type {wire} is not read here")
        out.append((number, wire, value))
    return out


def read_spiece_pieces(path: str | Path) -> list[str]:
    """The pieces of a SentencePiece ``ModelProto`` file, in id order (field 1, each piece's field 1)."""
    path = Path(path)
    try:
        pieces = [
            next((v.decode("utf-8") for n, w, v in _fields(msg) if n == 1 and w == 2), "")
            for number, wire, msg in _fields(path.read_bytes()) if number == 1 and wire == 2
        ]  # fmt: skip
    except (InputError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable SentencePiece model ({exc})", source=str(path)) from None
    if not pieces:
        raise InputError("holds no SentencePiece pieces", source=str(path))
    return pieces


def read_vocabulary(folder: str | Path) -> Vocabulary:
    """The folder's ``spiece.model`` vocabulary, or the published one when it has none."""
    spiece = Path(folder) / "spiece.model"
    if spiece.is_file():
        return Vocabulary(read_spiece_pieces(spiece), source=str(spiece))
    return Vocabulary.published()


def tokenize(
    sequences: Sequence[str], *, rows: int | None = None, length: int | None = None, vocab: Vocabulary | None = None
) -> Int[np.ndarray, "B T"]:
    """Token ids ``(rows, length)``: each row ``residues </s> <pad>...``; extra rows all ``<pad>``.

    ``length`` counts tokens (default: the longest sequence + 1)."""
    table = (vocab or Vocabulary.published()).table
    rows = len(sequences) if rows is None else rows
    length = max(map(len, sequences), default=0) + 1 if length is None else length
    out = np.full((rows, length), PAD, dtype=np.int32)
    for i, seq in enumerate(sequences):
        if len(seq) + 1 > length:
            raise ValueError(f"sequence {i} has {len(seq)} residues; {length} tokens hold at most {length - 1}")
        out[i, : len(seq)] = table[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
        out[i, len(seq)] = EOS
    return out


def config_from_hf(hf: dict[str, Any], source: str = "config.json") -> ProtT5Config:
    """A :class:`ProtT5Config` from a Hugging Face ``T5Config`` dictionary."""
    proj = str(hf.get("feed_forward_proj", "relu"))
    gated = proj.startswith("gated-")
    act = "gelu_new" if proj == "gated-gelu" else proj.split("-")[-1]
    try:
        return ProtT5Config(
            hidden_size=int(hf["d_model"]), num_layers=int(hf["num_layers"]), num_heads=int(hf["num_heads"]),
            head_size=int(hf["d_kv"]), intermediate_size=int(hf["d_ff"]), vocab_size=int(hf["vocab_size"]),
            num_buckets=int(hf.get("relative_attention_num_buckets", 32)),
            max_distance=int(hf.get("relative_attention_max_distance", 128)),
            layer_norm_eps=float(hf.get("layer_norm_epsilon", 1e-6)), activation=act, gated=gated,
            pad_token_id=int(hf.get("pad_token_id", PAD)), eos_token_id=int(hf.get("eos_token_id", EOS)),
        )  # fmt: skip
    except KeyError as exc:
        raise InputError(f"lacks the T5 setting {exc.args[0]!r}", source=source) from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise InputError(exc.problem, source=source) from None
        raise InputError(f"has a setting of the wrong type ({exc})", source=source) from None


def weight_files(folder: str | Path) -> list[Path]:
    """The weight files of a T5 folder: safetensors (one, or the shards of an index), else ``pytorch_model.bin``."""
    from ..esm2._io import weight_files as safetensors_files

    folder = Path(folder)
    if (folder / "model.safetensors.index.json").is_file() or (folder / "model.safetensors").is_file():
        return safetensors_files(folder)
    if (folder / "pytorch_model.bin").is_file():
        return [folder / "pytorch_model.bin"]
    raise MissingWeightsError(f"{folder} has no T5 weights: expected config.json with model.safetensors or pytorch_model.bin")


def weights_digest(folder: str | Path) -> str:
    """SHA-256 over ``config.json``, ``spiece.model`` (when present) and every weight file."""
    folder = Path(folder)
    files = [folder / "config.json"] + [p for p in [folder / "spiece.model"] if p.is_file()] + weight_files(folder)
    return text_digest(" ".join(file_digest(p) for p in files))


def _encoder_name(name: str) -> bool:
    return name.startswith("encoder.") or name == "shared.weight"


def _tensor_getter(files: list[Path]) -> Callable[[str], np.ndarray | None]:
    """``get(name)`` -> the stored array (its own dtype) or ``None``; only encoder tensors are read."""
    if files[0].suffix == ".bin":
        from ....core.ptfile import read_pt_file

        path = files[0]
        # the reader holds the storages and the tensors built from them: about twice the file
        obj = read_pt_file(path, max_bytes=2 * path.stat().st_size + (64 << 20))
        if not isinstance(obj, dict):
            raise InputError(f"not a state dict (found {type(obj).__name__})", source=str(path))
        tensors = {str(k): v for k, v in obj.items() if _encoder_name(str(k))}
        return tensors.get
    from safetensors import SafetensorError, safe_open

    where: dict[str, Path] = {}
    for path in files:
        try:
            with safe_open(path, framework="numpy") as fh:
                where.update({k: path for k in fh.keys() if _encoder_name(k)})
        except (SafetensorError, OSError, ValueError) as exc:
            raise InputError(f"not a readable safetensors file ({exc})", source=str(path)) from None

    def get(name: str) -> np.ndarray | None:
        if name not in where:
            return None
        try:
            with safe_open(where[name], framework="numpy") as fh:
                return fh.get_tensor(name)
        except (SafetensorError, OSError, ValueError, TypeError) as exc:
            raise InputError(f"cannot read tensor {name!r}: {exc}", source=str(where[name])) from None

    return get


def _arrays(get: Callable[[str], np.ndarray | None], cfg: ProtT5Config, source: str) -> dict[str, np.ndarray]:
    def need(name: str) -> np.ndarray:
        value = get(name)
        if value is None:
            raise InputError(f"{source}: T5 encoder weight {name!r} is missing")
        return np.asarray(value, dtype=np.float32)

    def stack(part: str) -> np.ndarray:  # PyTorch (out, in) -> ours (in, out)
        return np.stack([need(f"encoder.block.{i}.{part}.weight").T for i in range(cfg.num_layers)])

    def norms(part: str) -> np.ndarray:
        return np.stack([need(f"encoder.block.{i}.{part}.weight") for i in range(cfg.num_layers)])

    if get(f"encoder.block.{cfg.num_layers}.layer.0.layer_norm.weight") is not None:
        raise InputError(f"{source}: the weights hold more than the {cfg.num_layers} blocks config.json names")
    embed = get("shared.weight")
    ffn = "layer.1.DenseReluDense."
    wi = [ffn + "wi_0", ffn + "wi_1"] if cfg.gated else [ffn + "wi"]
    return {
        "embed": need("encoder.embed_tokens.weight") if embed is None else np.asarray(embed, dtype=np.float32),
        "position_bias": need("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight").T,
        "layers.attn_norm.weight": norms("layer.0.layer_norm"),
        "layers.qkv": np.concatenate([stack(f"layer.0.SelfAttention.{p}") for p in "qkv"], axis=-1),
        "layers.out": stack("layer.0.SelfAttention.o"),
        "layers.ffn_norm.weight": norms("layer.1.layer_norm"),
        "layers.wi": np.concatenate([stack(p) for p in wi], axis=-1),
        "layers.wo": stack(ffn + "wo"),
        "final_norm.weight": need("encoder.final_layer_norm.weight"),
    }


def load_prott5(folder: str | Path, *, dtype: Any = jnp.float32) -> ProtT5:
    """Load the T5 encoder of a Hugging Face folder (see the module docstring) as a :class:`ProtT5`.

    ``dtype``: the parameters' dtype (float32 by default, whatever the file stores)."""
    folder = Path(folder)
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise MissingWeightsError(f"{folder} is not a Hugging Face model folder: no config.json")
    hf = read_json(cfg_path)
    if not isinstance(hf, dict):
        raise InputError("is not a JSON object", source=str(cfg_path))
    if hf.get("model_type", "t5") != "t5":
        raise InputError(f"model_type is {hf.get('model_type')!r}, not a T5 checkpoint", source=str(cfg_path))
    cfg = config_from_hf(hf, str(cfg_path))
    arrays = _arrays(_tensor_getter(weight_files(folder)), cfg, str(folder))
    skeleton = eqx.filter_eval_shape(lambda: ProtT5(cfg, key=jax.random.key(0)))
    return fill_arrays(skeleton, arrays, str(folder), dtype=dtype, implied_by="config.json", consume=True)
