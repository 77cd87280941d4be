"""Both-strand models, the conv+BiGRU model and the training presets."""

import dataclasses

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.config import config_from_dict, config_to_dict
from biolens.dna import (
    DEFAULT_PRESET,
    MODELS,
    PRESETS,
    DnaRunConfig,
    forward,
    init_model,
    model_config,
    one_hot,
    preset,
    reverse_complement,
)

TINY = dict(seq_len=24, conv_filters=8, kernel_size=5, dense_units=16, heads=2, transformer_hidden=8)


def random_one_hot(n, length, seed):
    rng = np.random.default_rng(seed)
    return one_hot(["".join(rng.choice(list("ACGT"), size=length)) for _ in range(n)])


@pytest.mark.parametrize("name", ["cnn-bn", "conv-transformer", "conv-gru"])
def test_both_strands_predict_the_same_for_a_sequence_and_its_reverse_complement(name):
    x = jnp.asarray(random_one_hot(6, 24, 0))
    rc = x[:, ::-1, ::-1]
    config = model_config(name, strands="both", recurrent_units=4 if name == "conv-gru" else 0, **TINY)
    model, state = init_model(config)
    model = eqx.nn.inference_mode(model)
    np.testing.assert_allclose(forward(model, state, x)[0], forward(model, state, rc)[0], rtol=1e-6, atol=1e-6)
    # the same weights (same seed) read on one strand are not symmetric (so the check above can fail)
    one = eqx.nn.inference_mode(init_model(dataclasses.replace(config, strands="forward"))[0])
    assert not np.allclose(forward(one, state, x)[0], forward(one, state, rc)[0], atol=1e-4)
    # and the both-strand logit is the mean of the two one-strand logits
    mean = (forward(one, state, x)[0] + forward(one, state, rc)[0]) / 2
    np.testing.assert_allclose(forward(model, state, x)[0], mean, rtol=1e-5, atol=1e-6)


def test_reverse_complement_of_one_hot_matches_the_string_reverse_complement():
    seqs = ["ACGTTGCAAN", "GGGACGTNNA"]
    x = jnp.asarray(one_hot(seqs))
    from biolens.dna import reverse_complement_one_hot as revcomp

    np.testing.assert_array_equal(np.asarray(revcomp(x)), one_hot([reverse_complement(s) for s in seqs]))


def test_model_settings_are_checked():
    with pytest.raises(ValueError, match="strands"):
        model_config("cnn", strands="minus")
    with pytest.raises(ValueError, match="not both"):
        model_config("conv-transformer", recurrent_units=8)


def test_presets_are_complete_and_round_trip():
    assert DEFAULT_PRESET in PRESETS
    assert {"cnn", "cnn-bn", "conv-transformer"} <= set(PRESETS)
    families = [dataclasses.replace(m, strands="forward") for m in MODELS.values()]
    for name, config in PRESETS.items():
        assert isinstance(config, DnaRunConfig) and config.source, name
        assert dataclasses.replace(config.model, strands="forward") in families, name
        assert config.train.monitor == "auroc" and config.train.mode == "max" and config.train.max_steps, name
        assert config_from_dict(DnaRunConfig, config_to_dict(config)) == config, name
    assert PRESETS["conv-transformer-rc"].model.strands == "both"
    assert PRESETS["conv-gru-rc"].model.recurrent_units > 0
    sized = preset("cnn", seq_len=50, n_outputs=3)
    assert (sized.model.seq_len, sized.model.n_outputs) == (50, 3) and PRESETS["cnn"].model.seq_len == 101
    with pytest.raises(ValueError, match="unknown preset"):
        preset("resnet")


def test_cli_help_names_every_preset():
    from click.testing import CliRunner

    from biolens.cli import cli

    text = CliRunner().invoke(cli, ["dna", "train", "--help"], terminal_width=400).output
    assert all(name in text for name in PRESETS)


def test_bad_presets_and_settings_are_clear_errors(capsys):
    from biolens.cli import main

    base = ["dna", "train", "--train", "sample:ctcfl_train", "--out", "unused"]
    assert main([*base, "--preset", "rnn"]) == 2
    assert "not a preset; choose from" in capsys.readouterr().err
    assert main([*base, "--set", "strands=minus"]) == 2
    assert "strands must be one of" in capsys.readouterr().err
    assert main([*base, "--model", "conv-gru-rc", "--set", "transformer_blocks=1"]) == 2
    assert "not both" in capsys.readouterr().err
