"""The pieces between data and the training loop: features (cached embeddings), input checks,
model construction (frozen or fine-tuned encoder), batches, prediction, and loading a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ...core.calibration import BinaryCalibration
from ...core.checkpoint import check_encoder, load_checkpoint, read_meta
from ...core.config import config_from_dict
from ...core.errors import InputError
from ..embed._driver import embed_sequences
from ..encoders._base import DifferentiableEncoder, Encoder
from ..encoders._pooling import check_finetune_pooling, pooled_width
from ..tasks import Task, TaskData
from ._config import RunConfig, load_run_config
from ._heads import HEADS, HeadConfig, KNNHead, build_head
from ._predictor import (
    Batch,
    ResidueBatches,
    TaskModel,
    pooled_batches,
    pooled_statistics,
    predict_batches,
)
from ._splits import Split

__all__ = ["Features", "Predictor", "build_model", "check_task_data", "load_predictor", "make_batches",
           "make_features", "predict"]


@dataclass
class Features:
    """The head's inputs for every record: pooled ``(N, D)`` or per-residue ``(L_i, D)`` arrays;
    ``None`` when fine-tuning (the encoder runs inside the model)."""

    pooled: np.ndarray | None = None
    residues: list[np.ndarray] | None = None

    @property
    def width(self) -> int:
        return self.pooled.shape[1] if self.pooled is not None else self.residues[0].shape[-1]


def head_input(config: HeadConfig) -> str:
    if config.kind not in HEADS:
        raise InputError(f"unknown head {config.kind!r}; choose from {list(HEADS)}")
    return HEADS[config.kind].input


def check_task_data(data: TaskData, split: Split, config: RunConfig) -> tuple[TaskData, list[str]]:
    """Refuse what cannot be trained, with a message: a head that does not fit the task, a class
    absent from training, proteins too long for a residue head (or skip them, counted)."""
    kind, spec, head = data.task.kind, data.task.spec, config.head.kind
    if spec.per_residue != (head == "per_residue"):
        raise InputError(f"the {head} head does not fit a {kind} task; "
                         + ("use --head per_residue" if spec.per_residue else "per_residue is for per-residue tasks"))
    if head == "knn" and (config.finetune or spec.per_residue):
        raise InputError("the knn head compares pooled embeddings: it cannot be fine-tuned or predict per residue")
    notes = []
    train = split.index("train")
    if spec.record_classes:
        counts = np.bincount(np.asarray(data.labels)[train], minlength=len(data.task.label_names))
        absent = [n for n, c in zip(data.task.label_names, counts, strict=True) if c == 0]
        if absent:
            ids = [data.task.label_names.index(a) for a in absent]
            other = {s: int(np.isin(np.asarray(data.labels)[split.index(s)], ids).sum()) for s in ("valid", "test")}
            if other["valid"] or other["test"]:
                raise InputError(f"class(es) {', '.join(absent)} have no training example ({other['valid']} in validation, "
                                 f"{other['test']} in test): the model could never predict them. Drop them from the "
                                 "data or split differently", source=data.source)
            notes.append(f"class(es) {', '.join(absent)} occur nowhere in the data: kept in the model's outputs, "
                         "left out of the per-class figures")
    if spec.label_columns:
        empty = int((np.asarray(data.labels)[train].sum(0) == 0).sum())
        if empty:
            notes.append(f"{empty} label(s) have no positive training protein (kept; they cannot be learned)")
    if head_input(config.head) == "residues" or config.finetune:
        data, more = _long(data, config)
        notes += more
    return data, notes


def _long(data: TaskData, config: RunConfig) -> tuple[TaskData, list[str]]:
    limit = config.head.max_length
    long = [i for i, s in enumerate(data.sequences) if len(s) > limit]
    if not long:
        return data, []
    first = long[0]
    if config.too_long != "skip":
        raise InputError(f"{len(long)} protein(s) are longer than the {config.head.kind} head's max_length {limit}, e.g. "
                         f"{data.ids[first]!r} ({len(data.sequences[first])} residues); raise --max-length or pass "
                         "--too-long skip", source=data.source)
    keep = [i for i in range(len(data)) if len(data.sequences[i]) <= limit]
    return data.subset(keep), [f"skipped {len(long)} protein(s) longer than max_length {limit}"]


def make_features(data: TaskData, encoder: Encoder, config: RunConfig, store: Any, progress: bool) -> Features:
    """Embed every record once through the embedding driver (cached in ``store``)."""
    if config.finetune:
        return Features()
    residues = head_input(config.head) == "residues"
    arrays, _ = embed_sequences(data.sequences, encoder, pooling=config.pooling, per_residue=residues,
                                store=store, progress=progress)
    return Features(residues=arrays) if residues else Features(pooled=np.stack(arrays).astype(np.float32))


def _differentiable(encoder: Encoder) -> DifferentiableEncoder:
    if not isinstance(encoder, DifferentiableEncoder):
        raise InputError(f"encoder {encoder.name} cannot be fine-tuned (it is not a JAX-native differentiable "
                         "encoder); train a head on its embeddings instead (drop --finetune)")
    return encoder


FINETUNE_METHODS = ("full", "lora")


def prepare_encoder(enc: DifferentiableEncoder, config: RunConfig, *, key) -> tuple[Any, Any]:
    """The encoder module to train and its trainable filter: ``full`` (all weights, or the last
    ``finetune_last`` layers) or ``lora`` (adapters only; ``key`` draws their ``A`` matrices)."""
    if config.finetune_method not in FINETUNE_METHODS:
        raise InputError(f"unknown fine-tuning method {config.finetune_method!r}; choose from {list(FINETUNE_METHODS)}")
    if config.finetune_method == "full":
        return enc.finetune(enc.module, config.finetune_last)
    if not hasattr(enc, "lora"):
        raise InputError(f"encoder {enc.name} has no LoRA adapters (they exist for the transformer encoders: "
                         "ESM2, mlm:RUN); use --finetune full")
    if config.finetune_last is not None:
        raise InputError("--finetune-last chooses layers for full fine-tuning; LoRA adapts every layer up to the "
                         "encoder's output layer (choose that with the encoder's layer= option)")
    return enc.lora(enc.module, config.lora, key=key)


def build_model(task: Task, encoder: Encoder, feats: Features, config: RunConfig, key,
                train: np.ndarray | None = None, data: TaskData | None = None) -> tuple[TaskModel, Any, int]:
    """A fresh :class:`TaskModel`, the trainable filter for ``fit`` and the head's input width.

    Fine-tuning with a pooled head and ``data`` (the records ``train`` of it) standardises the
    pooled states with their statistics under the initial encoder (``shift``/``scale``)."""
    if config.finetune:
        enc = _differentiable(encoder)
        if head_input(config.head) == "pooled":
            check_finetune_pooling(encoder, config.pooling)
        module, enc_filter = prepare_encoder(enc, config, key=jax.random.fold_in(key, 1))
        width = encoder.width if head_input(config.head) == "residues" else pooled_width(encoder, config.pooling)
        head = build_head(config.head, width, task.n_outputs, key=key)
        model = TaskModel(head=head, encoder=module, apply=enc.apply, pooling=config.pooling)
        trainable = TaskModel(head=jax.tree.map(eqx.is_inexact_array, head), encoder=enc_filter,
                              apply=enc.apply, pooling=config.pooling)
        if head_input(config.head) == "pooled" and data is not None and train is not None:
            # standardise the pooled states with the training proteins' statistics under the initial
            # encoder (frozen, as for a head on cached embeddings); the training batches' shapes and windows
            shift, scale = pooled_statistics(model, make_batches(data, train, Features(), encoder, config, None,
                                                                 shuffle=True))
            model = TaskModel(head=head, encoder=module, apply=enc.apply, pooling=config.pooling,
                              shift=jax.numpy.asarray(shift), scale=jax.numpy.asarray(scale))
            trainable = eqx.tree_at(lambda m: (m.head, m.encoder), jax.tree.map(lambda _: False, model),
                                    (trainable.head, enc_filter))  # shift and scale stay frozen
        return model, trainable, width
    width = feats.width
    head = build_head(config.head, width, task.n_outputs, key=key)
    if feats.pooled is None:
        return TaskModel(head=head), eqx.is_inexact_array, width
    x = feats.pooled if train is None else feats.pooled[train]
    shift = x.mean(0)
    scale = np.where(x.std(0) > 1e-6, x.std(0), 1.0)
    model = TaskModel(head=head, shift=jax.numpy.asarray(shift), scale=jax.numpy.asarray(scale))
    # the filter spec: the head's float arrays train, the standardisation (shift, scale) stays frozen
    trainable = eqx.tree_at(lambda m: m.head, jax.tree.map(lambda _: False, model), jax.tree.map(eqx.is_inexact_array, head))
    return model, trainable, width


def _labels_for(data: TaskData, idx: np.ndarray, target) -> np.ndarray:
    y = np.asarray(data.labels)[idx]
    if target is not None:
        return ((y - target[0]) / target[1]).astype(np.float32)
    return y.astype(data.task.spec.label_dtype)


def make_batches(data: TaskData, idx: np.ndarray, feats: Features, encoder: Encoder, config: RunConfig,
                 target, *, shuffle: bool) -> Any:
    """Training batches (``shuffle``) or prediction batches of the records ``idx``."""
    idx = np.asarray(idx, dtype=int)
    if feats.pooled is not None:
        arrays = {"x": feats.pooled[idx]}
        if not data.task.spec.per_residue and len(idx):
            arrays["y"] = _labels_for(data, idx, target)
        if not shuffle:
            return arrays
        return pooled_batches(arrays, config.train.batch_size, config.train.seed)
    budget = config.finetune_tokens if config.finetune else config.token_budget
    lengths = [len(data.sequences[i]) for i in idx]
    windows = _Windows(data.sequences, config.finetune_crop, config.train.seed) if _crops(data, config, shuffle) else None
    minimum = 64
    if windows is not None:
        lengths = [min(n, windows.crop) for n in lengths]
        minimum = max(lengths)  # one training shape: one compile of the training step (seconds on a CPU)
    return ResidueBatches(lengths, _builder(data, idx, feats, encoder, config, target, windows),
                          batch_size=config.train.batch_size, token_budget=budget, shuffle=shuffle,
                          seed=config.train.seed, minimum=minimum,
                          on_epoch=windows.set_epoch if windows is not None else None)


def _crops(data: TaskData, config: RunConfig, shuffle: bool) -> bool:
    """Fine-tuning batches of a per-protein task are cut to ``finetune_crop`` residues and padded to one
    length, the longest window (training only)."""
    return bool(config.finetune and shuffle and config.finetune_crop and not data.task.spec.per_residue)


class _Windows:
    """Training windows of at most ``crop`` residues: a protein longer than that is cut to a window
    drawn afresh each epoch from ``(seed, epoch, record)``; shorter ones are kept whole."""

    def __init__(self, sequences: list[str], crop: int, seed: int) -> None:
        if crop < 1:
            raise InputError(f"finetune_crop must be >= 1 residue, got {crop}")
        self.sequences, self.crop, self.seed, self.epoch = sequences, crop, seed, 0

    def set_epoch(self, index: int) -> None:
        self.epoch = index

    def __call__(self, record: int) -> str:
        seq = self.sequences[record]
        if len(seq) <= self.crop:
            return seq
        start = np.random.default_rng((self.seed, self.epoch, record)).integers(0, len(seq) - self.crop + 1)
        return seq[start : start + self.crop]


def _builder(data, idx, feats, encoder, config, target, windows=None):
    per_residue = data.task.spec.per_residue
    sequence = windows if windows is not None else (lambda r: data.sequences[r])

    def build(rows: np.ndarray, length: int) -> Batch:
        records = idx[rows]
        batch: dict[str, Any] = {}
        if feats.residues is not None:
            x = np.zeros((len(rows), length, feats.width), np.float32)
            mask = np.zeros((len(rows), length), bool)
            for j, r in enumerate(records):
                n = len(feats.residues[r])
                x[j, :n], mask[j, :n] = feats.residues[r], True
            batch.update(x=x, mask=mask)
        else:
            batch["inputs"] = encoder.tokenize([sequence(int(r)) for r in records], len(rows), length)
        if per_residue:
            y = np.full((len(rows), length), -1, np.int32)
            ym = np.zeros((len(rows), length), np.float32)
            for j, r in enumerate(records):
                n = len(data.labels[r])
                y[j, :n] = data.labels[r]
                ym[j, :n] = data.masks[r] if data.masks is not None else 1.0
            batch.update(y=y, y_mask=ym)
        elif len(records):
            batch["y"] = _labels_for(data, records, target)
        return batch

    return build


def predict(model: TaskModel, kind: str, batches: Any, n: int, lengths, target) -> Any:
    """Model outputs on prediction batches, regression values back in the data's units."""
    out = predict_batches(model, kind, batches, n, lengths)
    if target is not None:
        out = out * target[1] + target[0]
    return out


@dataclass
class Predictor:
    """A trained run, ready to predict new sequences (see :func:`load_predictor`)."""

    model: TaskModel
    task: Task
    encoder: Encoder
    config: RunConfig
    meta: dict[str, Any]

    def predict(self, sequences: list[str], *, cache: Any = True, progress: bool = False) -> Any:
        """Outputs for validated sequences: P(positive) ``(N,)``, probabilities ``(N, C|L)``,
        values ``(N,)``, or per-residue ``(L_i, C)`` probabilities."""
        from ..embed._driver import open_store

        kind, spec = self.task.kind, self.task.spec
        labels = ([np.zeros(len(s), np.int64) for s in sequences] if spec.per_residue
                  else np.zeros((len(sequences), len(self.task.label_names)) if spec.label_columns else len(sequences)))
        data = TaskData(task=self.task, ids=[f"#{i}" for i in range(len(sequences))], sequences=list(sequences),
                        labels=labels)
        if head_input(self.config.head) == "residues" or self.config.finetune:
            long = [i for i, s in enumerate(sequences) if len(s) > self.config.head.max_length]
            if long:
                raise InputError(f"{len(long)} sequence(s) are longer than this model's max_length "
                                 f"{self.config.head.max_length} (first: #{long[0] + 1}, {len(sequences[long[0]])} residues)")
        store = open_store(cache)
        try:
            feats = make_features(data, self.encoder, self.config, store, progress)
        finally:
            if store is not None and store is not cache:
                store.close()
        idx = np.arange(len(sequences))
        batches = make_batches(data, idx, feats, self.encoder, self.config, None, shuffle=False)
        out = predict(self.model, kind, batches, len(sequences), [len(s) for s in sequences], self.meta.get("target"))
        return self.calibration.apply(out) if spec.calibrated else out

    @property
    def calibration(self) -> BinaryCalibration:
        """Binary runs: the probability mapping and decision threshold fitted on validation."""
        return BinaryCalibration.from_json(self.meta.get("calibration"))

    @property
    def threshold(self) -> float:
        return self.calibration.threshold


def load_predictor(run_dir: str | Path, *, encoder: Encoder | None = None) -> Predictor:
    """Load a run's checkpoint; what it was trained with comes from its ``meta.json`` (a ``config.json``
    that disagrees is refused), and an encoder whose fingerprint differs from the training one is refused."""
    from ..encoders._registry import get_encoder

    run_dir = Path(run_dir)
    ckpt = run_dir / "checkpoint"
    meta = read_meta(ckpt)
    enc = encoder if encoder is not None else get_encoder(meta["encoder"])
    check_encoder(meta, enc.name, enc.fingerprint(), source=str(run_dir))
    config = load_run_config(meta, run_dir)
    task = Task.from_json(meta["task"])
    head_cfg = config_from_dict(HeadConfig, meta["head"])

    def skeleton(meta: dict[str, Any]) -> TaskModel:
        width = meta["input_width"]
        if head_cfg.kind == "knn":
            head = KNNHead(width, task.n_outputs, head_cfg, references=meta["knn_references"], kind=task.kind)
        else:
            head = build_head(head_cfg, width, task.n_outputs, key=jax.random.PRNGKey(0))
        if not meta.get("finetune"):
            if head_input(head_cfg) == "pooled":
                return TaskModel(head=head, shift=jax.numpy.zeros(width), scale=jax.numpy.ones(width))
            return TaskModel(head=head)
        enc_d = _differentiable(enc)
        module, _ = prepare_encoder(enc_d, config, key=jax.random.PRNGKey(0))  # the saved leaves replace these
        if meta.get("standardized"):  # runs from before fine-tuning standardised the pooled states have none
            return TaskModel(head=head, encoder=module, apply=enc_d.apply, pooling=meta["pooling"],
                             shift=jax.numpy.zeros(width), scale=jax.numpy.ones(width))
        return TaskModel(head=head, encoder=module, apply=enc_d.apply, pooling=meta["pooling"])

    model, meta = load_checkpoint(ckpt, skeleton)
    if meta.get("target") is not None:
        meta["target"] = tuple(meta["target"])
    return Predictor(model=model, task=task, encoder=enc, config=config, meta=meta)
