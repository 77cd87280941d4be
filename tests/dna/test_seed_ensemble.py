"""``biolens dna train --seeds N``: a seed ensemble (members in their own folders, the mean of their
logits), resumed member by member, and the motif check of ``dna train``."""

import json
import shutil

import jax
import numpy as np
import pytest

from biolens.cli import main
from biolens.data import resolve_input
from biolens.dna import (
    SeedEnsemble,
    init_model,
    label_arrays,
    load_model,
    model_config,
    predict_proba,
    read_tf_data,
)

TINY = ["--set", "conv_filters=8", "--set", "kernel_size=5", "--set", "dense_units=16", "--set", "heads=2",
        "--set", "transformer_hidden=8", "--max-steps", "12", "--eval-every", "6", "--quiet"]


def train_args(out, *extra):
    return ["dna", "train", "--train", "sample:ctcfl_train", "--out", str(out), *TINY, "--seeds", "2", *extra]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dna-ensemble") / "run"
    assert main(train_args(out)) == 0
    return out


def test_members_are_trained_from_consecutive_seeds_and_predict_as_their_mean_logit(run):
    result = json.loads((run / "result.json").read_text())
    assert [m["seed"] for m in result["members"]] == [0, 1]
    assert result["steps"] == 24 and result["best_step"] is None
    members = [load_model(run / "members" / f"seed-{s}") for s in (0, 1)]
    assert [m.meta["train_config"]["seed"] for m in members] == [0, 1]
    ensemble = load_model(run)
    assert isinstance(ensemble.model, SeedEnsemble) and len(ensemble.state) == 2
    x = label_arrays(read_tf_data(resolve_input("sample:ctcfl_test")), ("CTCFL",)).x[:64]
    logits = [predict_proba(m.model, m.state, x, output="logit") for m in members]
    assert np.abs(logits[0] - logits[1]).max() > 1e-3  # two different models
    np.testing.assert_allclose(predict_proba(ensemble.model, ensemble.state, x, output="logit"),
                               (logits[0] + logits[1]) / 2, rtol=1e-5, atol=1e-6)
    # the ensemble's validation score is its own, beside each member's
    assert set(result["validation"]) >= {"auroc", "loss"} and all(m["validation"]["auroc"] for m in result["members"])


def test_a_killed_ensemble_keeps_its_finished_members(run, tmp_path):
    cut = tmp_path / "cut"
    shutil.copytree(run, cut)
    # killed while the second member trained: no ensemble, no result, the second member's folder gone
    for f in ("result.json", "validation.json", "report.html"):
        (cut / f).unlink()
    shutil.rmtree(cut / "checkpoint")
    shutil.rmtree(cut / "members" / "seed-1")
    first_log = (cut / "members" / "seed-0" / "train" / "metrics.jsonl").read_text()
    assert main(train_args(cut)) == 0
    assert (cut / "members" / "seed-0" / "train" / "metrics.jsonl").read_text() == first_log  # not retrained
    again, before = json.loads((cut / "result.json").read_text()), json.loads((run / "result.json").read_text())
    assert again["members"] == before["members"] and again["validation"] == before["validation"]


def test_train_reports_whether_the_model_looks_at_a_known_motif(run):
    motif = json.loads((run / "result.json").read_text())["motif"]
    assert motif["n_positives"] == 32 and set(motif["rates"]) >= {"CTCF"}
    assert motif["verdict"] in (run / "report.html").read_text()


def test_an_ensemble_is_not_trained_as_one_model():
    config = model_config("cnn", seq_len=16)
    (a, sa), (b, sb) = init_model(config, 0), init_model(config, 1)
    ensemble = SeedEnsemble((a, b))
    x = jax.nn.one_hot(jax.random.randint(jax.random.PRNGKey(2), (16,), 0, 4), 4)
    logit, _ = ensemble(x, (sa, sb))
    np.testing.assert_allclose(logit, (a(x, sa)[0] + b(x, sb)[0]) / 2, rtol=1e-6)
    with pytest.raises(ValueError, match="not trained as one"):
        ensemble(x, (sa, sb), key=jax.random.PRNGKey(0))
