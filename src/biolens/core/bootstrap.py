"""Bootstrap confidence intervals for any metric."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["Interval", "bootstrap", "bootstrap_many"]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile bootstrap interval."""

    value: float
    low: float
    high: float
    std: float
    n_resamples: int

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high, "std": self.std}


def bootstrap(
    metric: Callable[..., float],
    *arrays,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap of ``metric(*arrays)``, resampling items (the first axis) with
    replacement. Resamples on which the metric is undefined (``nan``) are left out.

    Example:
        >>> bootstrap(auroc, y_true, y_score).low
    """
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("all arrays must have the same length")
    value = float(metric(*arrays))
    rng = np.random.default_rng(seed)
    stats = np.empty(n_resamples)
    for i in range(n_resamples):
        idx = rng.integers(0, n, size=n)
        stats[i] = metric(*(a[idx] for a in arrays))
    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return Interval(value, float("nan"), float("nan"), float("nan"), 0)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return Interval(value, float(low), float(high), float(stats.std(ddof=1)) if stats.size > 1 else 0.0, int(stats.size))


def bootstrap_many(
    metrics: Callable[[np.ndarray], Mapping[str, float]],
    n: int,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Interval]:
    """Percentile bootstrap of several metrics computed together: ``metrics(idx)`` evaluates
    every metric on the items ``idx`` (indices into ``n`` items, e.g. proteins whose residues are
    scored together). One resample serves all metrics, so a dict of metrics costs one pass.
    Resamples where a metric is ``nan`` are left out for that metric, as in :func:`bootstrap`.
    """
    value = {k: float(v) for k, v in metrics(np.arange(n)).items()}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in value}
    for _ in range(n_resamples):
        got = metrics(rng.integers(0, n, size=n))
        for k in value:
            draws[k].append(float(got[k]))
    alpha = (1 - confidence) / 2
    out = {}
    for k, v in value.items():
        stats = np.asarray(draws[k])
        stats = stats[~np.isnan(stats)]
        if stats.size == 0:
            out[k] = Interval(v, float("nan"), float("nan"), float("nan"), 0)
            continue
        low, high = np.quantile(stats, [alpha, 1 - alpha])
        out[k] = Interval(v, float(low), float(high), float(stats.std(ddof=1)) if stats.size > 1 else 0.0, int(stats.size))
    return out
