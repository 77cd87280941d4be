"""Calibrated probabilities and decision thresholds for binary classifiers (pure NumPy).

A trained model's scores are rarely calibrated (class weighting and early stopping bend them) and
0.5 is rarely the best cut: a model trained on 42% positives and judged on a balanced set
predicts too few positives at 0.5. Both are fixed on the *validation* split:

* :func:`fit_platt` -- Platt scaling, ``p' = sigmoid(a * logit(p) + b)`` by maximum likelihood
  (Newton's method with a line search, on two parameters); :func:`fit_temperature` is the one-parameter case
  ``b = 0``, ``a = 1 / T`` (Guo et al. 2017), which keeps the ranking and the 0.5 point;
* :func:`choose_threshold` -- the cut on calibrated probabilities that maximises a stated rule on
  validation: ``balanced_accuracy`` (the mean of the two recalls: what accuracy is on a
  class-balanced set, so it is robust to a shift of the class prior), ``mcc``, or ``fixed`` (0.5);
* :func:`reliability_curve` / :func:`expected_calibration_error` -- the calibration check.

:class:`BinaryCalibration` holds the fitted mapping and threshold; it is saved with a run and
applied by prediction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["CALIBRATIONS", "THRESHOLD_RULES", "BinaryCalibration", "choose_threshold", "expected_calibration_error",
           "fit_calibration", "fit_platt", "fit_temperature", "logit", "reliability_curve", "sigmoid"]

CALIBRATIONS = ("platt", "temperature", "none")
THRESHOLD_RULES = ("balanced_accuracy", "mcc", "fixed")
_EPS = 1e-7


def logit(p: Any) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def sigmoid(z: Any) -> np.ndarray:
    z = np.asarray(z, np.float64)
    return np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))


def _newton(z: np.ndarray, y: np.ndarray, slope_only: bool, ridge: float, steps: int = 100) -> tuple[float, float]:
    """Maximum-likelihood ``(a, b)`` of ``P(y=1) = sigmoid(a z + b)``; a tiny ridge on ``(a - 1, b)``
    keeps separable data finite.

    Newton's method with a backtracking line search: a full Newton step from ``(1, 0)`` can
    overshoot when the scores are overconfident (logits of +-10 and more, half of them wrong) and
    then runs away (``a`` in the millions, every calibrated score 0 or 1); a step is halved until
    it lowers the penalised negative log-likelihood, which is convex, so the search converges."""
    x = np.stack([z, np.ones_like(z)], 1)[:, :1 if slope_only else 2]
    theta = np.array([1.0, 0.0])[: x.shape[1]]
    prior = theta.copy()

    def objective(t: np.ndarray) -> float:
        u = x @ t
        return float(np.sum(np.logaddexp(0.0, u) - y * u) + 0.5 * ridge * np.sum((t - prior) ** 2))

    value = objective(theta)
    for _ in range(steps):
        p = sigmoid(x @ theta)
        grad = x.T @ (p - y) + ridge * (theta - prior)
        hess = (x * (p * (1 - p))[:, None]).T @ x + ridge * np.eye(len(theta))
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-12:  # Armijo: enough decrease along the Newton direction
            trial = theta - scale * step
            trial_value = objective(trial)
            if trial_value <= value - 1e-4 * scale * float(grad @ step):
                break
            scale /= 2
        else:
            break  # no step lowers the objective: at the optimum to rounding
        theta, value = trial, trial_value
        if np.max(np.abs(scale * step)) < 1e-10:
            break
    a = float(theta[0])
    return a, (0.0 if slope_only else float(theta[1]))


def _check(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(y, np.float64).ravel(), np.asarray(p, np.float64).ravel()
    if len(y) != len(p) or len(y) == 0:
        raise InputError(f"calibration needs as many labels as scores (got {len(y)} and {len(p)}, at least one)")
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError("calibration needs binary labels 0/1")
    return y, p


def fit_platt(y: Any, p: Any, *, ridge: float = 1e-3) -> tuple[float, float]:
    """``(a, b)`` of Platt scaling fitted to labels ``y`` and probabilities ``p``."""
    y, p = _check(y, p)
    return _newton(logit(p), y, False, ridge)


def fit_temperature(y: Any, p: Any, *, ridge: float = 1e-3) -> float:
    """The temperature ``T`` (``p' = sigmoid(logit(p) / T)``) fitted to ``y``."""
    y, p = _check(y, p)
    a, _ = _newton(logit(p), y, True, ridge)
    return 1.0 / max(a, 1e-6)


def choose_threshold(y: Any, p: Any, rule: str = "balanced_accuracy") -> float:
    """The cut ``t`` (predict positive when ``p >= t``) maximising ``rule`` on ``(y, p)``.

    Candidates are the midpoints between consecutive distinct scores (and one cut above and one
    below them all), so the chosen cut sits between validation proteins, not on one. Ties go to
    the cut closest to 0.5. ``fixed`` returns 0.5.
    """
    if rule not in THRESHOLD_RULES:
        raise InputError(f"unknown threshold rule {rule!r}; choose from {list(THRESHOLD_RULES)}")
    y, p = _check(y, p)
    if rule == "fixed":
        return 0.5
    u = np.unique(p)
    cuts = np.concatenate([[u[0] - 1e-6], (u[:-1] + u[1:]) / 2, [u[-1] + 1e-6]]) if len(u) > 1 else np.array([u[0]])
    pred = p[None, :] >= cuts[:, None]
    pos, neg = y == 1, y == 0
    tp = (pred & pos).sum(1).astype(np.float64)
    fp = (pred & neg).sum(1).astype(np.float64)
    fn, tn = pos.sum() - tp, neg.sum() - fp
    if rule == "balanced_accuracy":
        score = 0.5 * (tp / max(pos.sum(), 1) + tn / max(neg.sum(), 1))
    else:
        den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        score = np.divide(tp * tn - fp * fn, den, out=np.zeros_like(den), where=den > 0)
    best = np.flatnonzero(score >= score.max() - 1e-12)
    return float(cuts[best[np.argmin(np.abs(cuts[best] - 0.5))]])


def reliability_curve(y: Any, p: Any, bins: int = 10) -> list[dict[str, float]]:
    """Equal-width bins of ``p``: per non-empty bin, its range, the mean score, the observed
    fraction of positives and the count (the reliability diagram's points)."""
    y, p = _check(y, p)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        m = which == b
        if m.any():
            out.append({"low": float(edges[b]), "high": float(edges[b + 1]), "mean_p": float(p[m].mean()),
                        "fraction_positive": float(y[m].mean()), "count": int(m.sum())})
    return out


def expected_calibration_error(y: Any, p: Any, bins: int = 10) -> float:
    """``sum_b n_b / n * |mean_p_b - fraction_positive_b|`` over :func:`reliability_curve`'s bins."""
    curve = reliability_curve(y, p, bins)
    n = sum(c["count"] for c in curve)
    return float(sum(c["count"] / n * abs(c["mean_p"] - c["fraction_positive"]) for c in curve))


@dataclass(frozen=True, kw_only=True)
class BinaryCalibration:
    """``p' = sigmoid(a * logit(p) + b)`` then ``label = p' >= threshold`` (chosen by ``rule``)."""

    method: str = "none"
    a: float = 1.0
    b: float = 0.0
    threshold: float = 0.5
    rule: str = "fixed"
    n_valid: int = 0

    def apply(self, p: Any) -> np.ndarray:
        if self.method == "none":
            return np.asarray(p, np.float64)
        return sigmoid(self.a * logit(p) + self.b)

    def labels(self, p_calibrated: Any) -> np.ndarray:
        return (np.asarray(p_calibrated) >= self.threshold).astype(int)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> BinaryCalibration:
        return cls(**data) if data else cls()


def fit_calibration(y: Any, p: Any, *, method: str = "platt", rule: str = "balanced_accuracy") -> BinaryCalibration:
    """Fit ``method`` (``platt``/``temperature``/``none``) on validation ``(y, p)``, then choose the
    threshold on the calibrated scores by ``rule``. A validation set with one class only keeps the
    identity mapping and 0.5 (nothing can be fitted)."""
    if method not in CALIBRATIONS:
        raise InputError(f"unknown calibration {method!r}; choose from {list(CALIBRATIONS)}")
    y, p = _check(y, p)
    if y.min() == y.max():
        return BinaryCalibration(n_valid=len(y))
    if method == "platt":
        a, b = fit_platt(y, p)
    elif method == "temperature":
        a, b = 1.0 / fit_temperature(y, p), 0.0
    else:
        a, b = 1.0, 0.0
    cal = BinaryCalibration(method=method, a=a, b=b, rule=rule, n_valid=len(y))
    return BinaryCalibration(method=method, a=a, b=b, rule=rule, n_valid=len(y),
                             threshold=choose_threshold(y, cal.apply(p), rule))
