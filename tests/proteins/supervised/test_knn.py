"""Annotation transfer: nearest neighbours against brute force, the knn head in a task run."""

from __future__ import annotations

import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.proteins.supervised import KNNHead, nearest_neighbours, transfer_annotations

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_neighbours_match_brute_force(metric):
    refs, queries = RNG.normal(size=(50, 8)), RNG.normal(size=(7, 8))
    idx, dist = nearest_neighbours(queries, refs, k=4, metric=metric)
    if metric == "cosine":
        unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
        full = 1 - unit(queries) @ unit(refs).T
    else:
        full = np.linalg.norm(queries[:, None] - refs[None], axis=-1)
    want = np.argsort(full, axis=1, kind="stable")[:, :4]
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_allclose(dist, np.take_along_axis(full, want, 1), atol=1e-5)
    assert (np.diff(dist, axis=1) >= 0).all()


def test_transfer_votes_and_reports_distances():
    refs = np.array([[0.0, 1.0], [0.0, 1.1], [1.0, 0.0], [1.1, 0.0], [1.2, 0.1]])
    labels = ["up", "up", "right", "right", "right"]
    out = transfer_annotations(np.array([[0.05, 1.0], [1.0, 0.02]]), refs, labels, k=3, metric="euclidean")
    assert [o["prediction"] for o in out] == ["up", "right"]
    assert out[0]["support"] == pytest.approx(2 / 3) and out[1]["support"] == 1.0
    assert out[0]["neighbours"][0][:2] == (0, "up") and out[0]["neighbours"][0][2] == pytest.approx(0.05, abs=1e-6)
    with pytest.raises(InputError, match="k must be between 1 and"):
        transfer_annotations(refs, refs, labels, k=9)
    with pytest.raises(InputError, match="unknown distance"):
        nearest_neighbours(refs, refs, k=1, metric="manhattan")


def test_knn_head_outputs():
    from biolens.proteins.supervised import HeadConfig

    x = np.array([[0.0, 1.0], [0.0, 1.1], [1.0, 0.0], [1.1, 0.0]])
    head = KNNHead.fit(x, np.eye(2)[[0, 0, 1, 1]], HeadConfig(kind="knn", k=2, metric="euclidean"), "multiclass")
    p = np.exp(np.asarray(head(np.array([0.1, 1.0]))))
    assert p.argmax() == 0 and p[0] > 0.99
    reg = KNNHead.fit(x, np.array([[1.0], [3.0], [10.0], [20.0]]), HeadConfig(kind="knn", k=2), "regression")
    assert float(reg(np.array([0.0, 2.0]))[0]) == pytest.approx(2.0)
    few = KNNHead.fit(x[:2], np.eye(2)[[0, 1]], HeadConfig(kind="knn", k=5), "multiclass")
    assert few.k == 2  # capped at the references there are


def test_knn_head_in_a_task_run(tmp_path):
    from biolens.data import sample_path
    from biolens.proteins.supervised import HeadConfig, RunConfig, load_predictor, run_task
    from biolens.proteins.tasks import load_task

    data = load_task("localization", sample_path("deeploc"))
    config = RunConfig(bootstrap=20, size_curve=(), baselines=False)
    result = run_task(data, "composition", HeadConfig(kind="knn", k=3), out_dir=tmp_path / "run", config=config)
    assert result.head == "knn" and {"accuracy", "macro_f1"} <= set(result.metrics)
    predictor = load_predictor(tmp_path / "run")
    assert predictor.model.head.references.shape[0] == result.counts["train"]
    probs = predictor.predict(data.sequences[:5])
    assert probs.shape == (5, len(data.task.label_names)) and np.allclose(probs.sum(1), 1.0, atol=1e-5)
    # the head's vote is transfer_annotations on the standardised features
    x = predictor.model
    feats = np.stack([predictor.encoder.features(s) for s in data.sequences[:5]])
    z = (feats - np.asarray(x.shift)) / np.asarray(x.scale)
    refs = np.asarray(x.head.references)
    labels = [str(i) for i in np.asarray(x.head.targets).argmax(1)]
    votes = transfer_annotations(z, refs, labels, k=3)
    for p, v in zip(probs, votes):
        assert p.max() == pytest.approx(v["support"], abs=0.01)
