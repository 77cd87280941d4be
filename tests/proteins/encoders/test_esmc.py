"""ESM C: tokens pinned against the ``esm`` package, parity with its ``ESMC`` through the real
``.pth`` loader (tiny config and the exact 300M widths with 2 of 30 layers), the encoder."""

from __future__ import annotations

import numpy as np
import pytest

from biolens.proteins.embed import embed_sequences
from biolens.proteins.encoders import get_encoder
from biolens.proteins.encoders.esm2 import PAD, tokenize
from biolens.proteins.encoders.esmc import ESMCEncoder, load_esmc

torch = pytest.importorskip("torch", reason="parity needs torch")
esmc_ref = pytest.importorskip("esm.models.esmc", reason="parity needs the esm package (extra esmc-ref)")
from esm.tokenization import get_esmc_model_tokenizers  # noqa: E402

ATOL = 1e-4
SEQS = ["MKTAYIAKQRQISFVKSHFSRQ", "ACDEFGHIKLMNPQRSTVWYXBUZOJ", "MSEQ"]


def _reference(tmp_path, d, heads, layers, seed):
    torch.manual_seed(seed)
    ref = esmc_ref.ESMC(d_model=d, n_heads=heads, n_layers=layers, tokenizer=get_esmc_model_tokenizers(),
                        use_flash_attn=False).eval()  # fmt: skip
    with torch.no_grad():
        for p in ref.parameters():  # move norms/biases off their init so every weight matters
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path / "data" / "weights" / "esmc_300m_2024_12_v0.pth"
    path.parent.mkdir(parents=True)
    torch.save(ref.state_dict(), path)
    return ref, tmp_path


def _assert_parity(ref, model, seqs):
    import jax
    import jax.numpy as jnp

    ids = tokenize(seqs)
    with torch.no_grad():
        out = ref(torch.tensor(ids))
    ours = jax.vmap(lambda t: model(t, all_hidden=True))(jnp.asarray(ids))
    real = ids != PAD  # padding rows differ by design (the reference lets padding attend padding)
    assert np.abs(np.asarray(ours.logits) - out.sequence_logits.numpy())[real].max() < ATOL
    assert np.abs(np.asarray(ours.hidden) - out.embeddings.numpy())[real].max() < ATOL
    hs = np.asarray(ours.hidden_states)
    for i in range(1, model.config.num_layers):  # the un-normalised residual stream: relative to its scale
        theirs = out.hidden_states[i - 1].numpy()
        assert np.abs(hs[:, i] - theirs)[real].max() < ATOL * max(1.0, np.abs(theirs[real]).max())


def test_tokens_match_the_reference_tokenizer():
    tok = get_esmc_model_tokenizers()
    assert (tok.cls_token_id, tok.pad_token_id, tok.eos_token_id, tok.mask_token_id) == (0, 1, 2, 32)
    ids = tokenize(SEQS)
    for row, seq in zip(ids, SEQS, strict=True):
        assert row[: len(seq) + 2].tolist() == tok(seq)["input_ids"]


def test_parity_tiny_config_with_padding(tmp_path):
    ref, folder = _reference(tmp_path, 64, 4, 3, 0)
    _assert_parity(ref, load_esmc(folder, num_heads=4), SEQS)


def test_parity_exact_300m_widths_two_layers(tmp_path):
    # the 300M shape (960 wide, 15 heads of 64, SwiGLU 2560), 2 of its 30 layers to stay cheap;
    # residual scaling sqrt(N/36) follows N, so this also checks that path
    ref, folder = _reference(tmp_path, 960, 15, 2, 1)
    model = load_esmc(folder)  # heads from the width, as for the published file
    assert model.config.num_heads == 15 and model.config.intermediate_size == 2560
    _assert_parity(ref, model, SEQS[:2])


def test_encoder_contract_mean_pooling_and_windows(tmp_path):
    ref, folder = _reference(tmp_path, 128, 2, 2, 2)
    enc = get_encoder("esmc-300m", weights=folder)
    assert isinstance(enc, ESMCEncoder) and enc.width == 128
    mean, _ = embed_sequences(SEQS, enc, pooling="mean")
    with torch.no_grad():
        emb = ref(torch.tensor(tokenize(SEQS))).embeddings.numpy()
    for i, seq in enumerate(SEQS):  # mean over residues: <cls>, <eos> and padding excluded
        assert np.abs(mean[i] - emb[i, 1 : len(seq) + 1].mean(0)).max() < ATOL
    long = "".join(np.random.default_rng(0).choice(list("ACDEFGHIKLMNPQRSTVWY"), 2100))
    res, stats = embed_sequences([long], enc, per_residue=True, token_budget=4096)
    assert stats.windowed == 1 and res[0].shape == (2100, 128) and np.isfinite(res[0]).all()


def test_bfloat16_close_to_float32(tmp_path):
    _, folder = _reference(tmp_path, 128, 2, 2, 3)
    f32, bf16 = (get_encoder("esmc-300m", weights=folder, dtype=d) for d in (None, "bfloat16"))
    assert bf16.settings()["dtype"] == "bfloat16" and bf16.fingerprint() != f32.fingerprint()
    seqs = SEQS + ["".join(np.random.default_rng(4).choice(list("ACDEFGHIKLMNPQRSTVWY"), 300))]
    a, b = (np.stack(embed_sequences(seqs, e, pooling="mean")[0]) for e in (f32, bf16))
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert b.dtype == np.float32 and cos.min() > 0.999 and not np.array_equal(a, b), cos
