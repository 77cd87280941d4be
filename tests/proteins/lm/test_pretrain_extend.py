"""Issue 20, finding 7: a finished pretraining run asked for more steps continues from its last state (at
the schedule's final learning rate, recorded), resumes exactly when killed, and its HF folder has a
tokenizer transformers loads."""

import json
import shutil

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from biolens.cli import main
from biolens.core.errors import RunMismatchError
from biolens.core.train import TrainConfig, make_optimizer
from biolens.proteins.encoders.esm2 import tokenize
from biolens.proteins.lm import _pretrain as P

RNG = np.random.default_rng(1)
MOTIFS = ["MKTAYIAKQRQISFVKSHFSRQ", "GSSGSSGEELLKKAEELLKRLG", "WDWDWDHPHPHPCCNNCCNN"]
CORPUS = ["".join(MOTIFS[(i + j) % 3] + "".join(RNG.choice(list("ACDEFGHIKLMNPQRSTVWY"), 2)) for j in range(2))
          for i in range(40)]
#: The CLI's settings of a tiny run (the Python API gets the same as TINY).
CLI = ["--size", "tiny", "--layers", "1", "--hidden", "16", "--heads", "2", "--ffn", "32", "--token-budget", "512",
       "--crop", "60", "--eval-every", "4", "--lr", "1e-2", "--valid-fraction", "0.1"]
TINY = dict(preset="tiny", layers=1, hidden=16, heads=2, ffn=32, token_budget=512, crop=60, eval_every=4,
            learning_rate=1e-2, valid_fraction=0.1)


def _leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(model, eqx.is_array))]


def test_past_its_planned_end_the_schedule_holds_its_final_learning_rate():
    config = TrainConfig(learning_rate=1.0, min_lr_ratio=0.1, warmup=2, optimizer="adam", grad_clip=None)
    planned = optax.warmup_cosine_decay_schedule(0.0, 1.0, 2, 10, 0.1)
    opt = make_optimizer(TrainConfig(**{**config.__dict__, "extend_from": 10}), 16)
    params, state, steps = jnp.zeros(()), None, []
    state = opt.init(params)
    for _ in range(16):  # Adam with a constant gradient moves by the learning rate each step
        update, state = opt.update(jnp.ones(()), state, params)
        steps.append(-float(update))
    np.testing.assert_allclose(steps[:10], [float(planned(i)) for i in range(10)], atol=1e-5)
    np.testing.assert_allclose(steps[10:], 0.1, atol=1e-5)


class Crash(Exception):
    pass


@pytest.fixture(scope="module")
def extended(tmp_path_factory):
    """A 6-step run (kept as ``six``) extended to 12 steps, both through the CLI."""
    root = tmp_path_factory.mktemp("extend")
    (root / "corpus.fasta").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(CORPUS)))
    assert main(["pretrain", str(root / "corpus.fasta"), "--out", str(root / "run"), *CLI, "--steps", "6"]) == 0
    shutil.copytree(root / "run", root / "six")
    assert main(["pretrain", str(root / "corpus.fasta"), "--out", str(root / "run"), *CLI, "--steps", "12"]) == 0
    return root, P.pretrain(CORPUS, root / "run", P.PretrainConfig(steps=12, **TINY))  # reused: the same run


def test_more_steps_continue_a_finished_run_and_say_so(extended, capsys):
    root, more = extended
    assert more.steps == 12 and more.extended_from == 6
    saved = json.loads((root / "run/config.json").read_text())
    assert saved["settings"]["pretrain"]["steps"] == 6 and saved["settings"]["extended_to"] == 12
    assert json.loads((root / "run/result.json").read_text())["resumed_from"] == 6
    val_steps = [r["step"] for r in more.history if r["split"] == "val"]
    assert val_steps == [4, 6, 8, 12]  # one log, continued after step 6 (its last evaluation)
    assert "planned 6, then continued" in (root / "run/report.html").read_text()
    capsys.readouterr()
    assert main(["pretrain", str(root / "corpus.fasta"), "--out", str(root / "run"), *CLI, "--steps", "12"]) == 0
    assert "12 steps; planned for 6, the steps after it ran at the schedule's final" in capsys.readouterr().err
    with pytest.raises(RunMismatchError, match="extended to 12 steps; --steps 9 cannot shorten it"):
        P.pretrain(CORPUS, root / "run", P.PretrainConfig(steps=9, **TINY))
    with pytest.raises(RunMismatchError, match=r"settings\.extended_to: 12 → \(absent\)"):
        P.pretrain(CORPUS, root / "run", P.PretrainConfig(steps=6, **TINY))
    with pytest.raises(RunMismatchError, match=r"settings\.pretrain\.learning_rate"):  # other settings still refused
        P.pretrain(CORPUS, root / "run", P.PretrainConfig(steps=20, **{**TINY, "learning_rate": 5e-3}))


def test_a_killed_extension_resumes_to_the_same_state_and_must_finish_first(extended, tmp_path, monkeypatch):
    root, more = extended
    shutil.copytree(root / "six", tmp_path / "run")
    tokens, calls = P.CorpusBatches._tokens, {"n": 0}

    def crashing(self, rows, length):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash
        return tokens(self, rows, length)

    monkeypatch.setattr(P.CorpusBatches, "_tokens", crashing)
    with pytest.raises(Crash):
        P.pretrain(CORPUS, tmp_path / "run", P.PretrainConfig(steps=12, **TINY))
    monkeypatch.setattr(P.CorpusBatches, "_tokens", tokens)
    with pytest.raises(RunMismatchError, match="unfinished run of 12 steps: finish it first"):
        P.pretrain(CORPUS, tmp_path / "run", P.PretrainConfig(steps=15, **TINY))
    resumed = P.pretrain(CORPUS, tmp_path / "run", P.PretrainConfig(steps=12, **TINY))
    assert resumed.steps == 12 and resumed.resumed_from == 6  # no checkpoint of the extension yet: from its start
    for a, b in zip(_leaves(more.model), _leaves(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_the_checkpoint_has_a_tokenizer_transformers_loads(extended):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    root, _ = extended
    folder = root / "run/checkpoint"
    assert {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json"} <= {p.name for p in folder.iterdir()}
    tok = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    assert tok("MKVLAG")["input_ids"] == tokenize(["MKVLAG"])[0].tolist()
