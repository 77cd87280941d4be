"""Fine-tuning ESM2 and UniRep: the prepared module computes the encoder's own states, only the
chosen layers train, and a fine-tuned run saves, reloads and predicts (tiny real-layout weights)."""

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
from biolens.proteins.supervised import HeadConfig, RunConfig, load_predictor, run_task
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
    sol = load_task("solubility", sample_path("solubility"))
    rows = "".join(f"{seq[:40]},{label}\n" for seq, label in zip(sol.sequences[:24], sol.labels[:24]))
    (tmp_path / "short.csv").write_text("sequence,label\n" + rows)  # N-terminal 40 residues: one length bucket
    data = load_task("binary", tmp_path / "short.csv")
    enc = _esm2()
    config = RunConfig(train=TrainConfig(max_epochs=2, batch_size=8, learning_rate=1e-3, patience=None),
                       head=HeadConfig(kind="mlp", hidden=8), finetune=True, finetune_last=1, baselines=False, size_curve=())
    res = run_task(data, enc, "mlp", out_dir=tmp_path / "ft", config=config)
    assert np.isfinite(res.metrics["auroc"]["value"])
    predictor = load_predictor(tmp_path / "ft", encoder=enc)
    tuned = predictor.model.encoder.joined()
    np.testing.assert_array_equal(tuned.layers.attn.qkv.weight[0], enc.model.layers.attn.qkv.weight[0])
    assert not np.array_equal(tuned.layers.attn.qkv.weight[1], enc.model.layers.attn.qkv.weight[1])
    p = predictor.predict(data.sequences[:3])
    assert p.shape[0] == 3 and np.all((p >= 0) & (p <= 1))
