"""The model side of a structure tokenizer run: its settings (:class:`StructureConfig`, :data:`PRESETS`),
training on chains through ``core.train.fit`` (:func:`fit_structure_model`) and loading a trained
one back from a run folder (:func:`load_run`).

The run folder itself (``config.json``, ``train/``, ``checkpoint/``, the test evaluation, the
report, ``result.json``) is written by :func:`biolens.structure.train_structure_model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ..core.checkpoint import load_checkpoint
from ..core.config import config_from_dict
from ..core.errors import InputError
from ..core.train import FitResult, TrainConfig, fit
from ._dataset import Chain, CropBatches
from ._losses import loss_function, reconstruction_loss
from ._models import ModelConfig, build_model
from ._quantize import Codebook, codebook_stats, init_codebook, quantize

__all__ = ["PRESETS", "StructureConfig", "fit_structure_model", "load_run"]


@dataclass(frozen=True, kw_only=True)
class StructureConfig:
    """Everything a structure run needs besides the data folder."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        learning_rate=2e-3, weight_decay=1e-4, batch_size=16, max_epochs=1000, max_steps=1500,
        eval_every=250, patience=None, monitor="loss", mode="min", log_every=25, checkpoint_every=125))
    crop: int = 128
    min_length: int = 8
    val_fraction: float = 0.05
    test_fraction: float = 0.10
    split_seed: int = 0
    val_crops: int = 128


# K = 256 codes, 256-residue crops of 8 chains, 18,000 steps. Measured on cath_single_domain (562 files,
# benchmarks/structure_recipe.py, docs/reports/structure_default_18k.json): 37.5 CPU-minutes of training on
# one core (+ 9 s reading), 2.1 GB; held-out test RMSD 5.49 / 3.49 A mean / median (6.51 / 5.11 at 6,000)
_DEFAULT = StructureConfig(
    model=ModelConfig(codebook_size=256),
    train=TrainConfig(learning_rate=2e-3, weight_decay=1e-4, batch_size=8, max_epochs=1000, max_steps=18000,
                      eval_every=1000, patience=None, monitor="loss", mode="min", log_every=25,
                      checkpoint_every=500),
    crop=256,
)

PRESETS: dict[str, StructureConfig] = {
    "default": _DEFAULT,
    # the default until stop 32: the same model and crops over 6,000 steps (12.5 CPU-minutes on one core)
    "short": replace(_DEFAULT, train=replace(_DEFAULT.train, max_steps=6000)),
    # the default before issue 16 (K = 64, 128-residue crops of 16 chains, 1,500 steps): ~5 CPU-minutes
    "small": StructureConfig(),
    # seconds: for tests and for trying the commands
    "tiny": StructureConfig(
        model=ModelConfig(width=32, encoder_layers=1, decoder_layers=2, code_dim=8, codebook_size=16),
        train=TrainConfig(learning_rate=3e-3, batch_size=4, max_epochs=1000, max_steps=30, eval_every=15,
                          patience=None, log_every=5, checkpoint_every=15),
        crop=32, val_crops=8,
    ),
}


def _val_batch(chains: list[Chain], config: StructureConfig) -> dict[str, np.ndarray] | None:
    val = [c for c in chains if c.split == "val"]
    if not val:
        return None
    batches = CropBatches(val, crop_length=config.crop, batch_size=1, min_length=config.min_length, seed=config.split_seed)
    return batches.sample(np.random.default_rng((config.split_seed, 12345)), config.val_crops)


@eqx.filter_jit
def _validation_loss(model, book, batch, kind: str):
    """FAPE over the validation crops and their tokens (module level: runs of one architecture share
    the compiled function)."""
    if kind == "3di":
        z, idx = jax.vmap(model.encode)(batch["states"]), batch["states"]
    elif kind == "vae":
        z, idx = jax.vmap(model.encode)(batch["features"], batch["mask"])[0], batch["states"]
    else:
        idx, z = quantize(book.vectors, jax.vmap(model.encode)(batch["features"], batch["mask"]))
    return reconstruction_loss(jax.vmap(model.decoder)(z, batch["mask"]), batch), idx


def _make_evaluate(config: StructureConfig, batch: dict[str, np.ndarray]):
    kind = config.model.kind

    def evaluate(model, book):
        loss, idx = _validation_loss(model, book, batch, kind)
        out = {"loss": float(loss)}
        if kind == "vqvae":
            used = np.asarray(idx)[batch["mask"]]
            out |= {k: v for k, v in codebook_stats(np.bincount(used, minlength=book.size)).items()
                    if k in ("codebook_usage", "perplexity")}
        return out

    return evaluate


def _initial(config: StructureConfig) -> tuple[Any, Codebook | None]:
    key_model, key_book = jax.random.split(jax.random.PRNGKey(config.train.seed))
    model = build_model(config.model, key=key_model)
    book = init_codebook(config.model.codebook_size, config.model.code_dim, key=key_book) if config.model.kind == "vqvae" else None
    return model, book


def fit_structure_model(chains: list[Chain], config: StructureConfig, *, run_dir: str | Path | None = None,
                        progress: bool = False) -> FitResult:
    """Train ``config``'s model on the chains of the train split (all chains when none is),
    validating on the val split (best-model selection); ``run_dir`` holds fit's log and resumable
    state. ``result.model`` is the kept model, ``result.state`` its codebook (VQ-VAE)."""
    train = [c for c in chains if c.split == "train"] or chains
    batches = CropBatches(train, crop_length=config.crop, batch_size=config.train.batch_size,
                          min_length=config.min_length, seed=config.train.seed)
    val = _val_batch(chains, config)
    model, book = _initial(config)
    return fit(model, loss_function(config.model), batches, config.train, state=book,
               evaluate=_make_evaluate(config, val) if val is not None else None,
               run_dir=run_dir, progress=progress, description=f"training {config.model.kind}")


def load_run(run: str | Path) -> tuple[Any, Codebook | None, StructureConfig]:
    """The trained model, its codebook (VQ-VAE) and its config from a run folder (or its checkpoint)."""
    run = Path(run)
    ckpt = run / "checkpoint" if (run / "checkpoint").is_dir() else run
    if not (ckpt / "meta.json").exists():
        raise InputError("not a structure run: no checkpoint/ with meta.json (train one with "
                         "`biolens structure train`)", source=str(run))

    def skeleton(meta: dict[str, Any]):
        if meta.get("task") != "structure-tokenizer":
            raise InputError(f"a {meta.get('task')!r} checkpoint, not a structure tokenizer", source=str(run))
        return _initial(config_from_dict(StructureConfig, meta["config"]))

    (model, book), meta = load_checkpoint(ckpt, skeleton)
    config = config_from_dict(StructureConfig, meta["config"])
    return model, book, config


def tiny_config(**changes: Any) -> StructureConfig:
    """The ``tiny`` preset with some settings changed (tests and quick tries)."""
    return replace(PRESETS["tiny"], **changes)


