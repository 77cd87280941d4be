"""Metrics as pure numpy functions (cross-checked against scikit-learn in the tests).

Conventions: ``y_true`` holds labels (0/1 for binary, ints for multi-class, a 0/1 matrix for
multi-label), ``y_score`` holds probabilities or any monotone score. A metric that is undefined
on the given data (auROC with one class present) is ``nan``, never an exception.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Bool, Float, Int, Integer, Real

__all__ = [
    "accuracy", "auprc", "auroc", "average_precision", "average_precision_columns", "binary_metrics", "confusion_matrix",
    "fmax", "hits_at_k", "macro_f1", "matthews_corrcoef", "mrr", "multiclass_metrics",
    "multilabel_metrics", "pearson", "per_residue_metrics", "rankdata", "regression_metrics",
    "rmse", "spearman",
]


def _binary_counts(y_true, y_pred) -> tuple[int, int, int, int]:
    y_true, y_pred = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    tp = int(np.sum(y_true & y_pred))
    fp = int(np.sum(~y_true & y_pred))
    fn = int(np.sum(y_true & ~y_pred))
    tn = int(np.sum(~y_true & ~y_pred))
    return tp, fp, fn, tn


def _div(a: float | int, b: float | int) -> float:
    return float(a / b) if b else 0.0


def accuracy(y_true, y_pred) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean(y_true == y_pred)) if y_true.size else float("nan")


def matthews_corrcoef(y_true, y_pred) -> float:
    """Matthews correlation of binary labels (0 when a margin is empty, as scikit-learn)."""
    tp, fp, fn, tn = _binary_counts(y_true, y_pred)
    denom = np.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / denom) if denom else 0.0


def rankdata(x: Real[np.ndarray, " N"]) -> Float[np.ndarray, " N"]:
    """Ranks 1..N with ties given their average rank (``scipy.stats.rankdata`` 'average')."""
    x = np.asarray(x)
    order = np.argsort(x)
    sorted_x = x[order]
    starts = np.r_[True, sorted_x[1:] != sorted_x[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], len(x)] - 1
    avg = (first + last) / 2.0 + 1.0
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = avg[group]
    return ranks


def auroc(y_true, y_score) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties)."""
    y_true = np.asarray(y_true).astype(bool)
    n_pos, n_neg = int(y_true.sum()), int((~y_true).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(np.asarray(y_score, dtype=np.float64))
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y_true, y_score) -> float:
    """Average precision, ``sum_n (R_n - R_{n-1}) P_n`` over distinct thresholds (scikit-learn's
    definition, without interpolation); ``nan`` without positives."""
    y_true = np.asarray(y_true).astype(bool)
    if not y_true.any():
        return float("nan")
    y_score = np.asarray(y_score, dtype=np.float64)
    order = np.argsort(-y_score)
    s, t = y_score[order], y_true[order]
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    tps = np.cumsum(t)[last_of_tie]
    fps = np.cumsum(~t)[last_of_tie]
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


auprc = average_precision


def _tie_counts(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative true and false positives at each distinct score, highest first."""
    y_true = np.asarray(y_true).astype(bool)
    y_score = np.asarray(y_score, dtype=np.float64)
    order = np.argsort(-y_score, kind="stable")
    s, t = y_score[order], y_true[order]
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    return np.cumsum(t)[last_of_tie], np.cumsum(~t)[last_of_tie]


def roc_curve(y_true, y_score) -> tuple[Float[np.ndarray, " T"], Float[np.ndarray, " T"]]:
    """``(false positive rate, true positive rate)`` at every distinct threshold, from (0, 0) to
    (1, 1); its trapezoid area is :func:`auroc`. Needs both classes."""
    tps, fps = _tie_counts(y_true, y_score)
    if tps[-1] == 0 or fps[-1] == 0:
        raise ValueError("a ROC curve needs both positives and negatives")
    return np.r_[0.0, fps / fps[-1]], np.r_[0.0, tps / tps[-1]]


def pr_curve(y_true, y_score) -> tuple[Float[np.ndarray, " T"], Float[np.ndarray, " T"]]:
    """``(recall, precision)`` at every distinct threshold, highest first, starting at recall 0
    with the first threshold's precision (the step curve whose area is :func:`average_precision`)."""
    tps, fps = _tie_counts(y_true, y_score)
    if tps[-1] == 0:
        raise ValueError("a precision-recall curve needs positives")
    precision = tps / (tps + fps)
    return np.r_[0.0, tps / tps[-1]], np.r_[precision[0], precision]


def binary_metrics(y_true, y_prob, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, precision, recall, F1 and MCC at ``threshold``; auROC and auPRC."""
    y_true = np.asarray(y_true).astype(int)
    y_pred = (np.asarray(y_prob) >= threshold).astype(int)
    tp, fp, fn, _ = _binary_counts(y_true, y_pred)
    precision, recall = _div(tp, tp + fp), _div(tp, tp + fn)
    return {
        "accuracy": accuracy(y_true, y_pred),
        "precision": precision,
        "recall": recall,
        "f1": _div(2 * precision * recall, precision + recall),
        "mcc": matthews_corrcoef(y_true, y_pred),
        "auroc": auroc(y_true, y_prob),
        "auprc": average_precision(y_true, y_prob),
    }


def confusion_matrix(y_true, y_pred, n_classes: int) -> Int[np.ndarray, "C C"]:
    """``C[i, j]`` = number of items of true class ``i`` predicted as ``j``."""
    out = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(out, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return out


def macro_f1(y_true, y_pred, n_classes: int | None = None) -> float:
    """Unweighted mean of per-class F1 over the classes present in ``y_true`` or ``y_pred``
    (scikit-learn's ``f1_score(average='macro')``)."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    n = n_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    cm = confusion_matrix(y_true, y_pred, n)
    present = (cm.sum(0) + cm.sum(1)) > 0
    tp = np.diag(cm).astype(float)
    denom = cm.sum(0) + cm.sum(1)
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return float(f1[present].mean()) if present.any() else float("nan")


def multiclass_metrics(y_true, y_prob: Float[np.ndarray, "N C"]) -> dict[str, float]:
    """Accuracy, macro-F1 and macro one-vs-rest auROC of class probabilities."""
    y_true = np.asarray(y_true, int)
    y_prob = np.asarray(y_prob)
    y_pred = y_prob.argmax(-1)
    aucs = [auroc(y_true == c, y_prob[:, c]) for c in range(y_prob.shape[1])]
    return {
        "accuracy": accuracy(y_true, y_pred),
        "macro_f1": macro_f1(y_true, y_pred, y_prob.shape[1]),
        "auroc_ovr": float(np.nanmean(aucs)) if not np.all(np.isnan(aucs)) else float("nan"),
    }


def fmax(y_true: Integer[np.ndarray, "N L"] | Bool[np.ndarray, "N L"], y_score: Float[np.ndarray, "N L"], thresholds=None) -> tuple[float, float]:
    """CAFA protein-centric Fmax and the threshold reaching it.

    At each threshold t, precision is averaged over proteins with at least one score >= t, recall
    over proteins with at least one true label (Radivojac et al. 2013). Vectorised: each score is
    binned once among the thresholds, so the cost is O(N L + N T), not O(N L T).
    """
    y_true = np.asarray(y_true).astype(bool)
    y_score = np.asarray(y_score, dtype=np.float64)
    has_label = y_true.any(1)
    if not has_label.any():
        return float("nan"), float("nan")
    y_true, y_score = y_true[has_label], y_score[has_label]
    thresholds = np.sort(np.linspace(0.01, 1.0, 100) if thresholds is None else np.asarray(thresholds, np.float64))
    n, k = len(y_score), len(thresholds)
    # bins[i, j] = number of thresholds <= score: the score is predicted at thresholds[:bins]
    bins = np.searchsorted(thresholds, y_score, side="right")
    rows = np.repeat(np.arange(n), y_score.shape[1]) * (k + 1) + bins.ravel()
    hist_pred = np.bincount(rows, minlength=n * (k + 1)).reshape(n, k + 1)
    hist_tp = np.bincount(rows, weights=y_true.ravel(), minlength=n * (k + 1)).reshape(n, k + 1)
    # predicted at threshold q <=> bins > q: counts are reverse cumulative sums over bins q+1..k
    n_pred = np.cumsum(hist_pred[:, ::-1], axis=1)[:, ::-1][:, 1:]
    tp = np.cumsum(hist_tp[:, ::-1], axis=1)[:, ::-1][:, 1:]
    covered = n_pred > 0
    n_covered = covered.sum(0)
    precision = np.divide(np.where(covered, tp / np.maximum(n_pred, 1), 0.0).sum(0), n_covered,
                          out=np.zeros(k), where=n_covered > 0)
    recall = (tp / y_true.sum(1, keepdims=True)).mean(0)
    f = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    f[n_covered == 0] = 0.0
    best = int(np.argmax(f))
    return (float(f[best]), float(thresholds[best])) if f[best] > 0 else (0.0, float(thresholds[0]))


def average_precision_columns(y_true, y_score) -> Float[np.ndarray, " L"]:
    """:func:`average_precision` of every column at once (``nan`` for columns without positives)."""
    y_true = np.asarray(y_true).astype(bool)
    y_score = np.asarray(y_score, dtype=np.float64)
    n = len(y_score)
    order = np.argsort(-y_score, axis=0)
    s = np.take_along_axis(y_score, order, 0)
    t = np.take_along_axis(y_true, order, 0)
    tps, fps = np.cumsum(t, 0), np.cumsum(~t, 0)
    precision = tps / np.maximum(tps + fps, 1)
    last_of_tie = np.ones_like(t)
    last_of_tie[:-1] = s[1:] != s[:-1]
    # every item of a tie group takes the precision at the group's end
    ends = np.where(last_of_tie, np.arange(n)[:, None], n - 1)
    group_end = np.minimum.accumulate(ends[::-1], axis=0)[::-1]
    prec_at_end = np.take_along_axis(precision, group_end, 0)
    positives = t.sum(0)
    return np.divide((t * prec_at_end).sum(0), positives, out=np.full(t.shape[1], np.nan), where=positives > 0)


def multilabel_metrics(y_true: Integer[np.ndarray, "N L"] | Bool[np.ndarray, "N L"], y_score: Float[np.ndarray, "N L"], threshold: float = 0.5) -> dict[str, float]:
    """Multi-label metrics, per protein, per label and pooled.

    * ``protein_precision/recall/f1``: example-based averages at ``threshold`` (each protein's
      precision, recall, F1, then the mean; scikit-learn ``average='samples'``);
    * ``protein_auprc``: mean over proteins (with a positive label) of the protein's AP;
    * ``macro_auprc``: mean over labels (with a positive protein) of the label's AP;
    * ``micro_auprc``: AP of all (protein, label) pairs pooled;
    * ``fmax``: CAFA protein-centric Fmax.
    """
    y_true = np.asarray(y_true).astype(bool)
    y_score = np.asarray(y_score, dtype=np.float64)
    pred = y_score >= threshold
    tp = (pred & y_true).sum(1)
    p = np.divide(tp, pred.sum(1), out=np.zeros(len(tp)), where=pred.sum(1) > 0)
    r = np.divide(tp, y_true.sum(1), out=np.zeros(len(tp)), where=y_true.sum(1) > 0)
    f = np.divide(2 * tp, pred.sum(1) + y_true.sum(1), out=np.zeros(len(tp)), where=(pred.sum(1) + y_true.sum(1)) > 0)
    per_protein = average_precision_columns(y_true.T, y_score.T)
    per_protein = per_protein[~np.isnan(per_protein)]
    per_label = average_precision_columns(y_true, y_score)
    per_label = per_label[~np.isnan(per_label)]
    return {
        "protein_precision": float(p.mean()),
        "protein_recall": float(r.mean()),
        "protein_f1": float(f.mean()),
        "protein_auprc": float(np.mean(per_protein)) if per_protein.size else float("nan"),
        "macro_auprc": float(np.mean(per_label)) if per_label.size else float("nan"),
        "micro_auprc": average_precision(y_true.ravel(), y_score.ravel()),
        "fmax": fmax(y_true, y_score)[0],
    }


def pearson(x, y) -> float:
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    xc, yc = x - x.mean(), y - y.mean()
    denom = np.sqrt((xc**2).sum() * (yc**2).sum())
    return float((xc * yc).sum() / denom) if denom else float("nan")


def spearman(x, y) -> float:
    """Spearman's rho: Pearson correlation of average ranks."""
    return pearson(rankdata(x), rankdata(y))


def rmse(y_true, y_pred) -> float:
    return float(np.sqrt(np.mean((np.asarray(y_true, np.float64) - np.asarray(y_pred, np.float64)) ** 2)))


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    ss_tot = float(((y_true - y_true.mean()) ** 2).sum())
    return {
        "spearman": spearman(y_true, y_pred),
        "pearson": pearson(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "mae": float(np.mean(np.abs(y_true - y_pred))),
        "r2": 1.0 - float(((y_true - y_pred) ** 2).sum()) / ss_tot if ss_tot else float("nan"),
    }


def per_residue_metrics(y_true: list[np.ndarray], y_pred: list[np.ndarray], masks: list[np.ndarray] | None = None) -> dict[str, float]:
    """Per-residue classification: ``q3`` (accuracy over all scored residues, e.g. 3-state
    secondary structure) and ``q3_per_protein`` (mean of each protein's accuracy)."""
    masks = masks or [np.ones(len(t), bool) for t in y_true]
    hits = [np.asarray(t)[m] == np.asarray(p)[m] for t, p, m in zip(y_true, y_pred, masks, strict=True)]
    hits = [h for h in hits if h.size]
    if not hits:
        return {"q3": float("nan"), "q3_per_protein": float("nan")}
    return {"q3": float(np.concatenate(hits).mean()), "q3_per_protein": float(np.mean([h.mean() for h in hits]))}


def hits_at_k(pos_scores, neg_scores, k: int) -> float:
    """Hits@K as OGB defines it for link prediction: the fraction of positive edges scored
    strictly above the K-th highest negative score (1.0 when there are fewer than K negatives)."""
    pos_scores, neg_scores = np.asarray(pos_scores), np.asarray(neg_scores)
    if len(neg_scores) < k:
        return 1.0
    kth = np.partition(neg_scores, -k)[-k]
    return float(np.mean(pos_scores > kth))


def mrr(pos_scores, neg_scores) -> float:
    """Mean reciprocal rank of each positive among the shared negatives (ties count half)."""
    pos_scores = np.asarray(pos_scores, np.float64)
    neg = np.sort(np.asarray(neg_scores, np.float64))
    above = len(neg) - np.searchsorted(neg, pos_scores, side="right")
    ties = np.searchsorted(neg, pos_scores, side="right") - np.searchsorted(neg, pos_scores, side="left")
    return float(np.mean(1.0 / (1.0 + above + ties / 2.0)))
