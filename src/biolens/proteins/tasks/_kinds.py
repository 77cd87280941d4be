"""The one table of task kinds: everything that differs between binary, multiclass, multilabel,
regression and per-residue tasks, in one place.

Every module that treats kinds differently (loss, output transform, metrics, baselines, labels,
batches, reports, k-NN heads, calibration) reads a :class:`TaskKind` from :data:`TASK_KINDS`
(:func:`task_kind`) instead of comparing kind names. Adding a kind means adding one entry here
(and, if its labels have a new form, the flags that describe it).

Graph link prediction (``link`` in the design's task list) is not a protein task: its loss
(pairwise AUC / BCE over sampled negatives), metrics (Hits@K, MRR) and batches live in
:mod:`biolens.graphs`.

=============  ===========  ===========  ==========  =========  ============  ==========
kind           loss         output       primary     monitor    label dtype   calibrated
=============  ===========  ===========  ==========  =========  ============  ==========
binary         BCE          sigmoid      auroc       auroc      float32       yes
multiclass     softmax CE   softmax      accuracy    accuracy   int32         no
multilabel     BCE / label  sigmoid      fmax        micro_auprc float32      no
regression     MSE          identity     spearman    spearman   float32       no
per_residue    softmax CE   softmax      q3          q3         int32         no
=============  ===========  ===========  ==========  =========  ============  ==========

Every monitor is "higher is better" (``mode="max"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...core import metrics as M
from ...core.errors import InputError

__all__ = ["TASK_KINDS", "TaskKind", "register_kind", "task_kind"]

#: Output transforms by name: logits -> what is reported, and the inverse (probabilities -> logits).
OUTPUTS = ("sigmoid", "softmax", "identity")


@dataclass(frozen=True, kw_only=True)
class TaskKind:
    """What one task kind means for training, prediction, evaluation and reports.

    Attributes:
        name: the kind's name (``Task.kind``).
        labels: the form of ``TaskData.labels`` (documentation).
        output: ``sigmoid``, ``softmax`` or ``identity`` -- logits to reported values.
        single_output: the model has one output and predictions are ``(N,)`` (else ``(N, K)``).
        per_residue: one label per residue (labels and predictions are lists of ``(L_i, ...)``).
        class_indices: labels are indices into ``label_names`` (a record's or a residue's class).
        label_columns: labels are ``(N, L)`` 0/1 columns, one per label name.
        label_count: the number of label names the kind requires (binary: 2), or ``None``.
        label_dtype: dtype of the training labels given to the loss (unstandardised).
        standardize: regression-like targets: standardised with training mean/std for training.
        calibrated: probabilities calibrated and a decision threshold chosen on validation.
        balance: ``class_weights`` (per class), ``pos_weight`` (per positive label) or ``None``.
        primary: the headline metric (reports, deltas over baselines).
        monitor: the validation metric early stopping watches (higher is better).
        composition: which composition baseline fits it (see :mod:`..evaluation`).
        figures: report figures, in order (see :mod:`..report`).
        loss: ``loss(logits, batch, class_weights, pos_weight) -> scalar`` (``batch["w"]`` row weights).
        metrics: ``metrics(y_true, y_pred, masks, threshold) -> {name: value}``.
        frequencies: ``frequencies(y_train, n_labels)`` -> training class/label frequencies.
        draw: ``draw(rng, p, y_test, n_labels)`` -> one random prediction set with frequencies ``p``.
        majority: ``majority(y_train, y_test, p)`` -> the constant "majority" prediction.
        summary: ``summary(labels, names)`` -> one line describing the labels.
        label_text: ``label_text(y, names)`` -> one record's label as text.
        prediction_cells: ``prediction_cells(p, names, threshold)`` -> the CSV cells of one prediction.
    """

    name: str
    labels: str
    output: str
    single_output: bool
    per_residue: bool
    class_indices: bool
    label_columns: bool
    label_count: int | None
    label_dtype: type
    standardize: bool
    calibrated: bool
    balance: str | None
    primary: str
    monitor: str
    composition: str
    figures: tuple[str, ...]
    loss: Callable[..., Any]
    metrics: Callable[..., dict[str, float]]
    frequencies: Callable[..., np.ndarray] | None
    draw: Callable[..., Any] | None
    majority: Callable[..., Any]
    summary: Callable[[Any, Sequence[str]], str]
    label_text: Callable[[Any, Sequence[str]], str]
    prediction_cells: Callable[[Any, Sequence[str], float], list[str]]

    @property
    def classification(self) -> bool:
        """Predictions are probabilities (everything but regression-like kinds)."""
        return self.output != "identity"

    @property
    def record_classes(self) -> bool:
        """One class per record (binary, multiclass)."""
        return self.class_indices and not self.per_residue

    def n_outputs(self, n_labels: int) -> int:
        """Width of the model's output for ``n_labels`` label names."""
        return 1 if self.single_output else n_labels

    def transform(self, logits: Any) -> Any:
        """Logits -> reported values: probabilities (classification) or the value (regression)."""
        import jax

        if self.output == "sigmoid":
            return jax.nn.sigmoid(logits)
        if self.output == "softmax":
            return jax.nn.softmax(logits, axis=-1)
        return logits

    def from_probabilities(self, p: Any, eps: float) -> Any:
        """The inverse of :meth:`transform` (up to a constant for softmax), for heads that average
        targets (k-NN): probabilities clipped to ``[eps, 1 - eps]`` -> logits."""
        import jax.numpy as jnp

        if self.output == "identity":
            return p
        p = jnp.clip(p, eps, 1.0 - eps)
        return jnp.log(p) if self.output == "softmax" else jnp.log(p) - jnp.log1p(-p)

    def check_names(self, names: Sequence[str]) -> None:
        """Refuse label names the kind cannot take (a binary task has exactly two)."""
        if self.label_count is not None and len(names) != self.label_count:
            raise InputError(f"a {self.name} task needs {self.label_count} label names, got {list(names)}")


TASK_KINDS: dict[str, TaskKind] = {}


def register_kind(kind: TaskKind) -> TaskKind:
    """Add ``kind`` to :data:`TASK_KINDS` (a name may be registered once)."""
    if kind.output not in OUTPUTS:
        raise ValueError(f"kind {kind.name}: output must be one of {OUTPUTS}, got {kind.output!r}")
    if kind.name in TASK_KINDS:
        raise ValueError(f"task kind {kind.name!r} is already registered")
    TASK_KINDS[kind.name] = kind
    return kind


def task_kind(name: str) -> TaskKind:
    """The :class:`TaskKind` named ``name``; an unknown name is a clear error."""
    try:
        return TASK_KINDS[name]
    except KeyError:
        raise InputError(f"unknown task kind {name!r}; choose from {list(TASK_KINDS)}") from None


# --- the pieces the entries are made of -------------------------------------------------------

def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _class_counts(labels: Any, names: Sequence[str]) -> str:
    counts = np.bincount(np.asarray(labels), minlength=len(names))
    text = ", ".join(f"{n}: {c}" for n, c in zip(names, counts, strict=True) if c)
    absent = [n for n, c in zip(names, counts, strict=True) if not c]
    return text + (f" (no record of {', '.join(absent)})" if absent else "")


def _joined(names: Sequence[str], flags: Any) -> str:
    return ";".join(n for n, v in zip(names, flags, strict=True) if v)


def _bce_loss(logits, batch, cw, pw):
    from ...core.losses import binary_cross_entropy

    return binary_cross_entropy(logits[:, 0], batch["y"], pos_weight=pw, mask=batch["w"])


def _softmax_loss(logits, batch, cw, pw):
    from ...core.losses import softmax_cross_entropy

    return softmax_cross_entropy(logits, batch["y"], class_weights=cw, mask=batch["w"])


def _multilabel_loss(logits, batch, cw, pw):
    from ...core.losses import binary_cross_entropy

    return binary_cross_entropy(logits, batch["y"], pos_weight=pw, mask=batch["w"][:, None])


def _mse_loss(logits, batch, cw, pw):
    from ...core.losses import mse

    return mse(logits[:, 0], batch["y"], mask=batch["w"])


def _residue_loss(logits, batch, cw, pw):
    import jax.numpy as jnp

    from ...core.losses import softmax_cross_entropy

    mask = batch["y_mask"] * batch["w"][:, None]
    return softmax_cross_entropy(logits, jnp.maximum(batch["y"], 0), class_weights=cw, mask=mask)


def _residue_metrics(y_true, y_pred, masks, threshold):
    return M.per_residue_metrics(list(y_true), [np.asarray(p).argmax(-1) for p in y_pred], masks)


def _class_draws(rng, p, y_test, k):
    return np.eye(k)[rng.choice(k, size=len(y_test), p=p)]


def _residue_draws(rng, p, y_test, k):
    return [np.eye(k)[rng.choice(k, size=len(t), p=p)] for t in y_test]


def _residue_frequencies(y_train, k):
    return np.bincount(np.concatenate(y_train), minlength=k) / sum(map(len, y_train))


def _residue_summary(labels, names):
    return "residues " + _class_counts(np.concatenate(labels), names)


def _regression_summary(labels, names):
    y = np.asarray(labels)
    return f"{names[0]}: mean {y.mean():.3g}, range [{y.min():.3g}, {y.max():.3g}]"


def _multilabel_summary(labels, names):
    return f"{len(names)} labels, {np.asarray(labels).sum(1).mean():.2f} per protein on average"


register_kind(TaskKind(
    name="binary", labels="int (N,) in {0, 1}; two names, negative first", output="sigmoid",
    single_output=True, per_residue=False, class_indices=True, label_columns=False, label_count=2,
    label_dtype=np.float32, standardize=False, calibrated=True, balance="pos_weight",
    primary="auroc", monitor="auroc", composition="logistic", figures=("confusion", "reliability"),
    loss=_bce_loss, metrics=lambda y, p, masks, threshold: M.binary_metrics(y, p, threshold),
    frequencies=lambda y, k: np.array([1 - np.mean(y), np.mean(y)]),
    draw=lambda rng, p, y_test, k: (rng.random(len(y_test)) < p[1]).astype(float),
    majority=lambda y_train, y_test, p: np.full(len(y_test), p[1]),
    summary=_class_counts, label_text=lambda y, names: names[int(y)],
    prediction_cells=lambda p, names, t: [names[int(p >= t)], _fmt(1 - p), _fmt(p)],
))
register_kind(TaskKind(
    name="multiclass", labels="int (N,) in [0, C); C class names", output="softmax",
    single_output=False, per_residue=False, class_indices=True, label_columns=False, label_count=None,
    label_dtype=np.int32, standardize=False, calibrated=False, balance="class_weights",
    primary="accuracy", monitor="accuracy", composition="multinomial", figures=("per_class_f1", "confusion"),
    loss=_softmax_loss, metrics=lambda y, p, masks, threshold: M.multiclass_metrics(y, p),
    frequencies=lambda y, k: np.bincount(y, minlength=k) / len(y), draw=_class_draws,
    majority=lambda y_train, y_test, p: np.tile(p, (len(y_test), 1)),
    summary=_class_counts, label_text=lambda y, names: names[int(y)],
    prediction_cells=lambda p, names, t: [names[int(np.argmax(p))], *map(_fmt, p)],
))
register_kind(TaskKind(
    name="multilabel", labels="uint8 (N, L) of 0/1; L label names (GO/EC ids)", output="sigmoid",
    single_output=False, per_residue=False, class_indices=False, label_columns=True, label_count=None,
    label_dtype=np.float32, standardize=False, calibrated=False, balance="pos_weight",
    primary="fmax", monitor="micro_auprc", composition="per_label", figures=("per_label_ap", "label_heatmap"),
    loss=_multilabel_loss, metrics=lambda y, p, masks, threshold: M.multilabel_metrics(y, p),
    frequencies=lambda y, k: np.asarray(y).mean(0),
    draw=lambda rng, p, y_test, k: (rng.random((len(y_test), len(p))) < p).astype(float),
    majority=lambda y_train, y_test, p: np.tile(p, (len(y_test), 1)),
    summary=_multilabel_summary, label_text=lambda y, names: _joined(names, y),
    prediction_cells=lambda p, names, t: [_joined(names, np.asarray(p) >= 0.5), *map(_fmt, p)],
))
register_kind(TaskKind(
    name="regression", labels="float (N,) (finite); one name, the target", output="identity",
    single_output=True, per_residue=False, class_indices=False, label_columns=False, label_count=None,
    label_dtype=np.float32, standardize=True, calibrated=False, balance=None,
    primary="spearman", monitor="spearman", composition="ridge", figures=("scatter",),
    loss=_mse_loss, metrics=lambda y, p, masks, threshold: M.regression_metrics(y, p),
    frequencies=None, draw=None,
    majority=lambda y_train, y_test, p: np.full(len(y_test), float(np.mean(y_train))),
    summary=_regression_summary, label_text=lambda y, names: _fmt(float(y)),
    prediction_cells=lambda p, names, t: [_fmt(p)],
))
register_kind(TaskKind(
    name="per_residue", labels="list of int (T_i,) in [0, C); C state names (H, E, C)", output="softmax",
    single_output=False, per_residue=True, class_indices=True, label_columns=False, label_count=None,
    label_dtype=np.int32, standardize=False, calibrated=False, balance="class_weights",
    primary="q3", monitor="q3", composition="residue_identity", figures=("confusion",),
    loss=_residue_loss, metrics=_residue_metrics,
    frequencies=_residue_frequencies, draw=_residue_draws,
    majority=lambda y_train, y_test, p: [np.tile(p, (len(t), 1)) for t in y_test],
    summary=_residue_summary, label_text=lambda y, names: "".join(names[k] for k in y),
    prediction_cells=lambda p, names, t: ["".join(names[k] for k in np.asarray(p).argmax(-1))],
))
