"""ESM2: tokens, loading, parity with ``transformers`` (and a golden fixture without it), the encoder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.core.errors import InputError, MissingWeightsError
from biolens.proteins.embed import embed_sequences
from biolens.proteins.encoders import get_encoder
from biolens.proteins.encoders.esm2 import (
    ESM2,
    ESM_TOKENS,
    MASK,
    PAD,
    ESM2Config,
    ESM2Encoder,
    load_esm2,
    tokenize,
    weight_files,
)
from biolens.proteins.encoders.esm2 import _encoder as esm2_encoders  # monkeypatched

TINY = Path(__file__).resolve().parents[2] / "data" / "esm2_tiny"
RNG = np.random.default_rng(0)
AA = "ACDEFGHIKLMNPQRSTVWY"
ATOL = 1e-4


def random_seqs(n, lo, hi):
    return ["".join(RNG.choice(list(AA), size=RNG.integers(lo, hi))) for _ in range(n)]


@eqx.filter_jit
def _run_all(model, tokens):
    return jax.vmap(lambda t: model(t, all_hidden=True))(tokens)


def run_all(model, tokens):
    """Every hidden state ``(B, N + 1, T, D)`` and the logits of a token batch."""
    return _run_all(model, jnp.asarray(tokens))


def max_diff(ours, ref, tokens):
    """Largest difference over real (non-padding) token positions."""
    real = (tokens != PAD)[..., None]
    if ours.ndim == 4:  # (B, L, T, D) hidden states
        real = real[:, None]
    return float(np.abs(np.where(real, np.asarray(ours) - ref, 0.0)).max())


# ---------------------------------------------------------------------------------------- tokens


def test_token_ids_are_pinned():
    assert ESM_TOKENS[:4] == ("<cls>", "<pad>", "<eos>", "<unk>")
    assert "".join(ESM_TOKENS[4:31]) == "LAGVSERTIDPKQNFYMHWCXBUZO.-"
    assert ESM_TOKENS[31:] == ("<null_1>", "<mask>") and MASK == 32 and len(ESM_TOKENS) == 33
    tokens = tokenize(["MKV", "XBUZOJ"], rows=3, length=9)
    assert tokens.tolist() == [
        [0, 20, 15, 7, 2, 1, 1, 1, 1],
        [0, 24, 25, 26, 27, 28, 3, 2, 1],  # J is not in the vocabulary: <unk>
        [1] * 9,
    ]
    with pytest.raises(ValueError, match="at most 3"):
        tokenize(["MKVL"], length=5)


def test_tokens_match_the_hf_tokenizer(tmp_path):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    (tmp_path / "vocab.txt").write_text("\n".join(ESM_TOKENS) + "\n")
    hf = transformers.EsmTokenizer(str(tmp_path / "vocab.txt"))
    for seq in ["MKTAYIAKQR", "XBZUO", "AJK", "J", "LAGVSERTIDPKQNFYMHWC"]:
        assert tokenize([seq])[0].tolist() == hf(seq)["input_ids"], seq


# ------------------------------------------------------------------------------ config, init


def test_config_maps_to_and_from_hf_and_random_init_runs():
    cfg = ESM2Config(hidden_size=24, num_layers=2, num_heads=3, intermediate_size=40)
    assert ESM2Config.from_hf(cfg.to_hf()) == cfg
    with pytest.raises(InputError, match="position_embedding_type"):
        ESM2Config.from_hf({**cfg.to_hf(), "position_embedding_type": "absolute"})
    model = ESM2(cfg, key=jax.random.key(1))
    assert model.layers.ffn_in.weight.shape == (2, 24, 40)  # stacked layers
    names = {jax.tree_util.keystr(p, simple=True, separator=".") for p, _ in jax.tree_util.tree_leaves_with_path(model)}
    assert "layers.attn.qkv.weight" in names and not any("freq" in n for n in names)  # rotary: a constant
    out = eqx.filter_jit(lambda m, t: m(t, all_hidden=True))(model, jnp.asarray(tokenize(["MKVL"])[0]))
    assert out.hidden.shape == (6, 24) and out.hidden_states.shape == (3, 6, 24) and out.logits.shape == (6, 33)
    assert np.allclose(out.hidden, out.hidden_states[-1])
    assert model.resolve_layer(-1) == 2 and model.resolve_layer(0) == 0
    with pytest.raises(InputError, match="out of range"):
        model.resolve_layer(3)


# ------------------------------------------------------------------------ golden (no torch)


def test_golden_fixture_without_torch():
    expected = np.load(TINY / "expected.npz")
    tokens = expected["tokens"]
    assert (tokens == MASK).any() and (tokens == PAD).any()
    out = run_all(load_esm2(TINY), tokens)
    assert max_diff(out.hidden_states, expected["hidden_states"], tokens) < ATOL
    assert max_diff(out.logits, expected["logits"], tokens) < ATOL


# -------------------------------------------------------------------- parity vs transformers


def _hf_model(tmp_path, seed, **config):
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install 'biolens[torch]')")
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    torch.manual_seed(seed)
    base = dict(
        vocab_size=33, mask_token_id=32, pad_token_id=1, position_embedding_type="rotary",
        token_dropout=True, emb_layer_norm_before=False, layer_norm_eps=1e-5,
    )  # fmt: skip
    model = transformers.EsmForMaskedLM(transformers.EsmConfig(**{**base, **config})).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    folder = tmp_path / f"hf{seed}"
    model.save_pretrained(folder, safe_serialization=True)
    return model, folder


def _hf_outputs(model, tokens):
    import torch

    with torch.no_grad():
        ids = torch.tensor(tokens, dtype=torch.long)
        out = model(ids, attention_mask=torch.tensor(tokens != PAD, dtype=torch.long), output_hidden_states=True)
    return np.stack([h.numpy() for h in out.hidden_states], axis=1), out.logits.numpy()


def _parity_batch():
    seqs = ["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "XBUZOACDEFGHIK", "MKV", "GGGGSGGGGS"]
    tokens = tokenize(seqs, rows=5, length=40)  # padding columns and one all-padding row
    tokens[0, [3, 9, 10]] = MASK  # token dropout rescaling differs per row
    tokens[2, 1] = MASK
    return tokens[:4], tokens


def _assert_parity(model, folder):
    """Hidden states and logits of the folder read by ``load_esm2`` equal Hugging Face's on the parity batch."""
    tokens, padded = _parity_batch()
    hidden, logits = _hf_outputs(model, tokens)
    out = run_all(load_esm2(folder), padded)
    assert max_diff(out.hidden_states[:4], hidden, tokens) < ATOL
    assert max_diff(out.logits[:4], logits, tokens) < ATOL


@pytest.mark.parametrize(
    "config",
    [
        dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64),
        dict(hidden_size=48, num_hidden_layers=3, num_attention_heads=2, intermediate_size=80, token_dropout=False),
    ],
    ids=["tiny", "tiny-no-token-dropout"],
)
def test_parity_tiny_random_configs(tmp_path, config):
    model, folder = _hf_model(tmp_path, 1, **config)
    _assert_parity(model, folder)


def test_parity_esm2_t6_8m_config_through_the_loader(tmp_path):
    t6 = dict(hidden_size=320, num_hidden_layers=6, num_attention_heads=20, intermediate_size=1280,
              max_position_embeddings=1026)  # fmt: skip
    model, folder = _hf_model(tmp_path, 2, **t6)
    assert ESM2Config.from_hf(json.loads((folder / "config.json").read_text())) == ESM2Config()
    _assert_parity(model, folder)


def test_sharded_checkpoint_loads(tmp_path):
    model, _ = _hf_model(tmp_path, 3, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
    folder = tmp_path / "sharded"
    model.save_pretrained(folder, safe_serialization=True, max_shard_size="40KB")
    assert (folder / "model.safetensors.index.json").is_file() and len(weight_files(folder)) > 1
    tokens, _ = _parity_batch()
    _, logits = _hf_outputs(model, tokens)
    assert max_diff(run_all(load_esm2(folder), tokens).logits, logits, tokens) < ATOL


# ------------------------------------------------------------------------------- the encoder


@pytest.fixture(scope="module")
def tiny_encoder():
    return ESM2Encoder.from_folder(TINY, name="esm2-tiny")


def test_layer_choice_and_cls(tiny_encoder):
    seqs = ["MKTAYIAKQR", "GAVLI"]
    expected = run_all(tiny_encoder.model, tokenize(seqs)).hidden_states
    for layer in (0, 1, -1):
        enc = ESM2Encoder(tiny_encoder.model, name="t", layer=layer, digest="x")
        res, _ = embed_sequences(seqs, enc, per_residue=True)
        assert np.allclose(res[0], expected[0, layer, 1:11], atol=1e-5)
        assert np.allclose(res[1], expected[1, layer, 1:6], atol=1e-5)
    cls, _ = embed_sequences(seqs, tiny_encoder, pooling="cls")
    assert np.allclose(np.stack(cls), expected[:, -1, 0], atol=1e-5)
    mean, _ = embed_sequences(seqs, tiny_encoder, pooling="mean")
    assert np.allclose(mean[1], expected[1, -1, 1:6].mean(0), atol=1e-5)  # no <cls>/<eos>


def test_batches_compute_only_what_they_need(tiny_encoder):
    # a bucket's partly filled last batch: 3 of 8 rows -> 4 rows; 100 residues + 2 -> 104 tokens
    assert tiny_encoder.batch_shape(["A" * 100] * 3, 8, 168) == (4, 104)
    # 170 residues + 2 = 172 tokens: the ladder's next length is 176, but never past the driver's 170 + 2
    assert tiny_encoder.batch_shape(["A" * 170] * 8, 8, 170) == (8, 172)
    out = tiny_encoder.encode_batch(["MKV", "GAVLIK"], 8, 168)
    assert out.states.shape == (2, 16, 32) and out.residue_mask.sum(1).tolist() == [3, 6]


def test_padding_invariance(tiny_encoder):
    seqs = random_seqs(6, 5, 31)  # one length bucket: two compiled shapes
    batched, stats = embed_sequences(seqs, tiny_encoder, pooling="mean")
    assert stats.batches < len(seqs)
    for seq, got in zip(seqs, batched):
        alone, _ = embed_sequences([seq], tiny_encoder, pooling="mean", token_budget=1)
        assert np.allclose(got, alone[0], atol=1e-5)


def test_long_protein_is_windowed_not_truncated(tiny_encoder):
    long = random_seqs(1, 3000, 3001)[0]
    res, stats = embed_sequences([long, "MKV"], tiny_encoder, per_residue=True, token_budget=2048)
    assert stats.windowed == 1 and res[0].shape == (3000, 32) and np.isfinite(res[0]).all()
    mean, _ = embed_sequences([long], tiny_encoder, pooling="mean", token_budget=2048)
    assert np.allclose(mean[0], res[0].mean(0), atol=1e-5)


def test_fingerprint_follows_layer_and_weights(tiny_encoder, tmp_path):
    model = tiny_encoder.model
    last = ESM2Encoder(model, name="t", layer=-1, digest="d").fingerprint()
    assert last == ESM2Encoder(model, name="t", layer=2, digest="d").fingerprint()
    assert last != ESM2Encoder(model, name="t", layer=1, digest="d").fingerprint()
    assert last != ESM2Encoder(model, name="t", layer=2, digest="e").fingerprint()
    copy = tmp_path / "copy"
    shutil.copytree(TINY, copy)
    same = ESM2Encoder.from_folder(copy, name="esm2-tiny")
    assert same.fingerprint() == tiny_encoder.fingerprint()  # path-independent: hashes the files


@pytest.mark.parametrize("dtype, tolerance", [("bfloat16", 0.999), ("float16", 0.9999)])
def test_reduced_precision_is_close_to_float32_and_states_are_float32(tiny_encoder, dtype, tolerance):
    seqs = random_seqs(6, 40, 400)
    reduced = ESM2Encoder.from_folder(TINY, name="esm2-tiny", dtype=dtype)
    assert jax.tree.leaves(reduced.model)[0].dtype == jnp.dtype(dtype)
    assert reduced.fingerprint() != tiny_encoder.fingerprint() and reduced.settings()["dtype"] == dtype
    a, b = (np.stack(embed_sequences(seqs, e, pooling="mean")[0]) for e in (tiny_encoder, reduced))
    assert b.dtype == np.float32 and np.isfinite(b).all() and not np.array_equal(a, b)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > tolerance, cos
    with pytest.raises(InputError, match="fine-tuning needs float32"):
        reduced.finetune(reduced.model, None)
    with pytest.raises(InputError, match="dtype must be one of"):
        get_encoder(f"esm2:{TINY}", dtype="float8")
    assert get_encoder(f"esm2:{TINY}", dtype=dtype).settings() == reduced.settings()


# ------------------------------------------------------------------------ finding weights


@pytest.fixture
def no_hub(monkeypatch, tmp_path):
    """No $BIOLENS_WEIGHTS_DIR, an empty Hugging Face cache, and a download that is recorded."""
    calls = []
    monkeypatch.delenv("BIOLENS_WEIGHTS_DIR", raising=False)
    monkeypatch.setattr(esm2_encoders, "_from_cache", lambda repo, *files: None)

    def download(repo, *files):
        calls.append(repo)
        return None, "download from the Hub failed (offline)"

    monkeypatch.setattr(esm2_encoders, "_download", download)
    return calls


def test_missing_weights_message_says_how(no_hub):
    with pytest.raises(MissingWeightsError) as err:
        get_encoder("esm2-8m")
    message = str(err.value)
    for part in ["facebook/esm2_t6_8M_UR50D", "config.json", "model.safetensors", "$BIOLENS_WEIGHTS_DIR/esm2_t6_8M_UR50D",
                 "pip install 'biolens[hub]'", "weights="]:  # fmt: skip
        assert part in message, part
    assert no_hub == ["facebook/esm2_t6_8M_UR50D"]
    available, how = esm2_encoders.availability("esm2-35m")
    assert not available and "esm2_t12_35M_UR50D" in how and no_hub == ["facebook/esm2_t6_8M_UR50D"]


def test_weights_option_env_folder_and_esm2_dir(no_hub, tmp_path, monkeypatch):
    enc = get_encoder("esm2-8m", weights=str(TINY), layer=1)
    assert enc.width == 32 and enc.layer == 1 and enc.name == "esm2-8m"
    root = tmp_path / "weights"
    shutil.copytree(TINY, root / "esm2_t12_35M_UR50D")
    monkeypatch.setenv("BIOLENS_WEIGHTS_DIR", str(root))
    assert esm2_encoders.availability("esm2-35m")[0]
    assert get_encoder("esm2-35m").fingerprint() == ESM2Encoder.from_folder(TINY, name="esm2-35m").fingerprint()
    assert get_encoder(f"esm2:{TINY}").name == f"esm2:{TINY.resolve()}"
    assert no_hub == []
    with pytest.raises(InputError, match="not \\['pooling'\\]"):
        get_encoder("esm2-8m", weights=str(TINY), pooling="mean")


def test_hub_cache_then_download_are_tried(monkeypatch, tmp_path):
    hub = pytest.importorskip("huggingface_hub", reason="huggingface_hub is not installed")
    monkeypatch.delenv("BIOLENS_WEIGHTS_DIR", raising=False)
    calls = []

    def fake_snapshot(repo, allow_patterns=None, local_files_only=False):
        calls.append((repo, local_files_only))
        if local_files_only:
            raise hub.errors.LocalEntryNotFoundError("not cached")
        return str(TINY)

    monkeypatch.setattr(hub, "snapshot_download", fake_snapshot)
    assert not esm2_encoders.availability("esm2-150m")[0]  # looks in the cache, never downloads
    assert calls == [("facebook/esm2_t30_150M_UR50D", True)]
    assert esm2_encoders.find_weights("esm2-150m") == TINY
    assert calls[1:] == [("facebook/esm2_t30_150M_UR50D", True), ("facebook/esm2_t30_150M_UR50D", False)]


def test_pickle_only_folder_is_refused(tmp_path):
    (tmp_path / "config.json").write_text((TINY / "config.json").read_text())
    (tmp_path / "pytorch_model.bin").write_bytes(b"not unpickled")
    with pytest.raises(MissingWeightsError, match=r"safetensors only.*save_pretrained"):
        load_esm2(tmp_path)
    with pytest.raises(MissingWeightsError, match=r"no config\.json"):
        load_esm2(tmp_path / "nowhere")


def _tiny_copy(tmp_path, **config):
    folder = tmp_path / "w"
    shutil.copytree(TINY, folder)
    hf = json.loads((TINY / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**hf, **config}))
    return folder


@pytest.mark.parametrize("layers, found", [(1, 2), (3, 2)])
def test_config_and_tensors_that_disagree_on_layers_are_refused(tmp_path, layers, found):
    folder = _tiny_copy(tmp_path, num_hidden_layers=layers)  # the tensors hold 2 layers
    with pytest.raises(InputError, match=rf"config.json says num_hidden_layers = {layers}, the weights hold {found} layers"):
        load_esm2(folder)


def test_config_and_tensors_that_disagree_on_widths_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"has shape \(33, 32\), the config implies \(33, 48\)"):
        load_esm2(_tiny_copy(tmp_path, hidden_size=48, num_attention_heads=4))
    with pytest.raises(InputError, match=r"ffn_in.weight has shape \(2, 32, 64\), the config implies \(2, 32, 128\)"):
        load_esm2(_tiny_copy(tmp_path / "b", intermediate_size=128))


def test_broken_config_or_safetensors_name_the_file(tmp_path):
    folder = _tiny_copy(tmp_path)
    (folder / "config.json").write_text('{"vocab_size": 33,\n "hidden_size": }')
    with pytest.raises(InputError, match=r"w/config.json:2: invalid JSON at column 17"):
        load_esm2(folder)
    folder = _tiny_copy(tmp_path / "b")
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"model.safetensors: (not a readable safetensors file|cannot read tensor)"):
        load_esm2(folder)
    (folder / "model.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(InputError, match=r"model.safetensors: not a readable safetensors file"):
        load_esm2(folder)
