import numpy as np
import pytest

from biolens.core.bootstrap import bootstrap
from biolens.core.metrics import accuracy, auroc


def test_interval_contains_point_and_is_reproducible():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    s = rng.random(400) + 0.5 * y
    a = bootstrap(auroc, y, s, n_resamples=300, seed=1)
    b = bootstrap(auroc, y, s, n_resamples=300, seed=1)
    assert a == b and a.low < a.value < a.high and 0 < a.std < 0.05


def test_interval_width_shrinks_like_one_over_sqrt_n():
    rng = np.random.default_rng(0)
    widths = []
    for n in (100, 1600):
        y = rng.integers(0, 2, n)
        widths.append(bootstrap(accuracy, y, np.ones(n, int), n_resamples=400).std)
    assert widths[0] / widths[1] == pytest.approx(4, rel=0.25)


def test_undefined_resamples_are_dropped():
    y = np.array([1] + [0] * 4)
    s = np.linspace(0, 1, 5)
    iv = bootstrap(auroc, y, s, n_resamples=200)
    assert 0 < iv.n_resamples < 200


def test_bootstrap_many_matches_single_metric_bootstrap():
    from biolens.core.bootstrap import bootstrap, bootstrap_many
    from biolens.core.metrics import accuracy, auroc

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 150)
    s = rng.random(150) + 0.3 * y
    many = bootstrap_many(lambda i: {"auroc": auroc(y[i], s[i]), "acc": accuracy(y[i], s[i] > 0.6)}, 150,
                          n_resamples=300, seed=4)
    one = bootstrap(auroc, y, s, n_resamples=300, seed=4)  # same generator, same resamples
    assert many["auroc"].value == one.value and many["auroc"].low == one.low and many["auroc"].high == one.high
    assert many["acc"].low <= many["acc"].value <= many["acc"].high
