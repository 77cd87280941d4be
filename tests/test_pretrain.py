"""Pretraining a masked LM: masking, the loss going down, resuming to the same state, mlm:RUN."""

from __future__ import annotations

import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.errors import InputError, RunMismatchError
from biolens.proteins import pretrain as P
from biolens.proteins.esm2_io import CLS, EOS, MASK, PAD, tokenize

RNG = np.random.default_rng(0)
MOTIFS = ["MKTAYIAKQRQISFVKSHFSRQ", "GSSGSSGEELLKKAEELLKRLG", "WDWDWDHPHPHPCCNNCCNN"]
#: A learnable corpus: repeated motifs with a few random letters between them.
CORPUS = ["".join(MOTIFS[(i + j) % 3] + "".join(RNG.choice(list("ACDEFGHIKLMNPQRSTVWY"), 2)) for j in range(2))
          for i in range(40)]
TINY = dict(preset="tiny", layers=1, hidden=16, heads=2, ffn=32, token_budget=512, crop=60, learning_rate=1e-2,
            eval_every=4, checkpoint_every=3, log_every=2, valid_fraction=0.1)


def test_masking_follows_bert():
    tokens = jnp.asarray(tokenize(["ACDEFGHIKLMNPQRSTVWY" * 40] * 8, length=820))
    inputs, chosen = P.mask_tokens(tokens, jax.random.PRNGKey(0), 0.15)
    residue = np.asarray(tokens) > 3
    chosen, inputs = np.asarray(chosen), np.asarray(inputs)
    assert not chosen[~residue].any()
    assert abs(chosen[residue].mean() - 0.15) < 0.01
    masked = (inputs == MASK)[chosen].mean()
    kept = (inputs == np.asarray(tokens))[chosen].mean()
    assert abs(masked - 0.8) < 0.03 and 0.08 < kept < 0.13  # 10% kept + random letters equal by chance
    assert (inputs[~chosen] == np.asarray(tokens)[~chosen]).all()
    assert set(np.unique(inputs[:, 0])) == {CLS} and EOS in inputs and PAD not in inputs[:, :801]


def test_split_is_deduplicated_and_order_free():
    seqs = ["AAAK", "CCCK", "DDDK", "AAAK", "EEEK"] * 2
    train, valid, dropped = P.split_corpus(seqs, valid_fraction=0.25, valid_max=10, seed=0)
    assert dropped == 6 and len(train) + len(valid) == 4 and len(valid) == 1
    again = P.split_corpus(list(reversed(seqs)), valid_fraction=0.25, valid_max=10, seed=0)
    assert set(again[0]) == set(train) and again[1] == valid
    with pytest.raises(InputError, match="too few"):
        P.split_corpus(["AK"], valid_fraction=1.0, valid_max=10, seed=0)


def _leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(model, eqx.is_array))]


class Crash(Exception):
    pass


CONFIG = P.PretrainConfig(steps=9, **TINY)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """9 steps without interruption."""
    return P.pretrain(CORPUS, tmp_path_factory.mktemp("pretrain") / "a", CONFIG)


def test_pretraining_lowers_the_loss_and_resumes_to_the_same_state(tmp_path, monkeypatch, straight):
    config = CONFIG
    val = [r for r in straight.history if r["split"] == "val"]
    assert val[-1]["loss"] < val[0]["loss"] - 0.1
    assert straight.metrics["perplexity"] == pytest.approx(np.exp(straight.metrics["loss"]))
    assert 0 < straight.metrics["accuracy"] <= 1 and straight.metrics["masked"] > 0
    # kill at the 5th batch (the last checkpoint is step 3), then run the same command again
    tokens, calls = P.CorpusBatches._tokens, {"n": 0}

    def crashing(self, rows, length):
        calls["n"] += 1
        if calls["n"] == 5:
            raise Crash
        return tokens(self, rows, length)

    monkeypatch.setattr(P.CorpusBatches, "_tokens", crashing)
    with pytest.raises(Crash):
        P.pretrain(CORPUS, tmp_path / "b", config)
    monkeypatch.setattr(P.CorpusBatches, "_tokens", tokens)
    resumed = P.pretrain(CORPUS, tmp_path / "b", config)
    assert resumed.resumed_from == 3 and resumed.steps == 9
    for x, y in zip(_leaves(straight.model), _leaves(resumed.model)):
        np.testing.assert_allclose(x, y, atol=1e-6)
    saved = json.loads((tmp_path / "b" / "result.json").read_text())
    assert saved["metrics"]["loss"] == pytest.approx(straight.metrics["loss"], abs=1e-6)
    assert P.PretrainResult.from_json(saved).steps == 9 and "model" not in saved
    assert (tmp_path / "b" / "curves.png").stat().st_size > 0 and "<img" in (tmp_path / "b" / "report.html").read_text()
    # a finished run is returned with its model
    again = P.pretrain(CORPUS, tmp_path / "b", config)
    assert again.steps == 9 and all(np.array_equal(x, y) for x, y in zip(_leaves(again.model), _leaves(resumed.model)))
    # another corpus into the same folder is refused
    with pytest.raises(RunMismatchError, match=r"data\.digest: .*data\.train: "):
        P.pretrain(CORPUS[:-3], tmp_path / "b", config)
    with pytest.raises(RunMismatchError, match=r"settings\.pretrain\.steps: 9 → 10"):
        P.pretrain(CORPUS, tmp_path / "b", P.PretrainConfig(steps=10, **TINY))


def test_a_run_is_an_encoder(tmp_path, straight):
    from biolens.proteins.embed import embed_sequences
    from biolens.proteins.encoders.registry import get_encoder

    run = straight
    enc = get_encoder(f"mlm:{run.out_dir}")
    assert enc.name == f"mlm:{Path(run.out_dir).resolve()}" and enc.width == 16
    x, _ = embed_sequences(["MKTAYIAKQR", "GSSGSSGEEL"], enc, pooling="mean")
    assert np.stack(x).shape == (2, 16)
    logits = run.model(jnp.asarray(tokenize(["MKTAYIAKQR"])[0])).logits
    assert np.allclose(enc.model(jnp.asarray(tokenize(["MKTAYIAKQR"])[0])).logits, logits, atol=1e-6)
    with pytest.raises(Exception, match="is not a folder"):
        get_encoder(f"mlm:{tmp_path / 'nothing'}")


def test_the_shipped_model_resolves_offline():
    from biolens.proteins.encoders.mlm import resolve_run
    from biolens.proteins.encoders.registry import availability, get_encoder

    folder, name = resolve_run("small")
    assert name == "mlm:small" and (folder / "model.safetensors").is_file()
    enc = get_encoder("mlm:small")
    assert enc.width == 128 and enc.model.config.num_layers == 4 and enc.model.lm_head is not None
    assert "shipped: mlm:small" in availability("mlm")[1]


@pytest.mark.parametrize("args, message", [
    (["--lr", "-1"], "--lr -1.0 is out of range (it must be > 0)"),
    (["--lr", "nan"], "--lr nan is out of range"),
    (["--crop", "0"], "--crop 0 is out of range (it must be >= 1)"),
    (["--steps", "0"], "--steps 0 is out of range"),
    (["--valid-fraction", "1.5"], "--valid-fraction 1.5 is out of range (it must be >= 0 and < 1)"),
])
def test_pretrain_options_out_of_range_are_refused_before_training(tmp_path, write, capsys, args, message):
    from biolens.cli import main

    corpus = write("c.fasta", "".join(f">s{i}\n{s}\n" for i, s in enumerate(CORPUS)))
    assert main(["pretrain", str(corpus), "--out", str(tmp_path / "run"), "--size", "tiny", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not (tmp_path / "run").exists()


def test_corpus_too_small_for_its_validation_split_is_named(tmp_path, write, capsys):
    from biolens.cli import main

    one = write("one.fasta", ">s0\nMKTAYIAKQRQISFVKSHFSRQ\n")
    assert main(["pretrain", str(one), "--out", str(tmp_path / "run"), "--size", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "the corpus has 1 distinct sequence(s): --valid-fraction 0.05 holds out none (it needs at least 10)" in err
    args = ["--size", "tiny", "--layers", "1", "--hidden", "16", "--heads", "2", "--ffn", "32", "--steps", "2"]
    assert main(["pretrain", str(one), "--out", str(tmp_path / "novalid"), "--valid-fraction", "0", *args]) == 0
    assert "no held-out set (--valid-fraction 0)" in capsys.readouterr().err  # was a KeyError after writing
    assert (tmp_path / "novalid" / "checkpoint" / "model.safetensors").exists()
