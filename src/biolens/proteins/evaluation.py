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
from typing import Any

import numpy as np

from ..core import metrics as M
from ..core.bootstrap import bootstrap_many
from .encoders.onehot import CompositionEncoder, residue_profile
from .tasks import Task

__all__ = ["MONITOR", "PRIMARY", "baselines", "metrics_with_intervals", "paired_delta", "task_metrics"]

#: The headline metric of each kind (reports, deltas over baselines).
PRIMARY = {"binary": "auroc", "multiclass": "accuracy", "multilabel": "fmax", "regression": "spearman",
           "per_residue": "q3"}
#: The validation metric early stopping watches (all "higher is better").
MONITOR = {"binary": "auroc", "multiclass": "accuracy", "multilabel": "micro_auprc", "regression": "spearman",
           "per_residue": "q3"}


def task_metrics(kind: str, y_true: Any, y_pred: Any, masks: Sequence[np.ndarray] | None = None, *,
                 threshold: float = 0.5) -> dict[str, float]:
    """All metrics of ``kind``. ``y_pred``: P(positive) ``(N,)``, class probabilities ``(N, C)``,
    label probabilities ``(N, L)``, values ``(N,)``, or per-residue ``(L_i, C)`` probabilities.
    ``threshold``: the binary decision threshold (accuracy, F1, MCC, ...)."""
    if kind == "binary":
        return M.binary_metrics(y_true, y_pred, threshold)
    if kind == "multiclass":
        return M.multiclass_metrics(y_true, y_pred)
    if kind == "multilabel":
        return M.multilabel_metrics(y_true, y_pred)
    if kind == "regression":
        return M.regression_metrics(y_true, y_pred)
    return M.per_residue_metrics(list(y_true), [np.asarray(p).argmax(-1) for p in y_pred], masks)


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


def _frequencies(task: Task, y_train: Any) -> np.ndarray:
    k = len(task.label_names)
    if task.kind == "binary":
        return np.array([1 - np.mean(y_train), np.mean(y_train)])
    if task.kind == "multiclass":
        return np.bincount(y_train, minlength=k) / len(y_train)
    if task.kind == "multilabel":
        return np.asarray(y_train).mean(0)
    return np.bincount(np.concatenate(y_train), minlength=k) / sum(map(len, y_train))


def _as_pred(kind: str, draws: Any, k: int) -> Any:
    """Hard draws -> the prediction format of ``kind`` (probability 1 on the drawn class)."""
    if kind == "multiclass":
        return np.eye(k)[draws]
    if kind == "per_residue":
        return [np.eye(k)[d] for d in draws]
    return draws.astype(float)


def _guess(task: Task, y_test: Any, p: np.ndarray) -> Callable[[np.random.Generator], Any]:
    kind, k, n = task.kind, len(task.label_names), len(y_test)
    if kind == "binary":
        return lambda rng: _as_pred(kind, rng.random(n) < p[1], k)
    if kind == "multiclass":
        return lambda rng: _as_pred(kind, rng.choice(k, size=n, p=p), k)
    if kind == "multilabel":
        return lambda rng: _as_pred(kind, rng.random((n, len(p))) < p, k)
    return lambda rng: _as_pred(kind, [rng.choice(k, size=len(t), p=p) for t in y_test], k)


def _majority(task: Task, y_train: Any, y_test: Any) -> Any:
    kind, n = task.kind, len(y_test)
    if kind == "regression":
        return np.full(n, float(np.mean(y_train)))
    p = _frequencies(task, y_train)
    if kind == "binary":
        return np.full(n, p[1])
    if kind == "multilabel":
        return np.tile(p, (n, 1))
    if kind == "multiclass":
        return np.tile(p, (n, 1))
    return [np.tile(p, (len(t), 1)) for t in y_test]


def baselines(task: Task, train: tuple[list[str], Any], test: tuple[list[str], Any], masks: Any = None, *,
              n_draws: int = 100, n_resamples: int = 200, seed: int = 0, model_pred: Any = None) -> dict[str, dict[str, Any]]:
    """The baselines of the module docstring on ``test``; ``train``/``test`` are ``(sequences, labels)``.

    With ``model_pred`` (the model's test predictions), deterministic baselines get ``delta``:
    see :func:`paired_delta` (on the task kind's :data:`PRIMARY` metric).
    """
    (seq_train, y_train), (seq_test, y_test) = train, test
    kind, out = task.kind, {}
    if kind == "regression":
        y_arr = np.asarray(y_train, float)
        out["proportional"] = {"method": f"simulated ({n_draws} seeded draws of training targets)",
                               "metrics": _simulated(kind, y_test, masks, lambda rng: rng.choice(y_arr, len(y_test)), n_draws, seed)}
    else:
        k = len(task.label_names)
        uniform = np.full(2 if kind == "binary" else (np.asarray(y_train).shape[1] if kind == "multilabel" else k),
                          0.5 if kind in ("binary", "multilabel") else 1.0 / k)
        for name, p in (("coin_flip", uniform), ("proportional", _frequencies(task, y_train))):
            out[name] = {"method": f"simulated ({n_draws} seeded draws)",
                         "metrics": _simulated(kind, y_test, masks, _guess(task, y_test, p), n_draws, seed)}
    fixed = {"majority": _majority(task, y_train, y_test), "composition": _composition(task, seq_train, y_train, seq_test)}
    methods = {"majority": "training mean" if kind == "regression" else "most frequent training class, scored with training frequencies",
               "composition": _COMPOSITION_METHOD[kind]}
    for name, pred in fixed.items():
        out[name] = {"method": methods[name],
                     "metrics": metrics_with_intervals(kind, y_test, pred, masks, n_resamples=n_resamples, seed=seed)}
        if model_pred is not None:
            out[name]["delta"] = paired_delta(kind, y_test, model_pred, pred, masks, metric=PRIMARY[kind],
                                              n_resamples=n_resamples, seed=seed)
    return out


_COMPOSITION_METHOD = {
    "binary": "amino-acid composition + logistic regression (scikit-learn)",
    "multiclass": "amino-acid composition + multinomial logistic regression (scikit-learn)",
    "multilabel": "amino-acid composition + one logistic regression per label (scikit-learn)",
    "regression": "amino-acid composition + ridge regression (scikit-learn)",
    "per_residue": "state frequencies given the residue's amino acid (training counts)",
}


def _composition(task: Task, seq_train: list[str], y_train: Any, seq_test: list[str]) -> Any:
    if task.kind == "per_residue":
        return _residue_identity(task, seq_train, y_train, seq_test)
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    enc = CompositionEncoder()
    x_train = np.stack([enc.features(s) for s in seq_train])
    x_test = np.stack([enc.features(s) for s in seq_test])
    if task.kind == "regression":
        return make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(x_train, y_train).predict(x_test)
    fit = lambda y: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x_train, y)  # noqa: E731
    if task.kind == "binary":
        return fit(y_train).predict_proba(x_test)[:, 1]
    if task.kind == "multiclass":
        model = fit(y_train)
        probs = np.zeros((len(seq_test), len(task.label_names)))
        probs[:, model.classes_] = model.predict_proba(x_test)
        return probs
    y_train = np.asarray(y_train)
    probs = np.tile(y_train.mean(0), (len(seq_test), 1))
    for j in range(y_train.shape[1]):
        if 0 < y_train[:, j].sum() < len(y_train):
            probs[:, j] = fit(y_train[:, j]).predict_proba(x_test)[:, 1]
    return probs


def _residue_identity(task: Task, seq_train: list[str], y_train: list[np.ndarray], seq_test: list[str]) -> list[np.ndarray]:
    k = len(task.label_names)
    counts = np.ones((20, k))  # add-one smoothing
    for seq, y in zip(seq_train, y_train, strict=True):
        counts += residue_profile(seq).T @ np.eye(k)[y]
    table = counts / counts.sum(1, keepdims=True)
    return [residue_profile(s) @ table for s in seq_test]
