"""One training run from records to a run folder: what ``biolens dna train`` does, callable from Python.

A run folder holds ``config.json`` (the :class:`DnaRunConfig`), ``checkpoint/``, ``train/``
(resumable state, ``metrics.jsonl``), ``validation.json`` and ``report.html``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.config import save_config
from ..core.files import atomic_write_text
from ..core.train import FitResult
from ._data import TFData
from ._prepare import pick_tasks, prepare_training
from ._presets import DnaRunConfig
from ._train import TrainedModel, train_model

__all__ = ["TrainResult", "train"]

CONFIG_FILE = "config.json"


@dataclass
class TrainResult:
    """The trained model (best validation step), the core loop's result and the data summary."""

    trained: TrainedModel
    fit: FitResult
    summary: dict[str, Any]
    out: Path | None


def _subsample(data: TFData, n: int | None, seed: int) -> TFData:
    if n is None or len(data) <= n:
        return data
    return data.take(np.sort(np.random.default_rng(seed).choice(len(data), n, replace=False)))


def train(data: TFData, config: DnaRunConfig, out: str | Path | None = None, *, tf: str | None = None,
          cross_negatives: bool = False, name: str = "", progress: bool = False) -> TrainResult:
    """Train ``config`` on ``data`` (positives-only files get dinucleotide-shuffled negatives) and,
    with ``out``, write the run folder. ``seq_len``/``n_outputs`` of the model follow the data."""
    tasks = pick_tasks(data, tf)
    data = _subsample(data, config.max_train, config.train.seed)
    train_arrays, val, summary = prepare_training(
        data, tasks, val_fraction=config.val_fraction, seed=config.train.seed, cross_negatives=cross_negatives,
        max_validation=config.max_validation)
    config = config.replace(model={"seq_len": train_arrays.x.shape[1], "n_outputs": len(tasks)})
    summary.update(preset=name, source_files=data.source)
    out = None if out is None else Path(out)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        save_config(config, out / CONFIG_FILE, preset=name)
    trained, result = train_model(train_arrays, val, tasks, config.model, config.train, run_dir=out,
                                  progress=progress, data_summary=summary)
    if out is not None:
        atomic_write_text(out / "validation.json", json.dumps(result.best_metrics, indent=1) + "\n")
        _report(out, name, tasks, summary, result, trained)
    return TrainResult(trained, result, summary, out)


def _report(out: Path, name: str, tasks: tuple[str, ...], summary: dict, result: FitResult,
            trained: TrainedModel) -> None:
    from ..report import Report, learning_curves

    rows = [{"metric": k, "value": v} for k, v in (result.best_metrics or {}).items()]
    page = Report(f"dna {name or 'model'}: {', '.join(tasks)}").text(
        f"negatives: {summary['negatives']}; validation: {summary['split']}")
    page.table(rows, caption="validation metrics of the restored best model")
    page.figure(learning_curves(result.history), caption="learning curves").settings(
        {"train": summary["source_files"], "steps": result.steps, "best_step": result.best_step,
         **trained.meta["model_config"]})
    page.write(out / "report.html")
