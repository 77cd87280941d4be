"""One training run from records to a run folder: what ``biolens dna train`` does, callable from Python.

The folder is a :class:`~biolens.core.runs.RunFolder`: ``config.json`` (kind ``dna-tf-binding``,
the whole :class:`DnaRunConfig` with the preset name, and a content digest of the records),
``train/`` (resumable state, ``metrics.jsonl``), ``checkpoint/``, ``validation.json``,
``report.html`` and ``result.json`` (a :class:`DnaResult`, written last). A seed ensemble
(``DnaRunConfig.seeds`` > 1) trains its members in ``members/seed-S/`` one after the other (a
killed run keeps the finished members and resumes the one in progress) and writes the ensemble to
``checkpoint/``. A single-task run checks whether its model looks at a known motif (the top ISM
windows of the 32 validation positives it is surest of against :data:`MOTIF_PANEL`); the verdict
is in ``result.json`` (``motif``), on the report and printed by ``biolens dna train``. A second process in the
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

from ..core.config import config_defaults, config_to_dict
from ..core.errors import InputError
from ..core.files import atomic_write_text
from ..core.runs import IN_MEMORY, RunFolder, RunResult, content_digest
from ..core.train import FitResult
from ._data import TFData
from ._prepare import pick_tasks, prepare_training
from ._presets import DnaRunConfig
from ._train import CHECKPOINT_DIR, TrainedModel, ensemble_of, load_model, save_model, train_model

__all__ = ["KIND", "DnaResult", "TrainResult", "train"]

KIND = "dna-tf-binding"
MEMBERS_DIR = "members"


@dataclass(frozen=True, kw_only=True)
class DnaResult(RunResult):
    """What a DNA run produced (``result.json``); ``trained`` is the model, in memory only."""

    preset: str
    tasks: tuple[str, ...]
    steps: int
    best_step: int | None
    validation: dict[str, float]
    summary: dict[str, Any]
    members: tuple[dict[str, Any], ...] = ()
    motif: dict[str, Any] | None = None
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
          cross_negatives: bool = False, name: str = "", progress: bool = False,
          motif_check: bool = True) -> DnaResult:
    """Train ``config`` on ``data`` (positives-only files get dinucleotide-shuffled negatives) and,
    with ``out``, write (or resume, or return the finished) run folder. ``seq_len`` and
    ``n_outputs`` of the model follow the data. ``motif_check`` (single-task runs) adds the motif
    panel's verdict on the validation positives."""
    kwargs = {"tf": tf, "cross_negatives": cross_negatives, "name": name, "progress": progress,
              "motif_check": motif_check}
    if out is None:
        return _train(data, config, None, **kwargs)
    out = Path(out)
    if (out / CHECKPOINT_DIR).is_dir() and not (out / "config.json").exists():
        raise InputError("holds a DNA run written by an older biolens (no config.json): it stays readable by "
                         "predict, evaluate, ism and saliency but cannot be resumed; use a new --out folder",
                         source=str(out))
    settings = {"preset": name, "config": config_to_dict(config), "tf": tf, "cross_negatives": cross_negatives}
    with RunFolder(out) as run:
        run.open(kind=KIND, settings=settings, data=data_identity(data), info={"source": data.source},
                 defaults={"config": config_defaults(config)})
        done = run.read_result(DnaResult)
        if done is not None:
            return dataclasses.replace(done, trained=load_model(out))
        result = _train(data, config, out, **kwargs)
        run.write_result(result)
    return result


def _train(data: TFData, config: DnaRunConfig, out: Path | None, *, tf: str | None, cross_negatives: bool,
           name: str, progress: bool, motif_check: bool) -> DnaResult:
    tasks = pick_tasks(data, tf)
    data = _subsample(data, config.max_train, config.train.seed)
    train_arrays, val, summary = prepare_training(
        data, tasks, val_fraction=config.val_fraction, seed=config.train.seed, cross_negatives=cross_negatives,
        max_validation=config.max_validation)
    config = config.replace(model={"seq_len": train_arrays.x.shape[1], "n_outputs": len(tasks)})
    summary.update(preset=name, source_files=data.source)
    if config.max_train is not None:
        summary["max_train"] = config.max_train
    fits = []
    for i in range(config.seeds):
        schedule = dataclasses.replace(config.train, seed=config.train.seed + i)
        member_dir = out if out is None or config.seeds == 1 else out / MEMBERS_DIR / f"seed-{schedule.seed}"
        fits.append(train_model(train_arrays, val, tasks, config.model, schedule, run_dir=member_dir,
                                progress=progress, data_summary=summary))
    if config.seeds == 1:
        trained = fits[0][0]
    else:
        trained = ensemble_of([member for member, _ in fits], val)
        if out is not None:
            save_model(out / CHECKPOINT_DIR, trained)
    best = {k: float(v) for k, v in (trained.meta["validation"] or {}).items()}
    motif = None
    if motif_check and len(tasks) == 1:
        from ._motif_panel import motif_check_arrays

        motif = motif_check_arrays(trained, val.x[(val.y[:, 0] == 1) & (val.mask[:, 0] > 0)])
    result = DnaResult(preset=name, tasks=tuple(tasks), steps=trained.meta["steps"],
                       best_step=trained.meta["best_step"], validation=best, summary=summary,
                       members=tuple(trained.meta.get("members", ())), motif=motif, trained=trained)
    if out is not None:
        atomic_write_text(out / "validation.json", json.dumps(best, indent=1) + "\n")
        _report(out, result, [fit for _, fit in fits])
    return result


def _report(out: Path, result: DnaResult, fits: list[FitResult]) -> None:
    from ..report import Report, learning_curves

    summary, trained = result.summary, result.trained
    rows = [{"metric": k, "value": v} for k, v in result.validation.items()]
    page = Report(f"dna {result.preset or 'model'}: {', '.join(result.tasks)}").text(
        f"negatives: {summary['negatives']}; validation: {summary['split']}")
    if result.motif is not None:
        page.text(f"motif check on the validation positives: {result.motif['verdict']}",
                  note=not result.motif["found"])
    page.table(rows, caption="validation metrics of the kept model" + (
        f" (the mean logit of {len(fits)} seeds)" if result.members else ""))
    if result.members:
        page.table([{"seed": m["seed"], "steps": m["steps"], "best step": m["best_step"],
                     "validation auROC": (m["validation"] or {}).get("auroc")} for m in result.members],
                   caption="ensemble members (each trained on its own, the same split)")
    for fit, member in zip(fits, result.members or [None], strict=False):
        label = "" if member is None else f" of the member with seed {member['seed']}"
        page.figure(learning_curves(fit.history, best_step=fit.best_step),
                    caption=f"learning curves{label} (dashed green: the step of the kept model)")
    page.settings({"train": summary["source_files"], "steps": result.steps, "best_step": result.best_step,
                   "seeds": max(len(result.members), 1), "model": trained.meta["model_config"]})
    page.write(out / "report.html")
