import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from biolens.structure import (
    VQVAE,
    ModelConfig,
    build_model,
    codebook_stats,
    format_tokens,
    parse_tokens,
)
from biolens.structure._quantize import Codebook, ema_update, init_codebook, quantize
from biolens.structure._rigid import backbone_frames, chain_frames, fape, place_atoms, rotation_6d
from biolens.structure._tokenizer import bucket

EMA = jax.jit(ema_update, static_argnames=("decay", "dead_threshold"))  # one compile, not one per operation


def test_rotation_6d_is_a_rotation_and_keeps_its_first_axis():
    a = jax.random.normal(jax.random.PRNGKey(0), (10, 6))
    r = rotation_6d(a)
    np.testing.assert_allclose(np.asarray(jnp.einsum("bji,bjk->bik", r, r)), np.broadcast_to(np.eye(3), (10, 3, 3)), atol=1e-5)
    np.testing.assert_allclose(np.linalg.det(np.asarray(r)), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(r[:, :, 0]), np.asarray(a[:, :3] / jnp.linalg.norm(a[:, :3], axis=-1, keepdims=True)), atol=1e-5)


def test_chain_frames_compose_sequentially():
    rots = Rotation.random(5, random_state=0).as_matrix().astype(np.float32)
    trans = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    r, t = chain_frames(jnp.asarray(rots), jnp.asarray(trans))
    want_r, want_t = np.eye(3), np.zeros(3)
    for i in range(5):
        np.testing.assert_allclose(np.asarray(r[i]), want_r, atol=1e-5)
        np.testing.assert_allclose(np.asarray(t[i]), want_t, atol=1e-5)
        want_r, want_t = want_r @ rots[i], want_r @ trans[i] + want_t


def test_fape_is_zero_for_a_moved_copy_and_positive_otherwise():
    x = jnp.asarray(np.random.default_rng(1).normal(scale=4.0, size=(12, 4, 3)), jnp.float32)
    m = jnp.asarray(Rotation.random(random_state=2).as_matrix(), jnp.float32)
    y = x @ m.T + 7.0
    mask, atoms = jnp.ones(12, bool), jnp.ones((12, 4), bool)

    @jax.jit
    def loss(pred, true, mask, atoms):
        return fape((*backbone_frames(pred), pred), (*backbone_frames(true), true), mask, atoms)

    assert float(loss(y, x, mask, atoms)) < 1e-3
    noisy = y + 0.5 * jax.random.normal(jax.random.PRNGKey(3), y.shape)
    assert float(loss(noisy, x, mask, atoms)) > 0.02
    # a masked residue does not count (its frame and atoms are left out)
    assert float(loss(y.at[5].add(100.0), x, mask.at[5].set(False), atoms.at[5].set(False))) < 1e-3
    # errors beyond the clamp count as the clamp: a wider one sees them grow
    far = x * 20.0
    clamped = [float(fape((*backbone_frames(far), far), (*backbone_frames(x), x), mask, atoms, clamp=c)) for c in (10.0, 30.0)]
    assert clamped[0] <= 1.0 + 1e-6 and clamped[1] > 1.5 * clamped[0]


def test_place_atoms_puts_local_origin_at_translation():
    r, t = jnp.broadcast_to(jnp.eye(3), (2, 3, 3)), jnp.array([[1.0, 2, 3], [4, 5, 6]])
    out = place_atoms(r, t, jnp.zeros((2, 4, 3)).at[:, 2, 0].set(1.5))
    np.testing.assert_allclose(np.asarray(out[:, 1]), np.asarray(t))
    np.testing.assert_allclose(np.asarray(out[:, 2] - t), [[1.5, 0, 0]] * 2)


def test_quantize_picks_the_nearest_code():
    book = jnp.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    idx, vec = quantize(book, jnp.array([[9.0, 1.0], [1.0, 1.0], [-1.0, 12.0]]))
    assert idx.tolist() == [1, 0, 2] and np.allclose(vec, book[jnp.array([1, 0, 2])])


def test_ema_update_moves_codes_to_their_means_and_restarts_dead_ones():
    book = Codebook(jnp.array([[0.0, 0.0], [5.0, 5.0], [50.0, 50.0]]), jnp.array([10.0, 10.0, 0.0]), jnp.zeros((3, 2)))
    book = eqx.tree_at(lambda b: b.sums, book, book.vectors * book.counts[:, None])
    z = jnp.array([[1.0, 1.0], [1.0, 1.0], [4.0, 4.0], [6.0, 6.0]])
    idx, _ = quantize(book.vectors, z)
    new = EMA(book, z, idx, jnp.ones(4, bool), decay=0.5, dead_threshold=1.0, key=jax.random.PRNGKey(0))
    # code 0: counts 0.5*10 + 0.5*2 = 6, sums 0 + 0.5*(2, 2) -> mean about (1/6, 1/6) before smoothing
    assert 0.1 < float(new.vectors[0, 0]) < 0.2 and float(new.counts[0]) == pytest.approx(6.0)
    np.testing.assert_allclose(np.asarray(new.vectors[1]), [5.0, 5.0], atol=0.1)
    # code 2 was never used and is dead: it restarts at one of the encoder outputs
    assert any(np.allclose(np.asarray(new.vectors[2]), np.asarray(v), atol=0.01) for v in z)
    assert float(new.counts[2]) == 2.0
    masked = EMA(book, z, idx, jnp.array([True, True, False, False]), decay=0.5, dead_threshold=1.0,
                        key=jax.random.PRNGKey(1))
    assert any(np.allclose(np.asarray(masked.vectors[2]), np.asarray(v), atol=0.01) for v in z[:2])


def test_init_codebook_restarts_everything_on_the_first_batch():
    book = init_codebook(8, 4, key=jax.random.PRNGKey(0))
    z = jax.random.normal(jax.random.PRNGKey(1), (32, 4)) + 3.0
    new = EMA(book, z, quantize(book.vectors, z)[0], jnp.ones(32, bool), decay=0.99, dead_threshold=1.0,
                     key=jax.random.PRNGKey(2))
    assert float(jnp.min(jnp.linalg.norm(new.vectors, axis=-1))) > 1.0  # all moved onto data


def test_codebook_stats_hand_values():
    assert codebook_stats(np.array([5, 5, 5, 5])) == {"codebook_usage": 1.0, "perplexity": pytest.approx(4.0),
                                                      "codes_used": 4, "codebook_size": 4}
    one = codebook_stats(np.array([0, 9, 0, 0]))
    assert one["codebook_usage"] == 0.25 and one["perplexity"] == pytest.approx(1.0)


def test_models_run_unbatched_and_pad_without_effect():
    config = ModelConfig(width=16, encoder_layers=1, decoder_layers=2, code_dim=4, codebook_size=8, neighbours=2)
    model = build_model(config, key=jax.random.PRNGKey(0))
    assert isinstance(model, VQVAE)
    encode, decode = eqx.filter_jit(model.encode), eqx.filter_jit(model.decoder)
    feats = jax.random.normal(jax.random.PRNGKey(1), (10, 63))
    z = encode(feats, jnp.ones(10, bool))
    rot, trans, atoms = decode(z, jnp.ones(10, bool))
    assert trans.shape == (10, 3)
    assert z.shape == (10, 4) and rot.shape == (10, 3, 3) and atoms.shape == (10, 4, 3)
    padded = jnp.concatenate([feats, 7.0 * jnp.ones((6, 63))])
    mask = jnp.arange(16) < 10
    zp = encode(padded, mask)
    np.testing.assert_allclose(np.asarray(zp[:10]), np.asarray(z), atol=1e-5)
    np.testing.assert_allclose(np.asarray(decode(zp, mask)[2][:10]), np.asarray(atoms), atol=1e-4)
    # the untrained decoder already builds a chain with CA–CA steps near 3.8 Å
    step = np.linalg.norm(np.diff(np.asarray(atoms[:, 1]), axis=0), axis=-1)
    assert np.allclose(step, np.linalg.norm([3.56, 0.0, 0.2]), atol=1e-4)


@pytest.mark.parametrize("decoder,attention", [("chain", 0), ("chain", 2), ("global", 2)])
def test_decoders_ignore_padding_and_see_the_whole_segment(decoder, attention):
    config = ModelConfig(width=16, decoder_layers=1, code_dim=4, neighbours=2, heads=2, max_offset=4,
                         decoder=decoder, attention_layers=attention)
    dec = build_model(config, key=jax.random.PRNGKey(0)).decoder
    # a random output layer (it starts at zero: every residue the same) and random offset biases
    k1, k2 = jax.random.split(jax.random.PRNGKey(1))
    dec = eqx.tree_at(lambda d: d.head.weight, dec, 0.1 * jax.random.normal(k1, dec.head.weight.shape))
    if attention:
        bias = dec.attention.blocks.offset_bias
        dec = eqx.tree_at(lambda d: d.attention.blocks.offset_bias, dec, jax.random.normal(k2, bias.shape))
    run = eqx.filter_jit(dec)
    z = jax.random.normal(jax.random.PRNGKey(2), (30, 4))
    atoms = np.asarray(run(z, jnp.ones(30, bool))[2])
    padded = jnp.concatenate([z, 5.0 * jnp.ones((10, 4))])
    np.testing.assert_allclose(np.asarray(run(padded, jnp.arange(40) < 30)[2][:30]), atoms, atol=1e-4)
    # a change to the last code moves the first residue relative to the second only when attention
    # (or, for the chained decoder, nothing: its convolution reaches 2 residues) spans the segment
    moved = np.asarray(run(z.at[-1].add(3.0), jnp.ones(30, bool))[2])
    first_step = lambda a: np.linalg.norm(a[1, 1] - a[0, 1])  # noqa: E731
    assert (abs(first_step(moved) - first_step(atoms)) > 1e-4) == bool(attention)


def test_global_decoder_needs_attention_and_heads_must_divide_width():
    with pytest.raises(ValueError, match="attention_layers"):
        ModelConfig(decoder="global")
    with pytest.raises(ValueError, match="multiple of heads"):
        ModelConfig(width=30, heads=4)


def test_bucket_lengths():
    assert [bucket(n) for n in (1, 64, 65, 97, 129, 200, 300)] == [64, 64, 96, 128, 192, 256, 384]


def test_token_strings_round_trip_and_errors():
    tokens, seg = np.array([3, 0, 12, 7]), np.array([0, 0, 1, 1])
    text = format_tokens(tokens, seg)
    assert text == "3 0 / 12 7"
    back, back_seg = parse_tokens(text, 16)
    assert back.tolist() == tokens.tolist() and back_seg.tolist() == seg.tolist()
    assert parse_tokens("3/0", 16)[1].tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"item 2 \('16'\) is not a token id 0..15"):
        parse_tokens("1 16", 16)
    with pytest.raises(ValueError, match="no tokens"):
        parse_tokens(" / ", 16)
