"""Train a structure tokenizer on a folder of PDB/mmCIF files through ``core.train.fit``.

A run folder holds::

    config.json       StructureConfig (model, training, data settings)
    data.json         what the reading rules did (per file) and each file's split
    split.json        the files of train / val / test (deterministic from the seed)
    metrics.jsonl     the training log (``fit``), train_state.* (resumable state)
    checkpoint/       model.eqx (model + codebook) + meta.json -- the trained tokenizer
    evaluation.json   metrics on the held-out test files (when there are any)
    report.html       learning curves, settings, data summary, test metrics

Running ``train`` again with the same ``--out`` resumes a killed run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ..core.checkpoint import load_checkpoint, save_checkpoint
from ..core.config import config_from_dict, config_to_dict, load_config, save_config
from ..core.errors import InputError
from ..core.files import atomic_write_text
from ..core.train import FitResult, TrainConfig, fit
from .dataset import Chain, CropBatches, FolderReport, load_folder
from .losses import loss_function, reconstruction_loss
from .models import ModelConfig, build_model
from .quantize import Codebook, codebook_stats, init_codebook, quantize

__all__ = ["PRESETS", "StructureConfig", "load_run", "train_structure_model"]


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


PRESETS: dict[str, StructureConfig] = {
    # measured: about 300 CPU-seconds in all (reading 1,000 files, 1,500 steps, test evaluation),
    # so a few minutes on 2 idle CPU cores
    "default": StructureConfig(),
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


def _make_evaluate(config: StructureConfig, batch: dict[str, np.ndarray]):
    kind = config.model.kind

    @eqx.filter_jit
    def run(model, book, batch):
        if kind == "3di":
            z, idx = jax.vmap(model.encode)(batch["states"]), batch["states"]
        elif kind == "vae":
            z, idx = jax.vmap(model.encode)(batch["features"], batch["mask"])[0], batch["states"]
        else:
            idx, z = quantize(book.vectors, jax.vmap(model.encode)(batch["features"], batch["mask"]))
        return reconstruction_loss(jax.vmap(model.decoder)(z, batch["mask"]), batch), idx

    def evaluate(model, book):
        loss, idx = run(model, book, batch)
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


def _check_run_config(out: Path, config: StructureConfig) -> None:
    path = out / "config.json"
    if path.exists():
        saved = load_config(StructureConfig, path)
        if saved != config:
            raise InputError(f"{out} holds a run with other settings; use a new --out folder, or the same settings "
                             "to resume it", source=str(path))
    else:
        save_config(config, path)


def _write_split(out: Path, report: FolderReport) -> None:
    split: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for rep in report.per_file:
        split[rep["split"]].append(rep["source"])
    atomic_write_text(out / "split.json", json.dumps(split, indent=1) + "\n")
    atomic_write_text(out / "data.json", json.dumps(report.to_dict(), indent=1, default=str) + "\n")


def train_structure_model(
    structures: str | Path, out: str | Path, config: StructureConfig, *, on_invalid: str = "skip",
    progress: bool = False, log: Any = None,
) -> tuple[FitResult, FolderReport]:
    """Read ``structures``, train ``config``'s model on its train split (validation on the val
    split drives best-model selection), save the checkpoint in ``out/checkpoint``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _check_run_config(out, config)
    chains, report = load_folder(structures, neighbours=config.model.neighbours, on_invalid=on_invalid,
                                 threedi=config.model.kind == "3di", split_seed=config.split_seed,
                                 val=config.val_fraction, test=config.test_fraction, progress=progress)
    _write_split(out, report)
    for line in report.lines() if log else []:
        log(line)
    train = [c for c in chains if c.split == "train"] or chains
    batches = CropBatches(train, crop_length=config.crop, batch_size=config.train.batch_size,
                          min_length=config.min_length, seed=config.train.seed)
    val = _val_batch(chains, config)
    model, book = _initial(config)
    result = fit(model, loss_function(config.model), batches, config.train, state=book,
                 evaluate=_make_evaluate(config, val) if val is not None else None,
                 run_dir=out, progress=progress, description=f"training {config.model.kind}")
    save_checkpoint(out / "checkpoint", (result.model, result.state), {
        "task": "structure-tokenizer", "config": config_to_dict(config), "best_step": result.best_step,
        "best_metrics": result.best_metrics, "steps": result.steps, "seconds": result.seconds,
    })
    return result, report


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


