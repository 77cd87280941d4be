"""Train a structure tokenizer from a folder of PDB/mmCIF files into a run folder: what
``biolens structure train`` does, callable from Python.

The folder is a :class:`~biolens.core.runs.RunFolder`::

    config.json       kind ``structure-tokenizer``, the whole StructureConfig, and the data identity
                      (dataset.folder_identity: a content digest of the structure files and chain lists)
    train/            fit's log (metrics.jsonl) and resumable state (state.eqx)
    checkpoint/       model.eqx (model + codebook) + meta.json -- the trained tokenizer
    data.json         what the reading rules did (per file) and each file's split
    split.json        the files of train / val / test (deterministic from the seed)
    evaluation.json   metrics on the held-out test files (when there are any)
    report.html       learning curves, settings, data summary, test metrics
    result.json       a :class:`StructureResult`, written last

Training again into the same folder resumes a killed run (bit-identical, ``core.train.fit``) and
returns a finished run's result without training again; a second process there, or another run
(other settings, other files), is refused before any work, naming what differs. Folders of an
older biolens (fit's state at the top of the folder, ``config.json`` a bare StructureConfig) stay
readable by ``evaluate``, ``tokenize`` and ``decode`` but are not resumed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.checkpoint import save_checkpoint
from ..core.config import config_defaults, config_to_dict
from ..core.errors import InputError
from ..core.files import atomic_write_text, read_json
from ..core.runs import IN_MEMORY, RunFolder, RunResult
from ..data import resolve_input
from ._dataset import FolderReport, folder_identity, load_folder
from ._report import collapse_warning, write_run_report
from ._training import StructureConfig, fit_structure_model, load_run

__all__ = ["KIND", "StructureResult", "train_structure_model"]

KIND = "structure-tokenizer"


@dataclass(frozen=True, kw_only=True)
class StructureResult(RunResult):
    """What a structure run produced (``result.json``); ``model`` and ``codebook`` (VQ-VAE) are the
    trained tokenizer, in memory only."""

    model_kind: str
    codebook_size: int | None
    steps: int
    seconds: float
    best_step: int | None
    validation: dict[str, float]
    test: dict[str, Any] | None
    data: dict[str, Any]
    warning: str | None = None
    model: Any = field(default=None, metadata=IN_MEMORY)
    codebook: Any = field(default=None, metadata=IN_MEMORY)


def train_structure_model(
    structures: str | Path, out: str | Path, config: StructureConfig, *, on_invalid: str = "skip",
    progress: bool = False, log: Any = None,
) -> StructureResult:
    """Read ``structures`` (a folder, or ``sample:structures``), train ``config``'s model on its train
    split (validation on the val split picks the kept model), evaluate it on the held-out test split
    and write the run folder ``out`` (module docstring), or resume it, or return its finished result.

    Raises:
        InputError: ``out`` holds a run of an older biolens; unusable structure files (``on_invalid="error"``).
        RunLockedError: another process is working in ``out``.
        RunMismatchError: ``out`` holds another run (other settings or other files), every difference named.
    """
    structures, out = resolve_input(structures), Path(out)
    _refuse_older_layout(out)
    with RunFolder(out) as run:
        run.open(kind=KIND, settings=config_to_dict(config), data=folder_identity(structures),
                 info={"structures": str(structures), "on_invalid": on_invalid}, defaults=config_defaults(config))
        done = run.read_result(StructureResult)
        if done is not None:
            model, book, _ = load_run(out)
            return replace(done, model=model, codebook=book)
        result = _train(run, structures, config, on_invalid=on_invalid, progress=progress, log=log)
        run.write_result(result)
    return result


def _train(run: RunFolder, structures: Path, config: StructureConfig, *, on_invalid: str, progress: bool,
           log: Any) -> StructureResult:
    chains, report = load_folder(structures, neighbours=config.model.neighbours, on_invalid=on_invalid,
                                 threedi=config.model.kind == "3di", split_seed=config.split_seed,
                                 val=config.val_fraction, test=config.test_fraction, progress=progress)
    _write_split(run.path, report)
    for line in report.lines() if log else []:
        log(line)
    fit = fit_structure_model(chains, config, run_dir=run.train_dir, progress=progress)
    save_checkpoint(run.checkpoint_dir, (fit.model, fit.state), {
        "task": KIND, "config": config_to_dict(config), "best_step": fit.best_step,
        "best_metrics": fit.best_metrics, "steps": fit.steps, "seconds": fit.seconds,
    })
    test = write_run_report(run.path, structures=structures, progress=progress)
    validation = {k: float(v) for k, v in (fit.best_metrics or {}).items()}
    return StructureResult(
        model_kind=config.model.kind, codebook_size=config.model.codebook_size if config.model.kind == "vqvae" else None,
        steps=fit.steps, seconds=fit.seconds, best_step=fit.best_step, validation=validation, test=test,
        data=_data_summary(report), warning=collapse_warning(test, validation), model=fit.model, codebook=fit.state)


def _data_summary(report: FolderReport) -> dict[str, Any]:
    splits = Counter(rep["split"] for rep in report.per_file)
    return {"files": report.files, "chains": report.chains, "residues": report.residues,
            "skipped_files": len(report.skipped), "files_per_split": {k: splits[k] for k in ("train", "val", "test")}}


def _write_split(out: Path, report: FolderReport) -> None:
    split: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for rep in report.per_file:
        split[rep["split"]].append(rep["source"])
    atomic_write_text(out / "split.json", json.dumps(split, indent=1) + "\n")
    atomic_write_text(out / "data.json", json.dumps(report.to_dict(), indent=1, default=str) + "\n")


def _refuse_older_layout(out: Path) -> None:
    """A run folder of an older biolens: fit's state at the top, ``config.json`` without the run's identity."""
    config = out / "config.json"
    saved = read_json(config) if config.is_file() else None
    bare = isinstance(saved, dict) and saved.get("type") == "StructureConfig"  # a bare config (save_config)
    if bare or any((out / name).exists() for name in ("metrics.jsonl", "state.eqx", "train_state.eqx")):
        raise InputError("holds a structure run written by an older biolens (training state at the top of the "
                         "folder, config.json without the data's identity): it stays readable by evaluate, tokenize "
                         "and decode but cannot be resumed; use a new --out folder", source=str(out))
