"""Fine-tuning ESM2 and UniRep: the prepared module computes the encoder's own states, only the
chosen layers train, and a fine-tuned run saves, reloads and predicts (tiny real-layout weights)."""

import csv
import json
from dataclasses import replace
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.core.train import TrainConfig
from biolens.data import sample_path
from biolens.proteins.encoders import DifferentiableEncoder
from biolens.proteins.encoders.esm2 import ESM2Encoder
from biolens.proteins.encoders.unirep import UniRepEncoder
from biolens.proteins.supervised import (
    Features,
    HeadConfig,
    RunConfig,
    load_predictor,
    make_batches,
    run_task,
)
from biolens.proteins.tasks import load_task

DATA = Path(__file__).resolve().parents[2] / "data"
SEQS = ["MKTAYIAKQRQISFVKSHFSRQ", "MSEQ", "GAVLIWWPK"]


def _esm2():
    return ESM2Encoder.from_folder(DATA / "esm2_tiny", name="esm2-tiny")


def _unirep():
    return UniRepEncoder("unirep-tiny", DATA / "unirep_tiny_weights.npz")


ENCODERS = {"esm2": _esm2, "unirep": _unirep}


def _states(enc, module, rows=4, length=24):
    states, mask = enc.apply(module, {k: jnp.asarray(v) for k, v in enc.tokenize(SEQS, rows, length).items()})
    return np.asarray(states), np.asarray(mask)


@pytest.mark.parametrize("name", list(ENCODERS))
@pytest.mark.parametrize("last", [None, 1])
def test_prepared_module_computes_the_encoders_states(name, last):
    enc = ENCODERS[name]()
    assert isinstance(enc, DifferentiableEncoder)
    module, _ = enc.finetune(enc.module, last)
    states, mask = _states(enc, module)
    ref = enc.encode_batch(SEQS, 4, 24)
    for i, seq in enumerate(SEQS):
        got = states[i][mask[i]]
        want = ref.states[i][ref.residue_mask[i]]
        assert got.shape == (len(seq), enc.width)
        np.testing.assert_allclose(got, want, atol=2e-5, rtol=1e-4)


def _trained_leaves(enc, last):
    """(changed, unchanged) parameter counts after one gradient step on the trainable part."""
    module, filt = enc.finetune(enc.module, last)
    params, static = eqx.partition(module, filt)
    batch = {k: jnp.asarray(v) for k, v in enc.tokenize(SEQS, 4, 24).items()}

    def loss(p):
        states, mask = enc.apply(eqx.combine(p, static), batch)
        return jnp.sum(jnp.where(mask[..., None], states, 0.0) ** 2)

    grads = jax.grad(loss)(params)
    stepped = eqx.combine(jax.tree.map(lambda p, g: p - 0.1 * g, params, grads), static)
    return module, stepped


def test_esm2_last_layer_only():
    enc = _esm2()
    module, stepped = _trained_leaves(enc, 1)
    before, after = module.joined(), stepped.joined()
    assert module.base.lm_head is None
    np.testing.assert_array_equal(before.embed, after.embed)
    np.testing.assert_array_equal(before.layers.attn.qkv.weight[0], after.layers.attn.qkv.weight[0])
    assert not np.array_equal(before.layers.attn.qkv.weight[1], after.layers.attn.qkv.weight[1])
    assert not np.array_equal(before.final_norm.weight, after.final_norm.weight)


def test_unirep_last_cell_only():
    enc = _unirep()
    n = enc.cells
    module, stepped = _trained_leaves(enc, 1)
    before, after = module.joined(), stepped.joined()
    np.testing.assert_array_equal(before.embedding, after.embedding)
    np.testing.assert_array_equal(before.first.wmh, after.first.wmh)
    np.testing.assert_array_equal(before.rest.wmh[: n - 2], after.rest.wmh[: n - 2])
    assert not np.array_equal(before.rest.wmh[n - 2], after.rest.wmh[n - 2])
    _, filt = enc.finetune(enc.module, None)  # everything: embedding, raw weights and weight-norm gains
    assert all(jax.tree.leaves(filt.base.embedding)) and all(jax.tree.leaves(filt.base.first))
    assert all(jax.tree.leaves(filt.tuned)) and not any(jax.tree.leaves(filt.base.rest))  # the stack trains via `tuned`


def test_negative_last_is_refused():
    with pytest.raises(InputError, match="finetune_last must be >= 0"):
        _esm2().finetune(_esm2().module, -1)


def test_finetuned_esm2_run_saves_reloads_and_predicts(tmp_path):
    """Also: the pooled states are standardised with the training proteins' statistics under the
    initial encoder (saved with the run), and finetune_head_epochs trains the head alone first (LP-FT)."""
    sol = load_task("solubility", sample_path("solubility"))
    rows = "".join(f"{seq[:40]},{label}\n" for seq, label in zip(sol.sequences[:24], sol.labels[:24]))
    (tmp_path / "short.csv").write_text("sequence,label\n" + rows)  # N-terminal 40 residues: one length bucket
    data = load_task("binary", tmp_path / "short.csv")
    enc = _esm2()
    config = RunConfig(train=TrainConfig(max_epochs=2, batch_size=8, learning_rate=1e-3, patience=None),
                       head=HeadConfig(kind="mlp", hidden=8), finetune=True, finetune_last=1, finetune_head_epochs=2,
                       baselines=False, size_curve=())
    res = run_task(data, enc, "mlp", out_dir=tmp_path / "ft", config=config)
    assert np.isfinite(res.metrics["auroc"]["value"])
    with (tmp_path / "ft" / "split.csv").open() as fh:
        train = [i for i, row in enumerate(csv.DictReader(fh)) if row["split"] == "train"]
    head_log = (tmp_path / "ft" / "train" / "head" / "metrics.jsonl").read_text().splitlines()
    assert max(json.loads(line)["step"] for line in head_log) == 2 * -(-len(train) // 8)  # 2 epochs, 8 a batch
    predictor = load_predictor(tmp_path / "ft", encoder=enc)
    tuned = predictor.model.encoder.joined()
    np.testing.assert_array_equal(tuned.layers.attn.qkv.weight[0], enc.model.layers.attn.qkv.weight[0])
    assert not np.array_equal(tuned.layers.attn.qkv.weight[1], enc.model.layers.attn.qkv.weight[1])
    batch = {k: jnp.asarray(v) for k, v in enc.tokenize([data.sequences[i] for i in train], len(train), 40).items()}
    states, mask = enc.apply(enc.finetune(enc.module, None)[0], batch)
    pooled = np.asarray((states * mask[..., None]).sum(1) / mask.sum(1)[:, None])
    np.testing.assert_allclose(predictor.model.shift, pooled.mean(0), atol=1e-5)  # the initial encoder's statistics
    np.testing.assert_allclose(predictor.model.scale, pooled.std(0), rtol=1e-4)
    with (tmp_path / "ft" / "predictions.csv").open() as fh:
        table = list(csv.DictReader(fh))
    column = [k for k in table[0] if k.startswith("p_")][-1]  # P(positive)
    saved = [float(row[column]) for row in table]
    p = predictor.predict(data.sequences)
    assert p.shape[0] == len(data) and np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p, saved, atol=1e-5)  # the reloaded model (shift and scale too) predicts as the run did


def test_finetune_training_batches_are_cropped_windows_in_one_shape():
    """Per-protein fine-tuning trains on windows of at most finetune_crop residues, all batches in one
    shape (one compile of the training step), windows redrawn per epoch; prediction batches keep whole proteins."""
    data = load_task("solubility", sample_path("solubility"))  # 52..1,486 residues
    enc, idx = _esm2(), np.arange(len(data))
    config = RunConfig(finetune=True, finetune_crop=128)
    train = make_batches(data, idx, Features(), enc, config, None, shuffle=True)
    first = list(train.epoch(0))
    assert {b["inputs"]["tokens"].shape for b in first} == {(32, 130)}  # 32 windows of <= 128 residues + cls/eos
    assert sum(int(b["w"].sum()) for b in first) == len(data)
    again, other = list(train.epoch(0)), list(train.epoch(1))
    assert all(np.array_equal(a["inputs"]["tokens"], b["inputs"]["tokens"]) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a["inputs"]["tokens"], b["inputs"]["tokens"]) for a, b in zip(first, other, strict=True))
    whole = make_batches(data, idx, Features(), enc, config, None, shuffle=False)
    assert max(b["inputs"]["tokens"].shape[1] for _, b in whole.ordered()) >= max(map(len, data.sequences)) + 2
    uncropped = make_batches(data, idx, Features(), enc, replace(config, finetune_crop=None), None, shuffle=True)
    assert len({b["inputs"]["tokens"].shape for b in uncropped.epoch(0)}) >= 5
