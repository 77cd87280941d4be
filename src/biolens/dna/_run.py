"""One training run from records to a run folder: what ``biolens dna train`` does, callable from Python.

The folder is a :class:`~biolens.core.runs.RunFolder`: ``config.json`` (kind ``dna-tf-binding``,
the whole :class:`DnaRunConfig` with the preset name, and a content digest of the records),
``train/`` (resumable state, ``metrics.jsonl``), ``checkpoint/``, ``validation.json``,
``report.html`` and ``result.json`` (a :class:`DnaResult`, written last). A second process in the
folder, or another run (other settings or other data) there, is refused before any work; a
finished run returns its result without training again. Folders of an older biolens
(``checkpoint/`` without ``config.json``) keep predicting but are not resumed.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.config import config_to_dict
from ..core.errors import InputError
from ..core.files import atomic_write_text
from ..core.runs import IN_MEMORY, RunFolder, RunResult, content_digest
from ..core.train import FitResult
from ._data import TFData
from ._prepare import pick_tasks, prepare_training
from ._presets import DnaRunConfig
from ._train import CHECKPOINT_DIR, TrainedModel, load_model, train_model

__all__ = ["KIND", "DnaResult", "TrainResult", "train"]

KIND = "dna-tf-binding"


@dataclass(frozen=True, kw_only=True)
class DnaResult(RunResult):
    """What a DNA run produced (``result.json``); ``trained`` is the model, in memory only."""

    preset: str
    tasks: tuple[str, ...]
    steps: int
    best_step: int | None
    validation: dict[str, float]
    summary: dict[str, Any]
    trained: TrainedModel | None = field(default=None, metadata=IN_MEMORY)


#: the name of earlier drafts; :class:`DnaResult` is the result
TrainResult = DnaResult


def _subsample(data: TFData, n: int | None, seed: int) -> TFData:
    if n is None or len(data) <= n:
        return data
    return data.take(np.sort(np.random.default_rng(seed).choice(len(data), n, replace=False)))


def data_identity(data: TFData) -> dict[str, Any]:
    """Content digest of the records a run learns from (sequences, labels, TFs, subsets), with their count."""
    labels = None if data.labels is None else np.asarray(data.labels, np.float32)
    return {"digest": content_digest(list(data.sequences), labels, list(data.tfs), list(data.subsets)),
            "records": len(data)}


def train(data: TFData, config: DnaRunConfig, out: str | Path | None = None, *, tf: str | None = None,
          cross_negatives: bool = False, name: str = "", progress: bool = False) -> DnaResult:
    """Train ``config`` on ``data`` (positives-only files get dinucleotide-shuffled negatives) and,
    with ``out``, write (or resume, or return the finished) run folder. ``seq_len`` and
    ``n_outputs`` of the model follow the data."""
    if out is None:
        return _train(data, config, None, tf=tf, cross_negatives=cross_negatives, name=name, progress=progress)
    out = Path(out)
    if (out / CHECKPOINT_DIR).is_dir() and not (out / "config.json").exists():
        raise InputError("holds a DNA run written by an older biolens (no config.json): it stays readable by "
                         "predict, evaluate, ism and saliency but cannot be resumed; use a new --out folder",
                         source=str(out))
    settings = {"preset": name, "config": config_to_dict(config), "tf": tf, "cross_negatives": cross_negatives}
    with RunFolder(out) as run:
        run.open(kind=KIND, settings=settings, data=data_identity(data), info={"source": data.source})
        done = run.read_result(DnaResult)
        if done is not None:
            return dataclasses.replace(done, trained=load_model(out))
        result = _train(data, config, out, tf=tf, cross_negatives=cross_negatives, name=name, progress=progress)
        run.write_result(result)
    return result


def _train(data: TFData, config: DnaRunConfig, out: Path | None, *, tf: str | None, cross_negatives: bool,
           name: str, progress: bool) -> DnaResult:
    tasks = pick_tasks(data, tf)
    data = _subsample(data, config.max_train, config.train.seed)
    train_arrays, val, summary = prepare_training(
        data, tasks, val_fraction=config.val_fraction, seed=config.train.seed, cross_negatives=cross_negatives,
        max_validation=config.max_validation)
    config = config.replace(model={"seq_len": train_arrays.x.shape[1], "n_outputs": len(tasks)})
    summary.update(preset=name, source_files=data.source)
    if config.max_train is not None:
        summary["max_train"] = config.max_train
    trained, fit = train_model(train_arrays, val, tasks, config.model, config.train, run_dir=out,
                               progress=progress, data_summary=summary)
    best = {k: float(v) for k, v in (fit.best_metrics or {}).items()}
    if out is not None:
        atomic_write_text(out / "validation.json", json.dumps(best, indent=1) + "\n")
        _report(out, name, tasks, summary, fit, trained)
    return DnaResult(preset=name, tasks=tuple(tasks), steps=fit.steps, best_step=fit.best_step, validation=best,
                     summary=summary, trained=trained)


def _report(out: Path, name: str, tasks: tuple[str, ...], summary: dict, fit: FitResult,
            trained: TrainedModel) -> None:
    from ..report import Report, learning_curves

    rows = [{"metric": k, "value": v} for k, v in (fit.best_metrics or {}).items()]
    page = Report(f"dna {name or 'model'}: {', '.join(tasks)}").text(
        f"negatives: {summary['negatives']}; validation: {summary['split']}")
    page.table(rows, caption="validation metrics of the restored best model")
    page.figure(learning_curves(fit.history, best_step=fit.best_step),
                caption="learning curves (dashed green: the step of the kept model)").settings(
        {"train": summary["source_files"], "steps": fit.steps, "best_step": fit.best_step,
         "model": trained.meta["model_config"]})
    page.write(out / "report.html")

