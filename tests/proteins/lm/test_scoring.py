"""Residue predictors: masked marginals and mutation scores against brute force, UniRep's
next-residue head, saving ESM2 in the Hugging Face layout."""

from __future__ import annotations

from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.proteins.encoders.esm2 import ESM_TOKENS, MASK, load_esm2, save_esm2, tokenize
from biolens.proteins.encoders.unirep import UNIREP_CODES, UniRepEncoder
from biolens.proteins.lm import (
    AMINO_ACIDS,
    AutoregressiveLM,
    MaskedLM,
    Mutation,
    dms_scores,
    language_model,
    parse_mutations,
    residue_log_probs,
    score_variants,
)

DATA = Path(__file__).resolve().parents[2] / "data"
WT = "MKTAYIAKQRQISFVKSHFSRQ"
AA_IDS = [ESM_TOKENS.index(a) for a in AMINO_ACIDS]


@pytest.fixture(scope="module")
def mlm():
    return MaskedLM(load_esm2(DATA / "esm2_tiny"), "esm2-tiny")


@eqx.filter_jit
def one_pass(model, tokens):
    """The logits of one unbatched token row (jitted once per shape; no batching, no chunks)."""
    return model(tokens).logits


def brute_masked(model, seq, pos):
    """log p over the 20 amino acids at ``pos`` with only ``pos`` masked: one unbatched pass."""
    tokens = tokenize([seq])[0]
    tokens[pos + 1] = MASK
    logits = np.asarray(one_pass(model, jax.numpy.asarray(tokens)), np.float64)
    logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - logits.max(-1, keepdims=True)
    return logp[pos + 1, AA_IDS]


def test_masked_marginals_match_brute_force(mlm):
    positions = [0, 5, 11, len(WT) - 1]
    got = mlm.masked_log_probs(WT, positions)
    want = np.stack([brute_masked(mlm.model, WT, p) for p in positions])
    np.testing.assert_allclose(got, want, atol=1e-5)
    # more rows than one compiled chunk: the same numbers
    assert np.allclose(residue_log_probs(mlm, WT, range(len(WT)))[positions], got, atol=1e-5)


def test_mutation_scores_match_brute_force(mlm):
    variants = [parse_mutations("K2A:Q9W", WT), parse_mutations("Y5F", WT), ()]
    masked = score_variants(mlm, WT, variants, "masked-marginal")
    a, w = AMINO_ACIDS.index, None
    want = [brute_masked(mlm.model, WT, 1)[a("A")] - brute_masked(mlm.model, WT, 1)[a("K")]
            + brute_masked(mlm.model, WT, 8)[a("W")] - brute_masked(mlm.model, WT, 8)[a("Q")],
            brute_masked(mlm.model, WT, 4)[a("F")] - brute_masked(mlm.model, WT, 4)[a("Y")], 0.0]
    np.testing.assert_allclose(masked, want, atol=1e-5)
    # wt-marginal: one unmasked pass
    logits = np.asarray(one_pass(mlm.model, jax.numpy.asarray(tokenize([WT])[0])), np.float64)
    w = logits - logits.max(-1, keepdims=True)
    w = (w - np.log(np.exp(w).sum(-1, keepdims=True)))[:, AA_IDS]
    wt_marg = score_variants(mlm, WT, variants, "wt-marginal")
    assert wt_marg[1] == pytest.approx(w[5, a("F")] - w[5, a("Y")], abs=1e-5)
    # the scan: zero at the wild type, single mutants equal to their variant scores
    dms = dms_scores(mlm, WT, "masked-marginal")
    assert dms.shape == (len(WT), 20)
    assert np.allclose(dms[np.arange(len(WT)), [a(c) for c in WT]], 0.0)
    assert dms[4, a("F")] == pytest.approx(masked[1], abs=1e-5)


def test_methods_are_checked(mlm):
    with pytest.raises(InputError, match="masked LM"):
        score_variants(mlm, WT, [()], "llr")
    with pytest.raises(InputError, match="position 40 is outside"):
        residue_log_probs(mlm, WT, [39])


def test_unirep_next_residue_head(tmp_path):
    enc = UniRepEncoder("unirep-tiny", DATA / "unirep_tiny_weights.npz")
    lm = AutoregressiveLM(enc)
    full = lm.next_log_probs(WT)
    assert full.shape == (len(WT), 20)
    # autoregressive: the prediction at i only depends on the residues before i
    prefix = lm.next_log_probs(WT[:10])
    np.testing.assert_allclose(full[:10], prefix, atol=1e-5)
    # llr = difference of whole-sequence log-likelihoods
    mutant = "MKTAYIAKQRQISFVKSHFSRW"
    ll = [full[np.arange(len(WT)), [AMINO_ACIDS.index(c) for c in WT]].sum(),
          lm.next_log_probs(mutant)[np.arange(len(WT)), [AMINO_ACIDS.index(c) for c in mutant]].sum()]
    score = score_variants(lm, WT, [(Mutation(21, "Q", "W"),)], "llr")[0]
    assert score == pytest.approx(ll[1] - ll[0], abs=1e-4)
    # class j of the head is UniRep code j + 1
    assert lm.aa_classes[AMINO_ACIDS.index("M")] == UNIREP_CODES["M"] - 1 == 0
    with pytest.raises(InputError, match="autoregressive"):
        score_variants(lm, WT, [()], "masked-marginal")


def test_save_esm2_round_trips(tmp_path):
    model = load_esm2(DATA / "esm2_tiny")
    save_esm2(model, tmp_path / "copy")
    again = load_esm2(tmp_path / "copy")
    for x, y in zip(jax.tree.leaves(eqx.filter(model, eqx.is_array)), jax.tree.leaves(eqx.filter(again, eqx.is_array))):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert language_model(f"esm2:{tmp_path / 'copy'}").kind == "masked"


def test_saved_folder_loads_in_transformers(tmp_path):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    torch = pytest.importorskip("torch")
    model = load_esm2(DATA / "esm2_tiny")
    save_esm2(model, tmp_path / "copy")
    hf = transformers.EsmForMaskedLM.from_pretrained(str(tmp_path / "copy")).eval()
    tokens = tokenize([WT, "MKV"])
    with torch.no_grad():
        ref = hf(torch.tensor(tokens, dtype=torch.long), attention_mask=torch.tensor(tokens != 1)).logits.numpy()
    ours = np.asarray(jax.vmap(lambda t: model(t).logits)(jax.numpy.asarray(tokens)))
    real = tokens != 1
    np.testing.assert_allclose(ours[real], ref[real], atol=1e-4)


def test_saved_folder_has_a_tokenizer_transformers_loads(tmp_path):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    save_esm2(load_esm2(DATA / "esm2_tiny"), tmp_path / "copy")
    tok = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "copy"))
    assert type(tok).__name__ == "EsmTokenizer"
    assert tok(WT)["input_ids"] == tokenize([WT])[0].tolist()
    assert tok.mask_token_id == MASK and tok.pad_token_id == 1 and len(tok) == len(ESM_TOKENS)
