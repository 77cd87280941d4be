"""Platt/temperature scaling, decision thresholds and reliability curves on hand-derived cases."""

import math

import numpy as np
import pytest

from biolens.core.calibration import (
    BinaryCalibration,
    choose_threshold,
    expected_calibration_error,
    fit_calibration,
    fit_platt,
    fit_temperature,
    reliability_curve,
    sigmoid,
)
from biolens.core.errors import InputError


def _scores(z):
    return sigmoid(np.asarray(z, float))


def test_platt_and_temperature_closed_forms():
    # logits +1 (3 of 4 positive) and -1 (1 of 4 positive): the MLE is b = 0, a = logit(3/4) = ln 3
    z = [1, 1, 1, 1, -1, -1, -1, -1]
    y = [1, 1, 1, 0, 1, 0, 0, 0]
    a, b = fit_platt(y, _scores(z), ridge=0.0)
    assert a == pytest.approx(math.log(3), abs=1e-6) and b == pytest.approx(0.0, abs=1e-6)
    assert fit_temperature(y, _scores(z), ridge=0.0) == pytest.approx(1 / math.log(3), abs=1e-6)
    # at -1 half are positive: sigmoid(a + b) = 3/4 and sigmoid(-a + b) = 1/2, so a = b = ln(3) / 2
    y2 = [1, 1, 1, 0, 1, 1, 0, 0]
    a, b = fit_platt(y2, _scores(z), ridge=0.0)
    assert a == pytest.approx(math.log(3) / 2, abs=1e-6) and b == pytest.approx(math.log(3) / 2, abs=1e-6)


def test_platt_converges_on_overconfident_scores():
    # logits +-12, and only 3 of 5 right at each: the MLE is b = 0, a = logit(3/5) / 12. A full Newton
    # step from (1, 0) overshoots here and plain Newton runs away (a ~ 1e6, every score 0 or 1).
    z = [12] * 5 + [-12] * 5
    y = [1, 1, 1, 0, 0, 1, 1, 0, 0, 0]
    a, b = fit_platt(y, _scores(z), ridge=0.0)
    assert a == pytest.approx(math.log(1.5) / 12, abs=1e-6) and b == pytest.approx(0.0, abs=1e-6)
    cal = fit_calibration(y, _scores(z))
    assert len(np.unique(np.round(cal.apply(_scores(z)), 6))) == 2 and 0.39 < cal.apply(_scores([-12]))[0] < 0.41


def test_threshold_rules_hand_counted():
    y = [0, 0, 0, 0, 1, 1]
    p = [0.1, 0.2, 0.3, 0.6, 0.5, 0.9]
    # cut 0.4 (between 0.3 and 0.5): TP 2, FP 1, TN 3 -> balanced accuracy 0.875, MCC 6/sqrt(72);
    # every other cut scores lower on both (0.75: BA 0.75; 0.25: BA 0.75; 0.55: BA 0.625)
    assert choose_threshold(y, p, "balanced_accuracy") == pytest.approx(0.4)
    assert choose_threshold(y, p, "mcc") == pytest.approx(0.4)
    assert choose_threshold(y, p, "fixed") == 0.5
    # a tie (cuts 0.225 and 0.6 both reach BA 0.75) goes to the cut nearer 0.5
    assert choose_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.6)
    # a model that scores every positive low still gets a cut that separates them
    assert choose_threshold([0, 0, 1, 1], [0.01, 0.02, 0.1, 0.2]) == pytest.approx(0.06)
    with pytest.raises(InputError, match="unknown threshold rule"):
        choose_threshold(y, p, "f1")


def test_reliability_curve_and_ece():
    y = [0, 1, 1, 1, 0]
    p = [0.05, 0.15, 0.95, 0.92, 0.99]
    curve = reliability_curve(y, p, bins=10)
    assert [(c["low"], c["count"]) for c in curve] == [(0.0, 1), (0.1, 1), (0.9, 3)]
    assert curve[2]["mean_p"] == pytest.approx(0.953333, abs=1e-6) and curve[2]["fraction_positive"] == pytest.approx(2 / 3)
    # 1/5 * 0.05 + 1/5 * 0.85 + 3/5 * |0.95333 - 0.66667|
    assert expected_calibration_error(y, p) == pytest.approx(0.2 * 0.05 + 0.2 * 0.85 + 0.6 * (0.953333 - 2 / 3), abs=1e-6)
    assert reliability_curve([1], [1.0], bins=4)[0]["high"] == 1.0  # p = 1 lands in the last bin


def test_fit_calibration_maps_then_thresholds():
    rng = np.random.default_rng(0)
    z = rng.normal(size=400)
    y = (rng.random(400) < sigmoid(2 * z - 1)).astype(int)  # the scores are under-confident and shifted
    cal = fit_calibration(y, sigmoid(z), method="platt")
    assert cal.a == pytest.approx(2, abs=0.5) and cal.b == pytest.approx(-1, abs=0.4) and cal.rule == "balanced_accuracy"
    calibrated = cal.apply(sigmoid(z))
    assert expected_calibration_error(y, calibrated) < expected_calibration_error(y, sigmoid(z))
    assert cal.threshold == choose_threshold(y, calibrated, "balanced_accuracy")
    assert np.array_equal(cal.labels(calibrated), (calibrated >= cal.threshold).astype(int))
    assert BinaryCalibration.from_json(cal.to_json()) == cal
    temp = fit_calibration(y, sigmoid(z), method="temperature", rule="mcc")
    assert temp.b == 0.0 and np.array_equal(np.argsort(temp.apply(sigmoid(z))), np.argsort(z))
    # one class only: nothing to fit, the identity and 0.5
    assert fit_calibration([1, 1], [0.2, 0.7]) == BinaryCalibration(n_valid=2)
    assert np.array_equal(BinaryCalibration.from_json(None).apply([0.3]), [0.3])
    with pytest.raises(InputError, match="as many labels as scores"):
        fit_calibration([1, 0], [0.5])
