"""Metrics of a task's predictions with bootstrap intervals, and the baselines beside every model.

Baselines (computed on the same test records):

* ``coin_flip``: every prediction a fair coin (uniform over classes / states); and
* ``proportional``: predictions drawn with the training frequencies (regression: draws of
  training targets) -- both by seeded simulation: the value is the mean over ``n_draws`` draws
  and the interval the 2.5-97.5 % range of the draws;
* ``majority``: always the most frequent training class (regression: the training mean),
  scored with the training frequencies as probabilities;
* ``composition``: amino-acid composition + logistic regression (ridge for regression) with
  scikit-learn -- the solubility blog's first model. For per-residue tasks: each residue's
  state frequencies given its amino acid in training (what logistic regression on the residue's
  one-hot identity converges to).

Deterministic baselines and the model get percentile bootstrap intervals over test records.
Given the model's predictions, each deterministic baseline also gets ``delta``: the model's
primary metric minus the baseline's with a *paired* bootstrap interval (both scored on the same
resampled proteins, so the luck of the test set cancels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...core.bootstrap import bootstrap_many
from ...core.errors import InputError
from ...core.files import atomic_write
from ...core.npzfile import read_npz
from ..encoders.onehot._encoder import CompositionEncoder, residue_profile
from ..tasks import Task, task_kind

__all__ = ["TEST_PREDICTIONS", "TestPredictions", "baselines", "metrics_with_intervals", "paired_delta",
           "read_test_predictions", "task_metrics", "write_test_predictions"]

#: A protein run's test records, truth and predictions (written by ``run_task`` beside ``predictions.csv``).
TEST_PREDICTIONS = "test_predictions.npz"


def task_metrics(kind: str, y_true: Any, y_pred: Any, masks: Sequence[np.ndarray] | None = None, *,
                 threshold: float = 0.5) -> dict[str, float]:
    """All metrics of ``kind``. ``y_pred``: P(positive) ``(N,)``, class probabilities ``(N, C)``,
    label probabilities ``(N, L)``, values ``(N,)``, or per-residue ``(L_i, C)`` probabilities.
    ``threshold``: the binary decision threshold (accuracy, F1, MCC, ...)."""
    return task_kind(kind).metrics(y_true, y_pred, masks, threshold)


def _take(x: Any, idx: np.ndarray) -> Any:
    return [x[i] for i in idx] if isinstance(x, list) else np.asarray(x)[idx]


def metrics_with_intervals(kind: str, y_true: Any, y_pred: Any, masks: Sequence[np.ndarray] | None = None, *,
                           n_resamples: int = 200, seed: int = 0, threshold: float = 0.5) -> dict[str, dict[str, float]]:
    """Every metric with a percentile bootstrap interval over records (proteins)."""
    def fn(idx):
        return task_metrics(kind, _take(y_true, idx), _take(y_pred, idx), None if masks is None else _take(masks, idx),
                            threshold=threshold)

    return {k: v.as_dict() for k, v in bootstrap_many(fn, len(y_true), n_resamples=n_resamples, seed=seed).items()}


def paired_delta(kind: str, y_true: Any, pred_a: Any, pred_b: Any, masks: Sequence[np.ndarray] | None = None, *,
                 metric: str, n_resamples: int = 200, seed: int = 0) -> dict[str, float]:
    """``metric(pred_a) - metric(pred_b)`` on the same records, with a paired percentile bootstrap
    interval: every resample of proteins scores both, so what the two share cancels."""
    def fn(idx):
        y, m = _take(y_true, idx), None if masks is None else _take(masks, idx)
        return {"delta": task_metrics(kind, y, _take(pred_a, idx), m)[metric]
                - task_metrics(kind, y, _take(pred_b, idx), m)[metric]}

    return bootstrap_many(fn, len(y_true), n_resamples=n_resamples, seed=seed)["delta"].as_dict()


@dataclass(frozen=True)
class TestPredictions:
    """The test records of a run as :func:`task_metrics` takes them: ``y_true``/``y_pred`` arrays, or
    per-residue lists of arrays (then ``masks`` too, when the task has them)."""

    ids: list[str]
    y_true: Any
    y_pred: Any
    masks: list[np.ndarray] | None = None


def write_test_predictions(path: str | Path, ids: Sequence[str], y_true: Any, y_pred: Any,
                           masks: Sequence[np.ndarray] | None = None) -> None:
    """Save a run's test truth and predictions (``.npz``, no pickle), what a paired comparison of
    two runs on the same proteins needs; per-residue lists are stored concatenated with their lengths."""
    arrays: dict[str, np.ndarray] = {"ids": np.asarray(list(ids), dtype=str)}
    if isinstance(y_pred, list):
        arrays["lengths"] = np.array([len(p) for p in y_pred], dtype=np.int64)
        arrays["y_true"] = np.concatenate([np.asarray(t) for t in y_true])
        arrays["y_pred"] = np.concatenate([np.asarray(p) for p in y_pred])
        if masks is not None:
            arrays["masks"] = np.concatenate([np.asarray(m) for m in masks])
    else:
        arrays["y_true"], arrays["y_pred"] = np.asarray(y_true), np.asarray(y_pred)
    atomic_write(path, lambda fh: np.savez_compressed(fh, **arrays))


def read_test_predictions(path: str | Path) -> TestPredictions:
    """What :func:`write_test_predictions` saved (an :class:`~biolens.core.errors.InputError` naming
    the file when it is malformed)."""
    arrays = read_npz(path)
    missing = {"ids", "y_true", "y_pred"} - set(arrays)
    if missing:
        raise InputError(f"{path}: not a test-predictions file (no {sorted(missing)})")
    ids = arrays["ids"].astype(str).tolist()
    if "lengths" not in arrays:
        if not len(arrays["y_true"]) == len(arrays["y_pred"]) == len(ids):
            raise InputError(f"{path}: ids, truth and predictions have different lengths")
        return TestPredictions(ids, arrays["y_true"], arrays["y_pred"])
    lengths = arrays["lengths"]
    total = int(lengths.sum()) if len(lengths) == len(ids) and (lengths >= 0).all() else -1
    if total < 0 or any(len(arrays[k]) != total for k in ("y_true", "y_pred", *(["masks"] if "masks" in arrays else []))):
        raise InputError(f"{path}: per-residue lengths do not match the arrays")
    cuts = np.cumsum(lengths)[:-1]

    def split(a: np.ndarray) -> list[np.ndarray]:
        return np.split(a, cuts) if len(ids) else []

    masks = split(arrays["masks"]) if "masks" in arrays else None
    return TestPredictions(ids, split(arrays["y_true"]), split(arrays["y_pred"]), masks)


def _simulated(kind: str, y_true: Any, masks: Any, draw: Callable[[np.random.Generator], Any], n_draws: int,
               seed: int) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(seed)
    runs = [task_metrics(kind, y_true, draw(rng), masks) for _ in range(n_draws)]
    out = {}
    for k in runs[0]:
        vals = np.array([r[k] for r in runs], dtype=float)
        vals = vals[~np.isnan(vals)]
        if vals.size == 0:
            out[k] = {"value": float("nan"), "low": float("nan"), "high": float("nan"), "std": float("nan")}
        else:
            lo, hi = np.quantile(vals, [0.025, 0.975])
            out[k] = {"value": float(vals.mean()), "low": float(lo), "high": float(hi), "std": float(vals.std())}
    return out


def baselines(task: Task, train: tuple[list[str], Any], test: tuple[list[str], Any], masks: Any = None, *,
              n_draws: int = 100, n_resamples: int = 200, seed: int = 0, model_pred: Any = None) -> dict[str, dict[str, Any]]:
    """The baselines of the module docstring on ``test``; ``train``/``test`` are ``(sequences, labels)``.

    With ``model_pred`` (the model's test predictions), deterministic baselines get ``delta``:
    see :func:`paired_delta` (on the task kind's ``primary`` metric).
    """
    (seq_train, y_train), (seq_test, y_test) = train, test
    kind, spec, k, out = task.kind, task.spec, len(task.label_names), {}
    freq = None if spec.frequencies is None else spec.frequencies(y_train, k)
    if freq is None:
        y_arr = np.asarray(y_train, float)
        out["proportional"] = {"method": f"simulated ({n_draws} seeded draws of training targets)",
                               "metrics": _simulated(kind, y_test, masks, lambda rng: rng.choice(y_arr, len(y_test)), n_draws, seed)}
    else:
        uniform = np.full(len(freq), 0.5 if spec.output == "sigmoid" else 1.0 / k)  # a fair coin per label / class
        for name, p in (("coin_flip", uniform), ("proportional", freq)):
            out[name] = {"method": f"simulated ({n_draws} seeded draws)",
                         "metrics": _simulated(kind, y_test, masks, lambda rng, p=p: spec.draw(rng, p, y_test, k), n_draws, seed)}
    method, fit = _COMPOSITION[spec.composition]
    fixed = {"majority": spec.majority(y_train, y_test, freq), "composition": fit(task, seq_train, y_train, seq_test)}
    methods = {"majority": "training mean" if freq is None else "most frequent training class, scored with training frequencies",
               "composition": method}
    for name, pred in fixed.items():
        out[name] = {"method": methods[name],
                     "metrics": metrics_with_intervals(kind, y_test, pred, masks, n_resamples=n_resamples, seed=seed)}
        if model_pred is not None:
            out[name]["delta"] = paired_delta(kind, y_test, model_pred, pred, masks, metric=spec.primary,
                                              n_resamples=n_resamples, seed=seed)
    return out


def _composition_features(seq_train: list[str], seq_test: list[str]) -> tuple[np.ndarray, np.ndarray]:
    enc = CompositionEncoder()
    return np.stack([enc.features(s) for s in seq_train]), np.stack([enc.features(s) for s in seq_test])


def _logistic(x: np.ndarray, y: Any) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x, y)


def _ridge(task: Task, seq_train: list[str], y_train: Any, seq_test: list[str]) -> Any:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train, x_test = _composition_features(seq_train, seq_test)
    return make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(x_train, y_train).predict(x_test)


def _binary_logistic(task: Task, seq_train: list[str], y_train: Any, seq_test: list[str]) -> Any:
    x_train, x_test = _composition_features(seq_train, seq_test)
    return _logistic(x_train, y_train).predict_proba(x_test)[:, 1]


def _multinomial(task: Task, seq_train: list[str], y_train: Any, seq_test: list[str]) -> Any:
    x_train, x_test = _composition_features(seq_train, seq_test)
    model = _logistic(x_train, y_train)
    probs = np.zeros((len(seq_test), len(task.label_names)))
    probs[:, model.classes_] = model.predict_proba(x_test)
    return probs


def _per_label(task: Task, seq_train: list[str], y_train: Any, seq_test: list[str]) -> Any:
    x_train, x_test = _composition_features(seq_train, seq_test)
    y_train = np.asarray(y_train)
    probs = np.tile(y_train.mean(0), (len(seq_test), 1))
    for j in range(y_train.shape[1]):
        if 0 < y_train[:, j].sum() < len(y_train):
            probs[:, j] = _logistic(x_train, y_train[:, j]).predict_proba(x_test)[:, 1]
    return probs


def _residue_identity(task: Task, seq_train: list[str], y_train: list[np.ndarray], seq_test: list[str]) -> list[np.ndarray]:
    k = len(task.label_names)
    counts = np.ones((20, k))  # add-one smoothing
    for seq, y in zip(seq_train, y_train, strict=True):
        counts += residue_profile(seq).T @ np.eye(k)[y]
    table = counts / counts.sum(1, keepdims=True)
    return [residue_profile(s) @ table for s in seq_test]


#: The composition baselines a task kind can name (``TaskKind.composition``): description, fit.
_COMPOSITION: dict[str, tuple[str, Callable[..., Any]]] = {
    "logistic": ("amino-acid composition + logistic regression (scikit-learn)", _binary_logistic),
    "multinomial": ("amino-acid composition + multinomial logistic regression (scikit-learn)", _multinomial),
    "per_label": ("amino-acid composition + one logistic regression per label (scikit-learn)", _per_label),
    "ridge": ("amino-acid composition + ridge regression (scikit-learn)", _ridge),
    "residue_identity": ("state frequencies given the residue's amino acid (training counts)", _residue_identity),
}
