"""From a labelled dataset to a trained, evaluated, reusable predictor: :func:`run_task`.

A run folder (the :class:`~biolens.core.runs.RunFolder` contract) holds::

    config.json       the run's identity: the task, the encoder name + fingerprint, the RunConfig and the
                      data's content digest (ids, sequences, labels); the data's path under ``info``
    split.csv         which record is in which split (``id,split,cluster``)
    train/            the training loop's resumable state and metrics.jsonl
    checkpoint/       model.eqx + meta.json: what the model was trained with (task, label names, encoder
                      name + fingerprint, the whole RunConfig, calibration) -- prediction reads only this
    result.json       :class:`TaskResult`: test metrics with bootstrap intervals, baselines, deltas, timings
                      (``metrics.json`` before the run contract; still read by ``biolens evaluate``)
    predictions.csv   one row per record: split, truth, prediction, p_<label> columns
    test_predictions.npz  the test records' ids, truth and predictions as the metrics read them
                      (what the benchmark's paired model-vs-model tests use)
    report.html       learning curves, model vs baselines, per-label bars, heat maps, confusion matrix,
                      metric vs training-set size

The start-up check runs before anything else: another run in the folder (other settings, other
split fractions, other data content) is refused naming each difference, a second process is
stopped by the folder's lock. Re-running a finished run returns the saved result; a killed run
resumes (the split is read back, embeddings come from the cache, training resumes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ...core.calibration import BinaryCalibration, fit_calibration
from ...core.checkpoint import save_checkpoint
from ...core.config import config_defaults, config_to_dict
from ...core.errors import InputError
from ...core.files import read_json
from ...core.losses import balanced_class_weights
from ...core.runs import RunFolder, RunResult, content_digest
from ...core.train import fit
from ..embed._driver import open_store
from ..encoders._base import Encoder
from ..encoders._registry import get_encoder
from ..tasks import Task, TaskData
from ._config import ENCODER_LR_RATIO, RunConfig, load_run_config
from ._evaluate import (
    TEST_PREDICTIONS,
    baselines,
    metrics_with_intervals,
    task_metrics,
    write_test_predictions,
)
from ._heads import HeadConfig
from ._model import (
    Features,
    _labels_for,
    build_model,
    check_task_data,
    load_predictor,
    make_batches,
    make_features,
    predict,
)
from ._splits import Split, make_split, read_split

__all__ = ["RunConfig", "TaskResult", "data_identity", "evaluate_run", "load_result", "load_run_config", "run_task"]

KIND = "protein-task"


@dataclass(frozen=True, kw_only=True)
class TaskResult(RunResult):
    """What :func:`run_task` measured (``result.json``); ``reused``: returned from a finished folder."""

    task: str
    kind: str
    encoder: str
    head: str
    primary: str
    metrics: dict[str, dict[str, float]]
    baselines: dict[str, dict[str, Any]]
    deltas: dict[str, float]
    counts: dict[str, int]
    timings: dict[str, float]
    size_curve: list[dict[str, float | int]] = field(default_factory=list)  # n_train (int) and the metric
    notes: list[str] = field(default_factory=list)
    calibration: dict[str, Any] | None = None
    #: evaluate_run on given data: how many of its records the run trained/validated on
    #: (``{"checked": True, "train": n, "valid": n, "of": N, "excluded": n}``, with ``warning`` when some
    #: were seen and kept; ``{"checked": False}``: an
    #: older run without saved split hashes); ``None``: the run's own test split.
    overlap: dict[str, Any] | None = None
    out_dir: str | None = None
    reused: bool = False

    @property
    def value(self) -> float:
        return self.metrics[self.primary]["value"]

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out.pop("reused")
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskResult:
        data = {k: v for k, v in data.items() if k != "finished"}  # metrics.json (before result.json) had it
        return replace(super().from_json(data), reused=True)


def data_identity(data: TaskData) -> dict[str, Any]:
    """The content digest of the records a run learns from (ids, sequences, labels, masks) and their count."""
    return {"digest": content_digest(data.ids, data.sequences, data.labels, data.masks), "records": len(data)}


def _settings(data: TaskData, encoder: Encoder, config: RunConfig) -> dict[str, Any]:
    return {"task": data.task.to_json(), "encoder": encoder.name, "encoder_fingerprint": encoder.fingerprint(),
            "run": config_to_dict(config)}


def load_result(run_dir: str | Path) -> TaskResult:
    """The saved result of a finished run (``result.json``, or an older biolens' ``metrics.json``)."""
    run_dir = Path(run_dir)
    for name in ("result.json", "metrics.json"):
        if (run_dir / name).exists():
            return TaskResult.from_json(read_json(run_dir / name))
    raise InputError("no result.json: the run has not finished (run `biolens train` again to resume)",
                     source=str(run_dir))


def _split(data: TaskData, config: RunConfig, out: Path | None) -> Split:
    if out is not None and (out / "split.csv").exists():
        return read_split(out / "split.csv", data.ids)
    split = make_split(data, config.split)
    if out is not None:
        split.save(out / "split.csv")
    return split


def run_task(data: TaskData, encoder: str | Encoder, head: str | HeadConfig, *, out_dir: str | Path | None = None,
             config: RunConfig | None = None, cache: Any = True, progress: bool = False) -> TaskResult:
    """Split, embed (cached), train, evaluate against baselines, and write the run folder.

    Args:
        data: labelled records (:func:`biolens.proteins.tasks.load_task`).
        encoder: an encoder name or object.
        head: a head name (``linear``, ``mlp``, ``cnn``, ``attention``, ``per_residue``) or config.
        out_dir: the run folder (``None``: nothing written, nothing resumed).
        config: run settings; ``head`` overrides ``config.head``.
        cache: the embedding store (``True``: the default one).
    """
    config = config or RunConfig()
    head_cfg = replace(config.head, kind=head) if isinstance(head, str) else head
    config = replace(config, head=head_cfg)
    enc = get_encoder(encoder)
    if out_dir is None:
        return _run(data, enc, config, None, cache, progress)
    with RunFolder(out_dir).open(kind=KIND, settings=_settings(data, enc, config), data=data_identity(data),
                                 info={"source": data.source}, defaults={"run": config_defaults(config)}) as run:
        if (done := run.read_result(TaskResult)) is not None:
            return replace(done, out_dir=str(run.path))
        return _run(data, enc, config, run, cache, progress)


def _run(data: TaskData, enc: Encoder, config: RunConfig, run: RunFolder | None, cache: Any, progress: bool) -> TaskResult:
    out = run.path if run is not None else None
    timings: dict[str, float] = {}
    split = _split(data, config, out)
    data, notes = check_task_data(data, split, config)
    split = split if len(split.ids) == len(data) else _restrict(split, data)
    t0 = time.perf_counter()
    store = open_store(cache)
    try:
        feats = make_features(data, enc, config, store, progress)
    finally:
        if store is not None and store is not cache:
            store.close()
    timings["embed_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fitted = train_on(data, split.index("train"), split.index("valid"), enc, feats, config,
                      run_dir=run.train_dir if run else None, progress=progress)
    timings["train_s"] = time.perf_counter() - t0
    pred_all = _predict_all(data, enc, feats, config, fitted)
    calibration = _calibrate(data, split, config, pred_all)
    if calibration is not None:
        pred_all = calibration.apply(pred_all)
    test = split.index("test")
    pred_test = [pred_all[i] for i in test] if isinstance(pred_all, list) else pred_all[test]
    result = _evaluate(data, split, pred_test, config, enc, notes + split.notes + data.notes, timings, calibration)
    if config.size_curve:
        t0 = time.perf_counter()
        result = replace(result, size_curve=_size_curve(data, split, enc, feats, config, result))
        timings["size_curve_s"] = time.perf_counter() - t0
    timings["total_s"] = sum(v for k, v in timings.items() if k != "total_s")
    result = replace(result, out_dir=str(out) if out else None)
    if run is not None:
        _write(run, data, split, enc, config, fitted, result, pred_all)
    return result


def _calibrate(data: TaskData, split: Split, config: RunConfig, pred_all: Any) -> BinaryCalibration | None:
    """Binary tasks: Platt/temperature scaling and the decision threshold fitted on validation."""
    valid = split.index("valid")
    if not data.task.spec.calibrated or not len(valid):
        return None
    y = np.asarray(data.labels)[valid]
    return fit_calibration(y, np.asarray(pred_all)[valid], method=config.calibration, rule=config.threshold_rule)


def _restrict(split: Split, data: TaskData) -> Split:
    keep = {i: k for k, i in enumerate(split.ids)}
    idx = np.array([keep[i] for i in data.ids])
    return replace(split, ids=list(data.ids), assign=split.assign[idx],
                   clusters=None if split.clusters is None else split.clusters[idx])


@dataclass
class Fitted:
    """A trained model with what is needed to use it."""

    model: Any
    history: list[dict[str, Any]]
    best_step: int | None
    target: tuple[float, float] | None  # regression: (mean, std) of training targets
    width: int = 0  # the head's input width


def _targets(data: TaskData, train: np.ndarray) -> tuple[float, float] | None:
    if not data.task.spec.standardize:
        return None
    y = np.asarray(data.labels, float)[train]
    return float(y.mean()), float(y.std() or 1.0)


def _weights(data: TaskData, train: np.ndarray, enabled: bool, balanced: bool = False) -> dict[str, np.ndarray | None]:
    spec, k = data.task.spec, len(data.task.label_names)
    if not enabled or spec.balance is None:
        return {}
    if spec.per_residue:
        return {"class_weights": balanced_class_weights(np.concatenate([data.labels[i] for i in train]), k)}
    y = np.asarray(data.labels)[train]
    if spec.balance == "class_weights":
        return {"class_weights": balanced_class_weights(y, k)}
    pos = y.sum(0).astype(np.float32)
    ratio = (len(y) - pos) / np.maximum(pos, 1.0)
    return {"pos_weight": np.asarray(ratio if balanced else np.sqrt(ratio), dtype=np.float32)}  # (K,), () for binary


def train_on(data: TaskData, train: np.ndarray, valid: np.ndarray, encoder: Encoder, feats: Features,
             config: RunConfig, *, run_dir: Path | None = None, progress: bool = False) -> Fitted:
    """Train a task model on records ``train``, early-stopping on ``valid`` (see :class:`RunConfig`)."""
    from ._predictor import make_loss

    kind = data.task.kind
    target = _targets(data, train)
    key = jax.random.PRNGKey(config.train.seed)
    model, trainable, width = build_model(data.task, encoder, feats, config, key, train, data)
    if config.head.kind == "knn":
        return _fit_knn(data, train, model, feats, config, target, width)
    batches = make_batches(data, train, feats, encoder, config, target, shuffle=True)
    valid_batches = make_batches(data, valid, feats, encoder, config, target, shuffle=False)
    y_valid = [data.labels[i] for i in valid] if isinstance(data.labels, list) else np.asarray(data.labels)[valid]
    m_valid = [data.masks[i] for i in valid] if data.masks is not None else None
    lengths = [len(data.sequences[i]) for i in valid]

    def evaluate(model, state):
        pred = predict(model, kind, valid_batches, len(valid), lengths, target)
        return task_metrics(kind, y_valid, pred, m_valid)

    tcfg = replace(config.train, monitor=data.task.spec.monitor, mode="max")
    loss = make_loss(kind, **_weights(data, train, config.class_weights, config.binary_weighting == "balanced"))
    if config.finetune_head_epochs < 0:
        raise InputError(f"finetune_head_epochs must be >= 0, got {config.finetune_head_epochs}")
    if config.finetune and config.finetune_head_epochs > 0:  # LP-FT: the head first, on the frozen encoder
        head_only = eqx.tree_at(lambda m: m.encoder, trainable, jax.tree.map(lambda _: False, trainable.encoder))
        first = fit(model, loss, batches, replace(tcfg, max_epochs=config.finetune_head_epochs, max_steps=None,
                                                   patience=None),
                    run_dir=run_dir / "head" if run_dir is not None else None, trainable=head_only, progress=progress,
                    description=f"training {config.head.kind} on frozen {encoder.name}")
        model = first.model
    res = fit(model, loss, batches, tcfg, evaluate=evaluate, run_dir=run_dir, trainable=trainable,
              progress=progress, description=f"training {config.head.kind} on {encoder.name}",
              rescale_updates=_encoder_rescale(config))
    return Fitted(res.model, res.history, res.best_step, target, width)


def _encoder_rescale(config: RunConfig):
    """Scale the fine-tuned encoder's updates by ``encoder_lr / learning_rate`` (schedule shared;
    ``encoder_lr=None``: :data:`ENCODER_LR_RATIO`)."""
    if not config.finetune:
        return None
    ratio = ENCODER_LR_RATIO if config.encoder_lr is None else config.encoder_lr / config.train.learning_rate
    if ratio == 1.0:
        return None

    def rescale(updates):
        if updates.encoder is None:
            return updates
        return eqx.tree_at(lambda m: m.encoder, updates, jax.tree.map(lambda u: u * ratio, updates.encoder))

    return rescale


def _fit_knn(data: TaskData, train: np.ndarray, model: Any, feats: Features, config: RunConfig, target, width: int) -> Fitted:
    """The knn head needs no training: it keeps the training proteins' (standardised) features and targets."""
    from ._knn import KNNHead, knn_targets

    x = (feats.pooled[train] - np.asarray(model.shift)) / np.asarray(model.scale)
    y = knn_targets(data.task.kind, _labels_for(data, train, target), data.task.n_outputs)
    head = KNNHead.fit(x, y, config.head, data.task.kind)
    return Fitted(eqx.tree_at(lambda m: m.head, model, head), [], None, target, width)


def _labels(data: TaskData, idx: np.ndarray) -> Any:
    return [data.labels[i] for i in idx] if isinstance(data.labels, list) else np.asarray(data.labels)[idx]


def _masks(data: TaskData, idx: np.ndarray) -> list[np.ndarray] | None:
    return [data.masks[i] for i in idx] if data.masks is not None else None


def _predict_all(data, enc, feats, config, fitted) -> Any:
    idx = np.arange(len(data))
    batches = make_batches(data, idx, feats, enc, config, fitted.target, shuffle=False)
    return predict(fitted.model, data.task.kind, batches, len(data), [len(s) for s in data.sequences], fitted.target)


def _evaluate(data, split, pred_test, config, enc, notes, timings, calibration=None) -> TaskResult:
    kind, test = data.task.kind, split.index("test")
    t0 = time.perf_counter()
    y, masks = _labels(data, test), _masks(data, test)
    threshold = calibration.threshold if calibration is not None else 0.5
    metrics = metrics_with_intervals(kind, y, pred_test, masks, n_resamples=config.bootstrap, seed=config.split.seed,
                                     threshold=threshold)
    timings["evaluate_s"] = time.perf_counter() - t0
    base = {}
    if config.baselines:
        t1 = time.perf_counter()
        train = split.index("train")
        base = baselines(data.task, ([data.sequences[i] for i in train], _labels(data, train)),
                         ([data.sequences[i] for i in test], y), masks, n_resamples=config.bootstrap, seed=config.split.seed,
                         model_pred=pred_test)
        timings["baselines_s"] = time.perf_counter() - t1
    primary = data.task.spec.primary
    deltas = {name: metrics[primary]["value"] - b["metrics"][primary]["value"] for name, b in base.items()}
    return TaskResult(task=data.task.name, kind=kind, encoder=enc.name, head=config.head.kind, primary=primary,
                      metrics=metrics, baselines=base, deltas=deltas, counts=split.counts(), timings=timings,
                      notes=notes, calibration=None if calibration is None else calibration.to_json())


def _size_curve(data, split, enc, feats, config, result) -> list[dict[str, float | int]]:
    """The primary test metric against the number of training records (seeded subsets)."""
    kind, train, test = data.task.kind, split.index("train"), split.index("test")
    rng = np.random.default_rng(config.split.seed)
    points = []
    y, masks = _labels(data, test), _masks(data, test)
    for frac in sorted(f for f in config.size_curve if 0 < f < 1):
        sub = np.sort(rng.choice(train, size=max(2, int(frac * len(train))), replace=False))
        fitted = train_on(data, sub, split.index("valid"), enc, feats, config)
        batches = make_batches(data, test, feats, enc, config, fitted.target, shuffle=False)
        pred = predict(fitted.model, kind, batches, len(test), [len(data.sequences[i]) for i in test], fitted.target)
        points.append({"n_train": len(sub), result.primary: task_metrics(kind, y, pred, masks)[result.primary]})
    points.append({"n_train": len(train), result.primary: result.value})
    return points


def _write(run: RunFolder, data, split, enc, config, fitted, result, pred_all) -> None:
    """The checkpoint (everything prediction needs, the whole RunConfig included), predictions, report,
    and last ``result.json`` (its presence marks the run finished)."""
    from ._report import write_predictions, write_report

    out = run.path
    meta = {"task": data.task.to_json(), "label_names": list(data.task.label_names), "encoder": enc.name,
            "encoder_fingerprint": enc.fingerprint(), "encoder_width": enc.width, "head": config_to_dict(config.head),
            "pooling": config.pooling, "finetune": config.finetune, "finetune_method": config.finetune_method if config.finetune else None,
            "finetune_last": config.finetune_last,
            "run": config_to_dict(config), "target": fitted.target, "input_width": fitted.width,
            "best_step": fitted.best_step, "calibration": result.calibration}
    if config.finetune:
        meta["standardized"] = fitted.model.shift is not None  # the pooled states (shift, scale saved)
    if config.head.kind == "knn":
        meta["knn_references"] = int(fitted.model.head.references.shape[0])
    save_checkpoint(run.checkpoint_dir, fitted.model, meta)
    run.write_split_hashes({name: [data.sequences[i] for i in split.index(name)] for name in ("train", "valid", "test")})
    threshold = (result.calibration or {}).get("threshold", 0.5)
    write_predictions(out / "predictions.csv", data.task, data.ids, pred_all, data.labels, split.assign, threshold)
    test = split.index("test")
    pick = (lambda xs: [xs[i] for i in test]) if isinstance(pred_all, list) else (lambda xs: xs[test])
    write_test_predictions(out / TEST_PREDICTIONS, [data.ids[i] for i in test], _labels(data, test), pick(pred_all),
                           _masks(data, test))
    write_report(run.report_path, data.task, result, fitted.history, _labels(data, test), pick(pred_all),
                 _masks(data, test), {"data": data.source, "data digest": data_identity(data)["digest"][:16],
                                      "encoder fingerprint": enc.fingerprint(), "split": split.method,
                                      "run": config_to_dict(config)}, best_step=fitted.best_step)
    run.write_result(result)


def align_labels(data: TaskData, task: Task) -> TaskData:
    """Express ``data``'s labels in ``task``'s label order (a run's trained labels).

    A class the model was not trained on is an error; multi-label columns it does not know are
    dropped (noted), the ones the file lacks are all-negative.
    """
    if data.task.kind != task.kind:
        raise InputError(f"the file's task is {data.task.kind}, the model predicts {task.kind}", source=data.source)
    if data.task.label_names == task.label_names or not task.spec.classification:
        return replace(data, task=task)
    names, notes = list(task.label_names), list(data.notes)
    if task.spec.class_indices:
        unknown = [n for n in data.task.label_names if n not in names]
        if unknown:
            raise InputError(f"label value(s) {unknown} were not in the model's training labels {names}",
                             source=data.source)
        remap = np.array([names.index(n) for n in data.task.label_names])
        labels = [remap[y] for y in data.labels] if isinstance(data.labels, list) else remap[np.asarray(data.labels)]
        return replace(data, task=task, labels=labels)
    y = np.zeros((len(data), len(names)), np.uint8)
    col = {n: j for j, n in enumerate(data.task.label_names)}
    for j, n in enumerate(names):
        if n in col:
            y[:, j] = np.asarray(data.labels)[:, col[n]]
    extra = [n for n in data.task.label_names if n not in set(names)]
    if extra:
        notes.append(f"{len(extra)} label(s) of the file are unknown to the model and ignored")
    return replace(data, task=task, labels=y, notes=notes)


def evaluate_run(run_dir: str | Path, data: TaskData, *, n_resamples: int = 200, cache: Any = True,
                 exclude_seen: bool = False) -> TaskResult:
    """Evaluate a trained run on every record of ``data`` (metrics with bootstrap intervals).

    The records are checked, by sequence hash, against the run's training and validation splits:
    the result's ``overlap`` counts them and a note says so; ``exclude_seen`` evaluates only the
    records the run has not seen.

    Raises:
        InputError: ``exclude_seen`` and every record of ``data`` was seen in training.
    """

    predictor = load_predictor(run_dir)
    data = align_labels(data, predictor.task)
    data, overlap = _check_overlap(run_dir, data, exclude_seen)
    pred = predictor.predict(data.sequences, cache=cache)
    metrics = metrics_with_intervals(data.task.kind, data.labels, pred, data.masks, n_resamples=n_resamples,
                                     threshold=predictor.threshold)
    return TaskResult(task=data.task.name, kind=data.task.kind, encoder=predictor.encoder.name,
                      head=predictor.config.head.kind, primary=data.task.spec.primary, metrics=metrics, baselines={},
                      deltas={}, counts={"test": len(data)}, timings={}, notes=data.notes, out_dir=str(run_dir),
                      overlap=overlap)


def _check_overlap(run_dir: str | Path, data: TaskData, exclude_seen: bool) -> tuple[TaskData, dict[str, Any]]:
    """``data`` (without the records the run saw, if ``exclude_seen``) and the overlap summary."""
    found = RunFolder(run_dir).overlap(data.sequences)
    if found is None:
        note = (f"overlap with the run's training data could not be checked: {Path(run_dir) / 'split_hashes.npz'} "
                "does not exist (a run trained by an older biolens, or not the run folder)")
        return replace(data, notes=[*data.notes, note]), {"checked": False}
    seen = np.asarray(found.pop("seen"), bool)
    overlap = {"checked": True, **found, "excluded": int(seen.sum()) if exclude_seen else 0}
    if not seen.any():
        return data, overlap
    if not exclude_seen:
        note = (f"{int(seen.sum())} of {len(data)} records were in the run's training ({found['train']}) or "
                f"validation ({found['valid']}) split: these metrics are not a held-out test (--exclude-seen "
                "evaluates only the unseen records)")
        return replace(data, notes=[*data.notes, note]), {**overlap, "warning": note}
    if seen.all():
        raise InputError(f"all {len(data)} records were in the run's training or validation split: nothing "
                         "unseen to evaluate", source=data.source)
    note = f"{int(seen.sum())} of {len(data)} records seen in training/validation were excluded"
    kept = data.subset(np.flatnonzero(~seen))
    return replace(kept, notes=[*kept.notes, note]), overlap
