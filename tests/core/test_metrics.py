import numpy as np
import pytest
from sklearn import metrics as skm

from biolens.core import metrics as M

RNG = np.random.default_rng(0)


def binary_case(n=300, ties=False):
    y = RNG.integers(0, 2, n)
    s = RNG.random(n) + 0.4 * y
    if ties:
        s = np.round(s, 1)
    return y, s


@pytest.mark.parametrize("ties", [False, True])
def test_binary_metrics_match_sklearn(ties):
    y, s = binary_case(ties=ties)
    got = M.binary_metrics(y, s, threshold=0.7)
    pred = (s >= 0.7).astype(int)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert got["mcc"] == pytest.approx(skm.matthews_corrcoef(y, pred))
    assert got["auroc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert got["auprc"] == pytest.approx(skm.average_precision_score(y, s))


def test_hand_worked_binary_cases():
    # 2 positives ranked 1st and 3rd of 4: AP = (1/2)(1/1) + (1/2)(2/3); AUC = 3/4
    y, s = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    assert M.average_precision(y, s) == pytest.approx(0.5 + 1 / 3)
    assert M.auroc(y, s) == pytest.approx(0.75)
    assert np.isnan(M.auroc([1, 1], [0.2, 0.3]))
    assert M.matthews_corrcoef([1, 1, 0], [1, 1, 1]) == 0.0


def test_multiclass_and_confusion():
    y = RNG.integers(0, 4, 200)
    p = RNG.dirichlet(np.ones(4), 200) + np.eye(4)[y] * 0.3
    pred = p.argmax(1)
    got = M.multiclass_metrics(y, p)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert got["auroc_ovr"] == pytest.approx(skm.roc_auc_score(y, p / p.sum(1, keepdims=True), multi_class="ovr"))
    assert np.array_equal(M.confusion_matrix(y, pred, 4), skm.confusion_matrix(y, pred, labels=range(4)))


def test_multilabel_matches_sklearn_definitions():
    Y = (RNG.random((80, 12)) < 0.2).astype(int)
    Y[0] = 0  # a protein without labels
    S = np.clip(RNG.random((80, 12)) * 0.6 + Y * 0.35, 0, 1)
    got = M.multilabel_metrics(Y, S)
    P = (S >= 0.5).astype(int)
    assert got["protein_precision"] == pytest.approx(skm.precision_score(Y, P, average="samples", zero_division=0))
    assert got["protein_recall"] == pytest.approx(skm.recall_score(Y, P, average="samples", zero_division=0))
    assert got["protein_f1"] == pytest.approx(skm.f1_score(Y, P, average="samples", zero_division=0))
    keep = Y.sum(0) > 0
    assert got["macro_auprc"] == pytest.approx(skm.average_precision_score(Y[:, keep], S[:, keep], average="macro"))
    assert got["micro_auprc"] == pytest.approx(skm.average_precision_score(Y, S, average="micro"))
    rows = Y.sum(1) > 0
    assert got["protein_auprc"] == pytest.approx(skm.average_precision_score(Y[rows], S[rows], average="samples"))


def test_fmax_hand_worked():
    # protein A: true {0}, protein B: true {1}; at t=0.5 A predicts {0}, B predicts {0, 1}
    Y = np.array([[1, 0], [0, 1]])
    S = np.array([[0.9, 0.1], [0.6, 0.55]])
    f, t = M.fmax(Y, S, thresholds=[0.5, 0.7])
    # t=0.5: precision mean(1, 1/2) = .75, recall 1 -> F = 6/7; t=0.7: precision 1 (only A covered), recall .5 -> 2/3
    assert f == pytest.approx(6 / 7) and t == 0.5


def test_regression_metrics():
    x = RNG.normal(size=100)
    y = x + RNG.normal(size=100) * 0.5
    got = M.regression_metrics(x, y)
    from scipy import stats

    assert got["spearman"] == pytest.approx(stats.spearmanr(x, y).statistic)
    assert got["pearson"] == pytest.approx(stats.pearsonr(x, y).statistic)
    assert got["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(x, y)))
    assert got["r2"] == pytest.approx(skm.r2_score(x, y))
    ties = np.array([1, 2, 2, 3])
    assert M.rankdata(ties).tolist() == [1, 2.5, 2.5, 4]


def test_per_residue_q3_with_masks():
    t = [np.array([0, 1, 2, 2]), np.array([1, 1])]
    p = [np.array([0, 1, 0, 0]), np.array([1, 0])]
    m = [np.array([1, 1, 1, 0], bool), np.array([1, 1], bool)]
    got = M.per_residue_metrics(t, p, m)
    assert got["q3"] == pytest.approx(3 / 5) and got["q3_per_protein"] == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_hits_at_k_ogb_definition():
    neg = np.array([0.9, 0.8, 0.7, 0.1])
    pos = np.array([0.95, 0.85, 0.8, 0.5])
    # K=2: 2nd highest negative is 0.8; strictly above -> 0.95, 0.85
    assert M.hits_at_k(pos, neg, 2) == 0.5
    assert M.hits_at_k(pos, neg, 1) == 0.25
    assert M.hits_at_k(pos, neg[:1], 2) == 1.0


def test_mrr_shared_negatives():
    assert M.mrr([1.0], [0.1, 0.2]) == 1.0
    assert M.mrr([0.15], [0.1, 0.2]) == 0.5
    assert M.mrr([0.2], [0.2]) == pytest.approx(1 / 1.5)


def _fmax_loop(Y, S, thresholds):
    keep = Y.any(1)
    Y, S, best, best_t = Y[keep].astype(bool), S[keep], 0.0, thresholds[0]
    for t in thresholds:
        pred = S >= t
        covered = pred.sum(1) > 0
        if not covered.any():
            continue
        tp = (pred & Y).sum(1)
        p = np.mean(tp[covered] / pred.sum(1)[covered])
        r = np.mean(tp / Y.sum(1))
        f = 2 * p * r / (p + r) if p + r else 0.0
        if f > best:
            best, best_t = f, t
    return best, best_t


def test_vectorised_fmax_and_ap_match_plain_loops():
    Y = (RNG.random((60, 30)) < 0.1).astype(int)
    Y[np.arange(60), RNG.integers(0, 30, 60)] = 1
    S = np.round(np.clip(RNG.random((60, 30)) * 0.7 + Y * 0.3, 0, 1), 2)  # rounding makes ties
    thresholds = np.linspace(0.01, 1.0, 100)
    assert M.fmax(Y, S) == pytest.approx(_fmax_loop(Y, S, thresholds))
    cols = M.average_precision_columns(Y, S)
    assert np.allclose(cols, [M.average_precision(Y[:, j], S[:, j]) for j in range(30)])
    assert np.allclose(cols, [skm.average_precision_score(Y[:, j], S[:, j]) for j in range(30)])
    assert np.isnan(M.average_precision_columns(np.zeros((4, 1)), np.ones((4, 1))))[0]


def test_roc_and_pr_curves_hand_worked_and_match_the_areas():
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.7, 0.1])
    fpr, tpr = M.roc_curve(y, s)  # thresholds 0.9, 0.8, 0.7, 0.1
    assert fpr.tolist() == [0, 0, 0.5, 0.5, 1] and tpr.tolist() == [0, 0.5, 0.5, 1, 1]
    assert np.trapezoid(tpr, fpr) == pytest.approx(M.auroc(y, s)) == pytest.approx(0.75)
    recall, precision = M.pr_curve(y, s)
    assert recall.tolist() == [0, 0.5, 0.5, 1, 1] and precision.tolist() == pytest.approx([1, 1, 0.5, 2 / 3, 0.5])
    assert np.sum(np.diff(recall) * precision[1:]) == pytest.approx(M.average_precision(y, s))
    rng = np.random.default_rng(1)
    y, s = rng.integers(0, 2, 300), rng.normal(size=300).round(1)  # ties
    fpr, tpr = M.roc_curve(y, s)
    assert np.trapezoid(tpr, fpr) == pytest.approx(skm.roc_auc_score(y, s))
    with pytest.raises(ValueError, match="both"):
        M.roc_curve(np.ones(3), np.arange(3.0))
