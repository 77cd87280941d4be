"""The command line of the language-model tools: the pretrain -> mlm:RUN contract, mutations, probs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biolens.cli import main

TINY = Path(__file__).parent / "data" / "esm2_tiny"
WT = "MKTAYIAKQRQISFVKSHFSRQ"


def test_pretrain_then_embed_and_train_with_mlm(tmp_path, write):
    rng = np.random.default_rng(0)
    corpus = write("corpus.fasta", "".join(f">s{i}\n{''.join(rng.choice(list('ACDEFGHIKLMNPQRSTVWY'), 40))}\n"
                                           for i in range(30)))
    run = tmp_path / "run"
    args = ["pretrain", str(corpus), "--out", str(run), "--steps", "2", "--size", "tiny", "--layers", "1",
            "--hidden", "16", "--heads", "2", "--ffn", "32", "--token-budget", "512", "--eval-every", "2", "-q"]
    assert main(args) == 0
    assert (run / "checkpoint" / "config.json").is_file() and (run / "checkpoint" / "model.safetensors").is_file()
    assert main(args) == 0  # a finished run is returned, not trained again
    out = tmp_path / "emb.npz"
    assert main(["embed", str(corpus), "--encoder", f"mlm:{run}", "--out", str(out), "-q"]) == 0
    assert np.load(out)["embeddings"].shape == (30, 16)
    labelled = write("labelled.csv", "sequence,label\n" + "".join(
        f"{''.join(rng.choice(list('ACDEFGHIKLMNPQRSTVWY'), 30))},{i % 2}\n" for i in range(40)))
    assert main(["train", "--data", str(labelled), "--task", "binary", "--encoder", f"mlm:{run}",
                 "--head", "linear", "--epochs", "2", "--size-curve", "none", "--bootstrap", "10",
                 "--out", str(tmp_path / "sol"), "-q"]) == 0
    assert (tmp_path / "sol" / "result.json").is_file()


def test_mutations_command(tmp_path, write, capsys):
    variants = write("v.csv", "mutant,fitness\nM1A,0.5\nK2C:Y5F,0.1\nWT,1\n")
    out = tmp_path / "scores.csv"
    assert main(["mutations", "--encoder", f"esm2:{TINY}", "--sequence", WT, "--variants", str(variants),
                 "--out", str(out), "--dms", str(tmp_path / "dms.png"), "-q"]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "mutant,fitness,mutations,score" and lines[3].startswith("WT,1,WT,0")
    assert (tmp_path / "dms.png").stat().st_size > 0 and len((tmp_path / "dms.csv").read_text().splitlines()) == 23
    bad = write("bad.csv", "mutant\nM1A\nA2C\n")
    assert main(["mutations", "--encoder", f"esm2:{TINY}", "--sequence", WT, "--variants", str(bad),
                 "--out", str(out)]) == 2
    assert "bad.csv:3: row 2: A2C: the wild type has K at position 2, not A" in capsys.readouterr().err


def test_probs_command(tmp_path):
    out = tmp_path / "p.csv"
    assert main(["lm", "probs", "--encoder", f"esm2:{TINY}", "--sequence", WT, "--positions", "1,5",
                 "--out", str(out), "--figure", str(tmp_path / "p.png"), "-q"]) == 0
    rows = out.read_text().splitlines()
    assert len(rows) == 3 and rows[1].startswith("1,M,") and (tmp_path / "p.png").stat().st_size > 0
