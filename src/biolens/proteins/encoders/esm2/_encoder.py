"""ESM2 encoders: ``esm2-8m|35m|150m|650m|3b`` and ``esm2:DIR`` (any local Hugging Face ESM2 folder).

Weights for a named model are looked up, in order: the ``weights=`` option; the folder
``$BIOLENS_WEIGHTS_DIR/<repo name>`` (e.g. ``esm2_t6_8M_UR50D``); the local Hugging Face cache;
a download from the Hub when the ``hub`` extra is installed and the network answers. A folder
holds ``config.json`` and ``model.safetensors`` (see :mod:`biolens.proteins.encoders.esm2`).

States are the hidden states at ``layer`` (default: the final, normalised one); ``cls`` is the
``<cls>`` token's state; the residue mask excludes ``<cls>``, ``<eos>`` and padding. Proteins
longer than 1,022 residues (ESM2's training crop) are windowed by the embedding driver.

Fine-tuning (:class:`~.base.DifferentiableEncoder`): :meth:`ESM2Encoder.finetune` trains all
weights, or the last ``k`` layers below ``layer`` (and the final LayerNorm when ``layer`` is the
last); :meth:`ESM2Encoder.lora` adds LoRA adapters to every layer below ``layer`` instead; the
masked-LM head is left out. A training step recomputes activations in the backward pass
(``jax.checkpoint`` per layer and per attention head), so its memory is bounded by the batch.

A batch is computed with less padding than the driver's ``rows x length`` where possible (rows
past the sequences and columns past the longest one are not computed), so the returned states
may have fewer rows and token positions than asked for; the residue mask says which are real.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ....core.batching import bucket_length, default_buckets, octave_bucket
from ....core.errors import InputError, MissingWeightsError
from .._base import Encoder, TokenStates

__all__ = ["DTYPES", "HUB_REPOS", "ESM2Encoder", "availability", "build", "compute_dtype", "find_weights"]

#: Registry names -> Hugging Face repositories.
HUB_REPOS = {
    "esm2-8m": "facebook/esm2_t6_8M_UR50D",
    "esm2-35m": "facebook/esm2_t12_35M_UR50D",
    "esm2-150m": "facebook/esm2_t30_150M_UR50D",
    "esm2-650m": "facebook/esm2_t33_650M_UR50D",
    "esm2-3b": "facebook/esm2_t36_3B_UR50D",
}
_HUB_FILES = ["config.json", "model.safetensors", "model.safetensors.index.json", "model-*.safetensors"]
_OPTIONS = {"weights", "layer", "dtype"}
#: Compute dtypes of the transformer encoders (ESM2, ESM C, ProtT5); states are returned as float32.
DTYPES = ("float32", "bfloat16", "float16")


class ESM2Encoder(Encoder):
    """An :class:`~biolens.proteins.encoders.esm2.ESM2` model as a protein encoder.

    Args:
        model: the model (loaded with :func:`~biolens.proteins.encoders.esm2.load_esm2`, or random).
        name: the encoder's name (part of the fingerprint).
        layer: hidden-state index (0 = embeddings ... ``N`` = final; negatives count back).
        digest: a hash of the weights (:func:`~biolens.proteins.encoders.esm2.weights_digest`).
        dtype: the compute dtype the model's parameters are in (:data:`DTYPES`; part of the
            fingerprint when not float32). LayerNorm statistics and the attention softmax run in
            float32 whatever it is; states are returned as float32. Fine-tuning needs float32.
    """

    has_cls = True
    max_residues = 1022
    token_budget = 1024  # = esm2_model.CHUNK_TOKENS: a batch is one cache-friendly chunk
    #: growth of the token lengths a batch is padded to (within the driver's bucket): finer
    #: lengths waste less compute on padding but compile more shapes (about 1 s each). 1.08: 42
    #: lengths up to 1,024 tokens, 1.08 FLOPs computed per useful FLOP on DeepSol (1.10 at 1.15,
    #: 28 lengths), about 4% more residues/s for ESM2-8M for ~8 s more compiling on 512 proteins.
    length_growth = 1.08
    #: a second batch on another thread fills the cores while XLA synchronises the first one's
    #: small operations (one attention head at a time): about 1.25x the residues/s for ESM2-8M.
    batches_in_flight = 2

    def __init__(self, model: Any, *, name: str, layer: int | None = None, digest: str, dtype: str = "float32") -> None:
        self.model = model
        self.name = name
        self.width = model.config.hidden_size
        self.layer = model.resolve_layer(layer)
        self._digest = digest
        compute_dtype(dtype)
        self.dtype = dtype

    @classmethod
    def from_folder(cls, folder: str | Path, *, name: str, layer: int | None = None, dtype: str | None = None) -> ESM2Encoder:
        from ._io import load_esm2, weights_digest

        dtype = dtype or "float32"
        model = load_esm2(folder, dtype=compute_dtype(dtype))
        return cls(model, name=name, layer=layer, digest=weights_digest(folder), dtype=dtype)

    def settings(self) -> dict[str, Any]:
        return {"layer": self.layer} if self.dtype == "float32" else {"layer": self.layer, "dtype": self.dtype}

    def _check_trainable(self) -> None:
        if self.dtype != "float32":
            raise InputError(f"{self.name}: fine-tuning needs float32 weights, not {self.dtype} "
                             "(reduced precision is for embedding; leave --dtype out)")

    # --- fine-tuning (DifferentiableEncoder) ---

    @property
    def module(self) -> Any:
        return self.model

    def tokenize(self, sequences: Sequence[str], rows: int, length: int) -> dict[str, np.ndarray]:
        from ._io import tokenize

        return {"tokens": tokenize(sequences, rows=rows, length=length + 2)}

    @staticmethod
    def apply(module: Any, batch: dict[str, Any], *, key: Any = None) -> tuple[Any, Any]:
        """States at the layer :meth:`finetune` prepared ``module`` for, and the residue mask (ESM2
        has no dropout: ``key`` is unused)."""
        import jax

        from ._io import CLS, EOS, PAD

        model, tokens, stacks = module.base, batch["tokens"], module.segments()
        final = module.hi == model.config.num_layers
        states = jax.vmap(lambda t: model.run_stacks(t, stacks, final=final, remat=key is not None))(tokens)
        return states, (tokens != CLS) & (tokens != EOS) & (tokens != PAD)

    def finetune(self, module: Any, last: int | None) -> tuple[Any, Any]:
        """Train every weight (``last=None``) or layers ``layer-last..layer-1`` (the final
        LayerNorm too when ``layer`` is the last); the LM head is dropped."""
        import equinox as eqx

        from .._finetune import tune_layers

        self._check_trainable()
        if last is not None and last < 0:
            raise InputError(f"finetune_last must be >= 0, got {last}")
        if module.lm_head is not None:
            module = eqx.tree_at(lambda m: m.lm_head, module, None)
        hi = self.layer
        lo = 0 if last is None else max(hi - last, 0)
        also = [_final_norm] if hi == module.config.num_layers and (last is None or last > 0) else []
        return tune_layers(module, _stack, lo, hi, train_all=last is None, also=also)

    def lora(self, module: Any, config: Any, *, key: Any) -> tuple[Any, Any]:
        """LoRA adapters (:class:`~.._finetune.LoRAConfig`) on the projections of every layer below
        ``layer``; only the adapters train (the LM head is dropped)."""
        import equinox as eqx

        from .._finetune import TunedLayers, add_lora, lora_filter

        self._check_trainable()
        if self.layer == 0:
            raise InputError(f"{self.name} at layer 0 (the embeddings) has no transformer layer to adapt")
        if module.lm_head is not None:
            module = eqx.tree_at(lambda m: m.lm_head, module, None)
        adapted = add_lora(module, _stack, LORA_TARGETS, config, key=key)
        tuned = TunedLayers(base=adapted, tuned=None, lo=self.layer, hi=self.layer, where=_stack)
        return tuned, lora_filter(tuned)

    def weights_digest(self) -> str:
        return self._digest

    def encode_batch(self, sequences: Sequence[str], rows: int, length: int) -> TokenStates:
        from ._io import tokenize
        from ._model import batch_hidden

        n = len(sequences)
        computed_rows, tokens = self.batch_shape(sequences, rows, length)
        ids = tokenize(sequences, rows=computed_rows, length=tokens)
        states = np.asarray(batch_hidden(self.model, ids, self.layer), dtype=np.float32)[:n]
        mask = np.zeros(states.shape[:2], dtype=bool)
        for i, seq in enumerate(sequences):
            mask[i, 1 : len(seq) + 1] = True
        return TokenStates(states, mask, cls=states[:, 0])

    def batch_shape(self, sequences: Sequence[str], rows: int, length: int) -> tuple[int, int]:
        """The ``(rows, tokens)`` actually computed for a driver batch of ``rows x length`` residues.

        Rows: the driver's, or fewer for a bucket's last, partly filled batch (a power of two
        >= ``len(sequences)``): padding rows are dropped, not computed. Tokens: ``<cls>`` + the
        longest sequence + ``<eos>``, rounded up to a fine ladder of lengths (multiples of 8,
        ``length_growth`` apart), at most ``length + 2``.
        """
        n = len(sequences)
        ladder = default_buckets(self.max_residues + 2, minimum=16, growth=self.length_growth)
        need = max(len(s) for s in sequences) + 2
        return min(rows, octave_bucket(n)), min(length + 2, bucket_length(need, ladder))


def compute_dtype(name: str) -> Any:
    """The JAX dtype named ``name`` (one of :data:`DTYPES`)."""
    import jax.numpy as jnp

    if name not in DTYPES:
        raise InputError(f"dtype must be one of {list(DTYPES)}, got {name!r}")
    return getattr(jnp, name)


def _stack(model: Any) -> Any:
    return model.layers


#: LoRA target sets: (dense layer of a stacked TransformerLayer, adapted output blocks, blocks).
#: The fused Q|K|V projection has three blocks: ``qv`` adapts queries and values (Hu et al.).
LORA_TARGETS = {
    "qv": [(lambda layer: layer.attn.qkv, (0, 2), 3)],
    "all": [(lambda layer: layer.attn.qkv, (0, 1, 2), 3), (lambda layer: layer.attn.out, (0,), 1),
            (lambda layer: layer.ffn_in, (0,), 1), (lambda layer: layer.ffn_out, (0,), 1)],
}


def _final_norm(model: Any) -> Any:
    return model.final_norm


def _missing(name: str, repo: str, reason: str) -> str:
    folder = repo.split("/")[1]
    return (
        f"no weights for {name} ({repo}): {reason}. Get them in one of these ways: "
        f"(1) pass weights=DIR (CLI: --weights DIR), a folder with config.json and model.safetensors "
        f"as on https://huggingface.co/{repo}; (2) put that folder at $BIOLENS_WEIGHTS_DIR/{folder}; "
        f"(3) pip install 'biolens[hub]' and run once online (downloads into the Hugging Face cache)."
    )


def _from_cache(repo: str, files: Sequence[str] = _HUB_FILES) -> Path | None:
    """The repository's folder in the local Hugging Face cache, without touching the network."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    try:
        path = Path(snapshot_download(repo, allow_patterns=list(files), local_files_only=True))
    except Exception:  # any cache miss (LocalEntryNotFoundError...) means "not here"
        return None
    return path if (path / "config.json").is_file() else None


def _download(repo: str, files: Sequence[str] = _HUB_FILES) -> tuple[Path | None, str]:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None, "the 'hub' extra (huggingface_hub) is not installed"
    try:
        return Path(snapshot_download(repo, allow_patterns=list(files))), ""
    except Exception as exc:  # offline, gated, proxy errors: report, do not crash
        return None, f"download from the Hub failed ({type(exc).__name__}: {exc})"


def find_hub_folder(
    repo: str, weights: str | Path | None, *, download: bool, missing: Callable[[str], str], files: Sequence[str] = _HUB_FILES
) -> Path:
    """A Hugging Face model folder (``config.json`` + weights): ``weights``, else
    ``$BIOLENS_WEIGHTS_DIR/<repo name>``, else the local Hub cache, else a download of ``files``
    (when ``download``). ``missing(reason)`` is the message of the error raised when none holds it."""
    if weights is not None:
        folder = Path(weights).expanduser()
        if not (folder / "config.json").is_file():
            raise MissingWeightsError(missing(f"{folder} has no config.json"))
        return folder
    root = os.environ.get("BIOLENS_WEIGHTS_DIR")
    if root and (Path(root).expanduser() / repo.split("/")[1] / "config.json").is_file():
        return Path(root).expanduser() / repo.split("/")[1]
    cached = _from_cache(repo, files)
    if cached is not None:
        return cached
    tried = [f"not in $BIOLENS_WEIGHTS_DIR ({root})" if root else "$BIOLENS_WEIGHTS_DIR is not set", "not in the Hugging Face cache"]
    if download:
        folder, why = _download(repo, files)
        if folder is not None:
            return folder
        tried.append(why)
    raise MissingWeightsError(missing("; ".join(tried)))


def find_weights(name: str, weights: str | Path | None = None, *, download: bool = True) -> Path:
    """The folder holding ``name``'s weights (see the module docstring for the search order)."""
    repo = HUB_REPOS[name]
    return find_hub_folder(repo, weights, download=download, missing=lambda reason: _missing(name, repo, reason))


def _layer(options: dict[str, Any]) -> int | None:
    layer = options.get("layer")
    if layer is None:
        return None
    try:
        return int(layer)
    except (TypeError, ValueError):
        raise InputError(f"layer must be an integer, got {layer!r}") from None


def build(name: str, arg: str | None, **options: Any) -> Encoder:
    """Registry hook: ``esm2-8m`` ... ``esm2-3b`` (options ``weights=``, ``layer=``, ``dtype=``) or ``esm2:DIR``."""
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise InputError(f"encoder {name} takes options {sorted(_OPTIONS)}, not {unknown}")
    if name == "esm2":
        if options.get("weights") is not None:
            raise InputError("esm2:DIR names its folder; do not pass weights= as well")
        folder = Path(arg).expanduser().resolve()
        if not folder.is_dir():
            raise MissingWeightsError(f"esm2:{arg}: {folder} is not a folder")
        return ESM2Encoder.from_folder(folder, name=f"esm2:{folder}", layer=_layer(options), dtype=options.get("dtype"))
    folder = find_weights(name, options.get("weights"))
    return ESM2Encoder.from_folder(folder, name=name, layer=_layer(options), dtype=options.get("dtype"))


def availability(name: str) -> tuple[bool, str]:
    """Whether ``name``'s weights are here (never downloads)."""
    if name == "esm2":
        return True, "give a local Hugging Face folder: esm2:DIR"
    try:
        return True, f"weights at {find_weights(name, download=False)}"
    except MissingWeightsError as exc:
        return False, str(exc)
