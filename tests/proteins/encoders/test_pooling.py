"""The one pooling implementation: numpy (embedding driver) and JAX (fine-tuning) agree, padding
and special tokens never count, the width rule matches what pooling returns, and
``biolens train --finetune --pooling cls`` trains, saves and predicts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: the toy encoders

from biolens.cli import main
from biolens.core.errors import InputError
from biolens.data import sample_path
from biolens.proteins.encoders.pooling import (
    POOLINGS,
    check_finetune_pooling,
    pool,
    pool_states,
    pooled_width,
)
from biolens.proteins.tasks import load_task
from toy_encoders import ContextEncoder, DifferentiableToy

DATA = Path(__file__).resolve().parents[2] / "data"
SEQS = ["MKTAYIAKQRQ", "MSEQ", "GAVLIWWPKDE"]


@pytest.mark.parametrize("pooling", POOLINGS)
def test_numpy_and_jax_pooling_agree_and_ignore_padding(pooling):
    enc = ContextEncoder()
    batch = enc.encode_batch(SEQS, 4, 16)  # padding states are 99 on purpose
    got = pool(batch, pooling)
    assert got.shape == (4, pooled_width(enc, pooling))
    for i, seq in enumerate(SEQS):  # alone, unpadded: the same vector
        alone = pool(enc.encode_batch([seq], 1, len(seq)), pooling)[0]
        np.testing.assert_array_equal(got[i], alone)
    states, mask = jnp.asarray(batch.states), jnp.asarray(batch.residue_mask)
    cls = states[:, 0] if pooling == "cls" else None
    traced = jax.jit(lambda s, m, c: pool_states(s, m, pooling, c))(states, mask, cls)
    np.testing.assert_allclose(np.asarray(traced)[:3], got[:3], rtol=1e-6)
    one = pool_states(np.asarray(batch.states[1]), np.asarray(batch.residue_mask[1]), pooling, None if cls is None
                      else np.asarray(batch.states[1, 0]))  # one row (T, D), as a vmapped caller passes it
    np.testing.assert_array_equal(one, got[1])


def test_finetune_pooling_needs_a_cls_token_and_generic_poolings():
    toy = DifferentiableToy()
    check_finetune_pooling(toy, "mean+max")
    with pytest.raises(InputError, match="has no CLS token"):
        check_finetune_pooling(toy, "cls")
    toy.poolings = ("mean", "max", "mean+max", "fusion")
    with pytest.raises(InputError, match="cannot be fine-tuned"):
        check_finetune_pooling(toy, "fusion")


@pytest.mark.parametrize("pooling", ["cls", "mean+max"])
def test_train_finetune_with_pooling_trains_saves_and_predicts(pooling, tmp_path):
    sol = load_task("solubility", sample_path("solubility"))
    rows = "".join(f"{s[:30]},{y}\n" for s, y in zip(sol.sequences[:24], sol.labels[:24], strict=True))
    (tmp_path / "short.csv").write_text("sequence,label\n" + rows)
    run = tmp_path / "run"
    code = main(["train", "--data", str(tmp_path / "short.csv"), "--task", "binary", "--encoder",
                 f"esm2:{DATA / 'esm2_tiny'}", "--head", "linear", "--finetune", "--finetune-last", "1",
                 "--pooling", pooling, "--out", str(run), "--epochs", "2", "--batch-size", "8", "--bootstrap", "10",
                 "--size-curve", "none", "--cache", str(tmp_path / "c.sqlite"), "--quiet"])
    assert code == 0
    meta = json.loads((run / "checkpoint" / "meta.json").read_text())
    assert meta["pooling"] == pooling and meta["finetune"]
    assert json.loads((run / "metrics.json").read_text())["finished"]
    fasta = tmp_path / "new.fasta"
    fasta.write_text(">a\nMKVLAAGIVGLLLAQ\n>b\nMDEEKKRRSSTTPP\n")
    assert main(["predict", str(run), str(fasta), "--out", str(tmp_path / "p.csv"), "--quiet"]) == 0
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 3
