"""ProtT5: the spiece.model vocabulary (pinned against transformers' T5Tokenizer), relative-position
buckets, parity with transformers' ``T5EncoderModel`` through the real loader (float16
``pytorch_model.bin`` as Rostlab publishes it, safetensors, gated FF, the exact XL widths with 2
of 24 layers), and the encoder contract (EOS stripped, mean pooling, windows, bfloat16)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from biolens.core.errors import InputError, MissingWeightsError
from biolens.proteins.embed import embed_sequences
from biolens.proteins.encoders.pooling import check_pooling
from biolens.proteins.encoders.prott5 import (
    EOS,
    PAD,
    UNK,
    ProtT5Encoder,
    Vocabulary,
    distance_buckets,
    load_prott5,
    read_vocabulary,
    tokenize,
)
from biolens.proteins.encoders.registry import get_encoder

ATOL = 1e-4
SEQS = ["MKTAYIAKQRQISFVKSHFSRQ", "ACDEFGHIKLMNPQRSTVWYXBUZOJ", "MSEQ"]
PUBLISHED = "ALGVSREDTIPKFQNYMHWCXBOUZ"  # ids 3..27 of ProtT5's spiece.model


def _pb_field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (sizes here are < 128, so one-byte varints)."""
    return bytes([number << 3 | 2, len(payload)]) + payload


def _spiece_bytes(pieces: list[tuple[str, int]]) -> bytes:
    """A SentencePiece ModelProto: pieces (piece, score, type), a unigram trainer spec, nmt_nfkc."""
    out = b""
    for text, kind in pieces:
        out += _pb_field(1, _pb_field(1, text.encode()) + b"\x15" + struct.pack("<f", 0.0) + bytes([0x18, kind]))
    trainer = bytes([0x18, 1]) + bytes([0x28]) + b"\x00"  # model_type UNIGRAM, vocab_size 0
    normalizer = _pb_field(1, b"nmt_nfkc") + bytes([0x18, 1, 0x20, 1])  # add_dummy_prefix, remove_extra_whitespaces
    return out + _pb_field(2, trainer) + _pb_field(3, normalizer)


def _published_pieces() -> list[tuple[str, int]]:
    return ([("<pad>", 3), ("</s>", 3), ("<unk>", 2)] + [("▁" + c, 1) for c in PUBLISHED]
            + [(f"<extra_id_{i}>", 4) for i in range(99, -1, -1)])  # fmt: skip


@pytest.fixture(scope="module")
def spiece_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spiece")
    (folder / "spiece.model").write_bytes(_spiece_bytes(_published_pieces()))
    return folder


def test_vocabulary_from_spiece_model_and_published_order(spiece_dir):
    vocab = read_vocabulary(spiece_dir)
    assert vocab.size == 128 and vocab.source.endswith("spiece.model")
    assert np.array_equal(vocab.table, Vocabulary.published().table)
    ids = tokenize(["MKA", "BUZOX", "J"], vocab=vocab, length=7)
    x = 3 + PUBLISHED.index("X")
    assert ids[0].tolist() == [3 + PUBLISHED.index("M"), 3 + PUBLISHED.index("K"), 3, EOS, PAD, PAD, PAD]
    assert ids[1, :6].tolist() == [x, x, x, x, x, EOS]  # the model card's [UZOB] -> X
    assert ids[2, :2].tolist() == [UNK, EOS]


def test_vocabulary_errors_name_the_file(tmp_path):
    (tmp_path / "spiece.model").write_bytes(_spiece_bytes([("<unk>", 2), ("<pad>", 3), ("</s>", 3), ("▁X", 1)]))
    with pytest.raises(InputError, match=r"spiece.model.*<pad> 0"):
        read_vocabulary(tmp_path)
    (tmp_path / "spiece.model").write_bytes(b"\x0a\x7f\x00")
    with pytest.raises(InputError, match="not a readable SentencePiece model"):
        read_vocabulary(tmp_path)


def test_tokens_match_transformers_t5_tokenizer(spiece_dir):
    pytest.importorskip("sentencepiece", reason="transformers' T5Tokenizer reads spiece.model with sentencepiece")
    transformers = pytest.importorskip("transformers", reason="the reference tokenizer is transformers' T5Tokenizer")
    (spiece_dir / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}))
    tok = transformers.T5Tokenizer.from_pretrained(str(spiece_dir))
    ours = tokenize(SEQS, vocab=read_vocabulary(spiece_dir))
    for row, seq in zip(ours, SEQS, strict=True):
        spaced = " ".join("X" if c in "UZOB" else c for c in seq)  # the model card's preprocessing
        assert row[: len(seq) + 1].tolist() == tok(spaced)["input_ids"]


def test_distance_buckets_hand_derived():
    b = distance_buckets(300, 32, 128)
    assert b[:8].tolist() == list(range(8))  # exact buckets below 8
    # log buckets: 8 + floor(8 * log(d / 8) / log(16)) = 8 + 2 log2(d / 8) on powers of two
    assert [b[16], b[32], b[64]] == [10, 12, 14] and set(b[128:].tolist()) == {15}


# --- parity with transformers' T5EncoderModel through the real loader ---


def _reference(folder, *, d=32, kv=8, ff=64, layers=3, heads=4, proj="relu", seed=0, fp16_bin=False):
    torch = pytest.importorskip("torch", reason="parity needs torch")
    transformers = pytest.importorskip("transformers", reason="parity needs transformers' T5EncoderModel")
    torch.manual_seed(seed)
    cfg = transformers.T5Config(vocab_size=128, d_model=d, d_kv=kv, d_ff=ff, num_layers=layers, num_heads=heads,
                                feed_forward_proj=proj, dropout_rate=0.0)  # fmt: skip
    ref = transformers.T5EncoderModel(cfg).eval()
    with torch.no_grad():
        for p in ref.parameters():  # norms off 1, every weight perturbed at its own scale
            p.mul_(1 + 0.2 * torch.randn_like(p))
    if fp16_bin:  # Rostlab's -enc layout: config.json + a float16 torch.save state dict
        ref = ref.half()
        cfg.save_pretrained(folder)
        torch.save(ref.state_dict(), folder / "pytorch_model.bin")
        ref = ref.float()  # the reference runs the same float16-rounded weights in float32
    else:
        ref.save_pretrained(folder)
    return ref


def _reference_states(ref, ids):
    import torch

    with torch.no_grad():
        out = ref(input_ids=torch.tensor(ids, dtype=torch.long), attention_mask=torch.tensor(ids != PAD).long(),
                  output_hidden_states=True)  # fmt: skip
    return out.last_hidden_state.numpy(), [h.numpy() for h in out.hidden_states]


def _max_diff(ref, model, seqs) -> float:
    import jax
    import jax.numpy as jnp

    ids = tokenize(seqs)
    last, hidden = _reference_states(ref, ids)
    ours = jax.vmap(lambda t: model(t, all_hidden=True))(jnp.asarray(ids))
    diff = float(np.abs(np.asarray(ours.hidden) - last).max())
    for i, theirs in enumerate(hidden):  # embeddings, every block, final: relative to the stream's scale
        scale = max(1.0, float(np.abs(theirs).max()))
        diff = max(diff, float(np.abs(np.asarray(ours.hidden_states[:, i]) - theirs).max()) / scale)
    return diff


def test_buckets_match_transformers():
    pytest.importorskip("torch", reason="needs torch")
    t5 = pytest.importorskip("transformers.models.t5.modeling_t5", reason="needs transformers")
    import torch

    from biolens.proteins.encoders.prott5._model import relative_buckets

    pos = torch.arange(700)
    for buckets, distance in [(32, 128), (64, 256)]:
        theirs = t5.T5Attention._relative_position_bucket(pos[None, :] - pos[:, None], True, buckets, distance)
        assert np.array_equal(np.asarray(relative_buckets(700, buckets, distance)), theirs.numpy())


def test_parity_tiny_fp16_pytorch_bin_with_padding(tmp_path):
    ref = _reference(tmp_path, fp16_bin=True)
    model = load_prott5(tmp_path)  # read by the safe pickle reader, float16 -> float32
    long = "".join(np.random.default_rng(0).choice(list("ACDEFGHIKLMNPQRSTVWY"), 300))
    assert _max_diff(ref, model, [*SEQS, long]) < ATOL  # 301 tokens: every bucket, the clamp at 128


def test_parity_tiny_gated_gelu_safetensors(tmp_path):
    ref = _reference(tmp_path, proj="gated-gelu", layers=2, seed=1)  # Ankh-style feed-forward
    model = load_prott5(tmp_path)
    assert model.config.gated and model.config.activation == "gelu_new"
    assert _max_diff(ref, model, SEQS) < ATOL


@pytest.mark.slow
def test_parity_exact_xl_widths_two_layers(tmp_path):
    # ProtT5-XL-U50's encoder shape (1024 wide, 32 heads of 128 = 4096 inner, ReLU FF 16384), 2 of 24 layers
    ref = _reference(tmp_path, d=1024, kv=128, ff=16384, layers=2, heads=32, seed=2)
    model = load_prott5(tmp_path)
    assert model.config.inner_size == 4096 and model.config.intermediate_size == 16384
    assert _max_diff(ref, model, SEQS[:2]) < ATOL


# --- the encoder ---


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prott5")
    ref = _reference(folder, seed=3)
    (folder / "spiece.model").write_bytes(_spiece_bytes(_published_pieces()))
    return ref, folder


def test_encoder_mean_pooling_strips_eos_and_windows(tiny):
    ref, folder = tiny
    enc = get_encoder("prott5-xl", weights=folder)
    assert isinstance(enc, ProtT5Encoder) and enc.width == 32 and not enc.has_cls
    assert get_encoder(f"prott5:{folder}").fingerprint() != enc.fingerprint()  # the name is part of it
    with pytest.raises(InputError, match="no CLS token"):
        check_pooling(enc, "cls")
    mean, _ = embed_sequences(SEQS, enc, pooling="mean")
    residues, _ = embed_sequences(SEQS, enc, per_residue=True)
    last, _ = _reference_states(ref, tokenize(SEQS))
    for i, seq in enumerate(SEQS):  # residues only: </s> and padding excluded
        assert residues[i].shape == (len(seq), 32)
        assert np.abs(residues[i] - last[i, : len(seq)]).max() < ATOL
        assert np.abs(mean[i] - last[i, : len(seq)].mean(0)).max() < ATOL
    windowed = ProtT5Encoder(enc.model, vocab=enc.vocab, name="prott5-small-window", digest="t")
    windowed.max_residues = 64
    long = "".join(np.random.default_rng(1).choice(list("ACDEFGHIKLMNPQRSTVWY"), 150))
    res, stats = embed_sequences([long], windowed, per_residue=True, overlap=16)
    assert stats.windowed == 1 and res[0].shape == (150, 32) and np.isfinite(res[0]).all()


def test_encoder_bfloat16_close_to_float32(tiny):
    _, folder = tiny
    f32 = get_encoder(f"prott5:{folder}")
    bf16 = get_encoder(f"prott5:{folder}", dtype="bfloat16")
    assert bf16.fingerprint() != f32.fingerprint() and bf16.settings()["dtype"] == "bfloat16"
    a, b = (np.stack(embed_sequences(SEQS, e, pooling="mean")[0]) for e in (f32, bf16))
    assert b.dtype == np.float32
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.99 and not np.array_equal(a, b)
    with pytest.raises(InputError, match="dtype must be one of"):
        get_encoder(f"prott5:{folder}", dtype="float8")


def test_loader_errors_name_the_problem(tmp_path):
    with pytest.raises(MissingWeightsError, match=r"no config\.json"):
        load_prott5(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(InputError, match="not a T5 checkpoint"):
        load_prott5(tmp_path)
    _reference(tmp_path / "t5", layers=2, seed=4)
    cfg = json.loads((tmp_path / "t5" / "config.json").read_text())
    (tmp_path / "t5" / "config.json").write_text(json.dumps({**cfg, "num_layers": 3}))
    with pytest.raises(InputError, match=r"encoder.block.2.*missing"):
        load_prott5(tmp_path / "t5")
    (tmp_path / "t5" / "config.json").write_text(json.dumps({**cfg, "num_layers": 1}))
    with pytest.raises(InputError, match="more than the 1 blocks"):
        load_prott5(tmp_path / "t5")


def test_cli_embed_dtype_and_not_a_language_model(tiny, tmp_path, capsys):
    from biolens.cli import main
    from biolens.proteins.language_model import language_model

    _, folder = tiny
    fasta = tmp_path / "a.fasta"
    fasta.write_text("".join(f">p{i}\n{s}\n" for i, s in enumerate(SEQS)))
    out = tmp_path / "e.npz"
    argv = ["embed", str(fasta), "-e", f"prott5:{folder}", "--dtype", "bfloat16", "--no-cache", "-o", str(out)]
    assert main(argv) == 0 and "Traceback" not in capsys.readouterr().err
    with np.load(out, allow_pickle=False) as f:
        assert f["embeddings"].shape == (3, 32) and f["embeddings"].dtype == np.float32
    with pytest.raises(InputError, match="no language-model head"):
        language_model(f"prott5:{folder}")


def test_finetune_apply_matches_encode_batch(tiny):
    import jax

    _, folder = tiny
    enc = get_encoder(f"prott5:{folder}", layer=2)  # below the final norm: blocks 0..1 run
    module, trainable = enc.finetune(enc.module, last=1)
    assert any(jax.tree.leaves(trainable)) and not all(jax.tree.leaves(trainable))
    states, mask = enc.apply(module, enc.tokenize(SEQS, 4, 30))
    out = enc.encode_batch(SEQS, 4, 30)
    for i, seq in enumerate(SEQS):
        assert int(mask[i].sum()) == len(seq)
        assert np.abs(np.asarray(states[i])[np.asarray(mask[i])] - out.states[i][out.residue_mask[i]]).max() < 1e-5


def test_named_model_lookup_and_missing_weights_message(tiny, tmp_path, monkeypatch):
    import shutil

    from biolens.proteins.encoders import prott5

    hub = pytest.importorskip("huggingface_hub", reason="huggingface_hub is not installed")
    _, folder = tiny
    monkeypatch.delenv("BIOLENS_WEIGHTS_DIR", raising=False)
    calls = []

    def offline(repo, allow_patterns=None, local_files_only=False):
        calls.append((repo, local_files_only, tuple(allow_patterns)))
        raise hub.errors.LocalEntryNotFoundError("offline")

    monkeypatch.setattr(hub, "snapshot_download", offline)
    available, how = prott5.availability("prott5-xl")  # looks in the cache, never downloads
    assert not available and [c[1] for c in calls] == [True]
    for part in ["Rostlab/prot_t5_xl_half_uniref50-enc", "AFL-3.0", "spiece.model", "pytorch_model.bin",
                 "$BIOLENS_WEIGHTS_DIR/prot_t5_xl_half_uniref50-enc", "weights="]:  # fmt: skip
        assert part in how, part
    with pytest.raises(MissingWeightsError, match="download from the Hub failed"):
        prott5.find_weights("prott5-xl")
    assert {"pytorch_model.bin", "spiece.model", "config.json"} <= set(calls[-1][2]) and not calls[-1][1]
    shutil.copytree(folder, tmp_path / "prot_t5_xl_half_uniref50-enc")
    monkeypatch.setenv("BIOLENS_WEIGHTS_DIR", str(tmp_path))
    assert prott5.find_weights("prott5-xl") == tmp_path / "prot_t5_xl_half_uniref50-enc"
    assert get_encoder("Rostlab/prot_t5_xl_half_uniref50-enc").name == "prott5-xl"  # the Hub id names it
