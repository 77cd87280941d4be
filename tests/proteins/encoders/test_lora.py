"""LoRA adapters on the tiny ESM2: exact at initialisation, only adapters (and the head) train,
a saved LoRA run reloads and predicts the same, and --encoder-lr reaches the adapters."""

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
from biolens.proteins.encoders import LoRAConfig
from biolens.proteins.encoders.esm2 import ESM2Encoder
from biolens.proteins.supervised import HeadConfig, RunConfig, load_predictor, run_task
from biolens.proteins.tasks import load_task

DATA = Path(__file__).resolve().parents[2] / "data"
SEQS = ["MKTAYIAKQRQISFVKSHFSRQ", "MSEQ", "GAVLIWWPK"]


@pytest.fixture(scope="module")
def enc():
    return ESM2Encoder.from_folder(DATA / "esm2_tiny", name="esm2-tiny")


def _batch(enc):
    return {k: jnp.asarray(v) for k, v in enc.tokenize(SEQS, 4, 24).items()}


@pytest.mark.parametrize("targets", ["qv", "all"])
def test_lora_at_init_gives_the_frozen_encoders_states_exactly(enc, targets):
    frozen, _ = enc.finetune(enc.module, 0)
    adapted, _ = enc.lora(enc.module, LoRAConfig(rank=4, targets=targets), key=jax.random.PRNGKey(1))
    want, mask = enc.apply(frozen, _batch(enc))
    got, mask2 = enc.apply(adapted, _batch(enc))
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    np.testing.assert_array_equal(np.asarray(mask), np.asarray(mask2))


def test_a_gradient_step_moves_only_the_adapters(enc):
    module, filt = enc.lora(enc.module, LoRAConfig(rank=4), key=jax.random.PRNGKey(1))
    params, static = eqx.partition(module, filt)
    assert len(jax.tree.leaves(params)) == 2  # a and b of the fused Q|K|V projection's adapter
    batch = _batch(enc)

    def loss(p):
        states, mask = enc.apply(eqx.combine(p, static), batch, key=jax.random.PRNGKey(0))  # training path (remat)
        return jnp.sum(jnp.where(mask[..., None], states, 0.0) ** 2)

    grads = jax.grad(loss)(params)
    stepped = eqx.combine(jax.tree.map(lambda p, g: p - 0.1 * g, params, grads), static)
    qkv_before, qkv_after = module.base.layers.attn.qkv, stepped.base.layers.attn.qkv
    assert not np.array_equal(qkv_before.b, qkv_after.b)  # B leaves zero
    np.testing.assert_array_equal(qkv_before.base.weight, qkv_after.base.weight)
    frozen_before = [x for x in jax.tree.leaves(eqx.filter(module, filt, inverse=True)) if eqx.is_array(x)]
    frozen_after = [x for x in jax.tree.leaves(eqx.filter(stepped, filt, inverse=True)) if eqx.is_array(x)]
    for a, b in zip(frozen_before, frozen_after, strict=True):
        np.testing.assert_array_equal(a, b)
    # the adapted states now differ from the frozen encoder's
    frozen, _ = enc.finetune(enc.module, 0)
    assert not np.allclose(np.asarray(enc.apply(stepped, batch)[0]), np.asarray(enc.apply(frozen, batch)[0]))


def _short_data(tmp_path):
    sol = load_task("solubility", sample_path("solubility"))
    rows = "".join(f"{seq[:40]},{label}\n" for seq, label in zip(sol.sequences[:24], sol.labels[:24]))
    (tmp_path / "short.csv").write_text("sequence,label\n" + rows)
    return load_task("binary", tmp_path / "short.csv")


def _config(**kw):
    return RunConfig(train=TrainConfig(max_epochs=2, batch_size=8, learning_rate=1e-2, patience=None),
                     head=HeadConfig(kind="mlp", hidden=8), finetune=True, finetune_method="lora",
                     lora=LoRAConfig(rank=2), baselines=False, size_curve=(), **kw)


def test_lora_run_saves_reloads_and_predicts_the_same(enc, tmp_path):
    data = _short_data(tmp_path)
    run_task(data, enc, "mlp", out_dir=tmp_path / "lora", config=_config())
    predictor = load_predictor(tmp_path / "lora", encoder=enc)
    b = predictor.model.encoder.base.layers.attn.qkv.b
    assert np.abs(np.asarray(b)).max() > 0  # trained adapters were saved and read back
    np.testing.assert_array_equal(predictor.model.encoder.base.layers.attn.qkv.base.weight,
                                  enc.model.layers.attn.qkv.weight)  # the encoder's weights are untouched
    p1 = predictor.predict(data.sequences[:5], cache=False)
    p2 = load_predictor(tmp_path / "lora", encoder=enc).predict(data.sequences[:5], cache=False)
    np.testing.assert_array_equal(p1, p2)
    assert np.all((p1 >= 0) & (p1 <= 1))


def test_encoder_lr_scales_the_adapters_updates(enc, tmp_path):
    data = _short_data(tmp_path)
    run_task(data, enc, "mlp", out_dir=tmp_path / "zero", config=_config(encoder_lr=0.0))
    frozen = load_predictor(tmp_path / "zero", encoder=enc).model.encoder.base.layers.attn.qkv.b
    np.testing.assert_array_equal(np.asarray(frozen), 0.0)  # a zero encoder rate leaves B at zero


def test_lora_refuses_finetune_last(enc, tmp_path):
    with pytest.raises(InputError, match="finetune-last"):
        run_task(_short_data(tmp_path), enc, "mlp", config=replace(_config(), finetune_last=1))


@pytest.mark.parametrize(("args", "want"), [(["--finetune", "--epochs", "2"], "full"), (["--finetune", "lora"], "lora"),
                                            (["--finetune", "full"], "full"), ([], None)])
def test_cli_finetune_takes_an_optional_method(args, want):
    from biolens.cli.proteins import train_command

    ctx = train_command.make_context("train", ["--data", "x", "-o", "y", *args])
    assert ctx.params["finetune"] == want
