import numpy as np
import pytest

from biolens.data import sample_path
from biolens.proteins.supervised import baselines, metrics_with_intervals, task_metrics
from biolens.proteins.tasks import Task, load_task


def test_binary_baselines_on_the_solubility_sample():
    d = load_task("solubility", sample_path("solubility"))
    tr, te = np.arange(300), np.arange(300, 400)
    b = baselines(d.task, ([d.sequences[i] for i in tr], d.labels[tr]), ([d.sequences[i] for i in te], d.labels[te]),
                  n_draws=200, n_resamples=50)
    prevalence = d.labels[te].mean()
    coin = b["coin_flip"]["metrics"]
    # expected values of a fair coin: accuracy 1/2, precision = prevalence, recall 1/2, MCC 0
    assert coin["accuracy"]["value"] == pytest.approx(0.5, abs=0.02)
    assert coin["precision"]["value"] == pytest.approx(prevalence, abs=0.02)
    assert coin["recall"]["value"] == pytest.approx(0.5, abs=0.02) and abs(coin["mcc"]["value"]) < 0.03
    assert coin["accuracy"]["low"] < 0.5 < coin["accuracy"]["high"]
    assert b["majority"]["metrics"]["accuracy"]["value"] == pytest.approx(1 - prevalence)  # most are insoluble
    # the composition baseline is scikit-learn's logistic regression on standardised composition
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from biolens.proteins.encoders.onehot import CompositionEncoder

    enc = CompositionEncoder()
    x = np.stack([enc.features(s) for s in d.sequences])
    ref = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x[tr], d.labels[tr])
    want = task_metrics("binary", d.labels[te], ref.predict_proba(x[te])[:, 1])["auroc"]
    assert b["composition"]["metrics"]["auroc"]["value"] == pytest.approx(want)


def test_residue_identity_baseline_is_the_per_amino_acid_state_table():
    task = Task(name="ss", kind="per_residue", label_names=("H", "E", "C"))
    train = (["AAAC", "CCA"], [np.array([0, 0, 1, 2]), np.array([2, 2, 0])])
    test = (["AC"], [np.array([0, 2])])
    b = baselines(task, train, test, [np.ones(2, bool)], n_draws=5, n_resamples=5)
    # A: H 3 times, E once (+1 smoothing each) -> argmax H; C: C 3 times -> argmax C: both right
    assert b["composition"]["metrics"]["q3"]["value"] == 1.0
    assert b["majority"]["metrics"]["q3"]["value"] == 0.5  # the majority state (C, 4 of 7) is right on one residue


def test_intervals_cover_the_value_and_per_protein_resampling():
    y = [np.array([0, 1, 2, 2]), np.array([1, 1]), np.array([2])]
    p = [np.eye(3)[t] for t in y]
    got = metrics_with_intervals("per_residue", y, p, None, n_resamples=30)
    assert got["q3"] == {"value": 1.0, "low": 1.0, "high": 1.0, "std": 0.0}
    rng = np.random.default_rng(0)
    yb = rng.integers(0, 2, 200)
    sb = rng.random(200) + 0.5 * yb
    m = metrics_with_intervals("binary", yb, sb / sb.max(), n_resamples=100)
    assert all(v["low"] <= v["value"] <= v["high"] for v in m.values())


def test_report_heat_map_picks_the_most_common_labels_of_uint8_matrices():
    from biolens.proteins.supervised import _report as report  # its private figure helpers

    task = Task(name="ec", kind="multilabel", label_names=tuple(f"L{i}" for i in range(30)))
    y = np.zeros((50, 30), np.uint8)
    y[:, 7] = 1  # the most common label
    y[::2, 3] = 1
    fig = report._heatmaps(task, y, np.random.default_rng(0).random((50, 30)))
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks[:2] == ["L7", "L3"] and fig.axes[0].images[0].get_array().shape == (40, 20)
    names, values, what = report._per_label(task, y, y.astype(float))  # perfect predictions
    assert sorted(names) == ["L3 (n=25)", "L7 (n=50)"] and values == [1.0, 1.0] and ">= 1 test proteins" in what


def test_paired_delta_cancels_what_two_predictions_share():
    from biolens.proteins.supervised import paired_delta

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 150)
    a = rng.random(150) + 0.4 * y  # a fair score
    b = a + rng.normal(0, 0.05, 150) - 0.1 * y  # the same score, a little worse
    d = paired_delta("binary", y, a, b, metric="auroc", n_resamples=200)
    assert d["value"] == pytest.approx(task_metrics("binary", y, a)["auroc"] - task_metrics("binary", y, b)["auroc"])
    assert 0 < d["low"] <= d["value"] <= d["high"]
    # paired: the delta's interval is narrower than either model's own interval
    ia = metrics_with_intervals("binary", y, a, n_resamples=200)["auroc"]
    assert d["high"] - d["low"] < 0.5 * (ia["high"] - ia["low"])
    assert paired_delta("binary", y, a, a, metric="auroc", n_resamples=50) == {"value": 0.0, "low": 0.0, "high": 0.0,
                                                                                 "std": 0.0}


def test_baselines_with_model_predictions_get_paired_deltas():
    d = load_task("solubility", sample_path("solubility"))
    tr, te = np.arange(300), np.arange(300, 400)
    y = d.labels[te]
    model = y + np.random.default_rng(0).normal(0, 0.8, len(te))
    b = baselines(d.task, ([d.sequences[i] for i in tr], d.labels[tr]), ([d.sequences[i] for i in te], y),
                  n_draws=10, n_resamples=50, model_pred=model)
    want = task_metrics("binary", y, model)["auroc"] - b["composition"]["metrics"]["auroc"]["value"]
    assert b["composition"]["delta"]["value"] == pytest.approx(want)
    assert "delta" in b["majority"] and "delta" not in b["coin_flip"]  # simulated baselines have no paired delta
