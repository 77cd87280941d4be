import jax
import jax.numpy as jnp
import numpy as np
import pytest

from biolens.dna import one_hot, reverse_complement
from biolens.interpret import (
    CTCF_MOTIF,
    attribution_figure,
    best_hit,
    gradient_importance,
    important_window,
    input_gradients,
    ism_importance,
    motif_check,
    motif_from_consensus,
    mutation_heatmap,
    read_jaspar,
    saturation_mutagenesis,
    sequence_logo,
)
from biolens.report import new_figure

RNG = np.random.default_rng(0)
W1 = RNG.normal(size=(7 * 4, 5)).astype(np.float32)
W2 = RNG.normal(size=(5, 3)).astype(np.float32)


def toy(x):
    """A small nonlinear model with 3 outputs: windowed features -> tanh -> linear (JAX or numpy)."""
    xp = jnp if isinstance(x, jax.Array) else np
    n, length, _ = x.shape
    flat = x[:, :7, :].reshape(n, 28) + 0.3 * x[:, length - 7 :, :].reshape(n, 28)
    return xp.tanh(flat @ W1) @ W2


def random_x(n=5, length=12, with_n=True):
    seqs = ["".join(RNG.choice(list("ACGT"), size=length)) for _ in range(n)]
    if with_n:
        seqs[0] = "N" + seqs[0][1:]
    return one_hot(seqs)


def brute_force(predict, x):
    ref = predict(x)
    out = np.zeros((*x.shape, *ref.shape[1:]), np.float32)
    for i in range(len(x)):
        for p in range(x.shape[1]):
            for a in range(4):
                m = x[i : i + 1].copy()
                m[0, p] = np.eye(4)[a]
                out[i, p, a] = predict(m)[0] - ref[i]
    return out


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_ism_equals_brute_force_and_unchanged_bases_score_zero(batch_size):
    x = random_x()
    got = saturation_mutagenesis(toy, x, batch_size=batch_size)
    want = brute_force(toy, x)
    assert got.shape == (5, 12, 4, 3)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert np.all(got[x == 1.0] == 0.0)  # exactly zero, not re-scored
    assert np.all(got[0, 0] != 0.0)  # an N row has no unchanged base: all four are scored


def test_ism_window_single_output_and_bounded_batches():
    x = random_x(3, 12, with_n=False)
    shapes = []

    def predict(b):
        shapes.append(b.shape)
        return toy(b)[:, 1]

    got = saturation_mutagenesis(predict, x, batch_size=8, start=2, end=9)
    np.testing.assert_allclose(got, brute_force(lambda b: toy(b)[:, 1], x)[:, 2:9], atol=1e-5)
    assert {s[0] for s in shapes} == {8}  # every call has exactly batch_size rows
    imp = ism_importance(got, x[:, 2:9])
    np.testing.assert_allclose(imp, -got.sum(-1) / 3, atol=1e-6)
    with pytest.raises(ValueError, match="window"):
        saturation_mutagenesis(predict, x, start=5, end=20)


def test_gradients_match_finite_differences():
    x = random_x(4, 16)
    fn = lambda b: toy(b)[:, 2]  # noqa: E731
    g = input_gradients(fn, x, batch_size=3)
    eps = 1e-3
    x64 = x.astype(np.float64)
    for i, p, a in [(0, 0, 1), (1, 3, 2), (2, 11, 0), (3, 6, 3), (1, 10, 1)]:
        up, down = x64.copy(), x64.copy()
        up[i, p, a] += eps
        down[i, p, a] -= eps
        fd = (toy(up)[i, 2] - toy(down)[i, 2]) / (2 * eps)
        np.testing.assert_allclose(g[i, p, a], fd, rtol=2e-3, atol=2e-4)
    assert np.all(g[:, 7:9] == 0) and np.all(g[:, 9] != 0)  # positions the model never reads
    gi = input_gradients(fn, x, times_input=True)
    np.testing.assert_allclose(gi, g * x, rtol=1e-6)
    np.testing.assert_allclose(gradient_importance(g, x), (g * x).sum(-1), rtol=1e-6)
    centred = input_gradients(fn, x, center=True)
    np.testing.assert_allclose(centred.sum(-1), 0, atol=1e-5)
    with pytest.raises(ValueError, match="target"):
        input_gradients(toy, x)


PLANTED = "AAATTTAAAC" + "TGGCCACCAGGGGGCGCTA" + "AAATTTAAATTTGAAA"


@pytest.mark.parametrize("flip", [False, True])
def test_ctcf_scan_finds_the_planted_site_on_either_strand(flip):
    seq = reverse_complement(PLANTED) if flip else PLANTED
    hit = best_hit(CTCF_MOTIF, one_hot(seq))
    start = len(seq) - 29 if flip else 10
    assert (hit.start, hit.end, hit.strand) == (start, start + 19, "-" if flip else "+")
    assert hit.relative == pytest.approx(1.0)
    assert CTCF_MOTIF.consensus == "TGGCCACCAGGGGGCGCTA"


def test_important_window_and_motif_check():
    imp = np.zeros(len(PLANTED))
    imp[12:25] = 1.0
    assert important_window(imp, 5) == (12, 17)
    check = motif_check(one_hot(PLANTED), imp, CTCF_MOTIF)
    assert check.window == (6, 25) or check.window[1] - check.window[0] == 19
    assert check.agrees and check.overlap >= 13
    far = np.zeros(len(PLANTED))
    far[:3] = 1.0
    assert not motif_check(one_hot(PLANTED), far, CTCF_MOTIF).agrees


def test_consensus_and_jaspar_motifs(tmp_path):
    m = motif_from_consensus("ebox", "CACGTG")
    assert m.consensus == "CACGTG" and np.allclose(m.pfm.sum(1), 1)
    assert best_hit(m, one_hot("TTTTCACGTGTTTT")).start == 4
    path = tmp_path / "m.jaspar"
    path.write_text(">MA0000.1 TOY\nA [ 10 0 0 ]\nC [ 0 10 0 ]\nG [ 0 0 10 ]\nT [ 0 0 0 ]\n")
    toy_motif = read_jaspar(path)
    assert toy_motif.name == "TOY" and toy_motif.consensus == "ACG"


def test_heatmap_is_centred_at_zero_and_logo_draws_each_letter():
    delta = np.array([[0.0, -2.0, 0.5, 1.0], [0.3, 0.0, -0.2, 0.1]])
    _fig, ax = new_figure()
    image = mutation_heatmap(ax, delta, "AC")
    assert image.get_clim() == (-2.0, 2.0) and image.get_cmap().name == "RdBu_r"
    _fig, ax = new_figure()
    sequence_logo(ax, np.array([[1.0, 0, 0, 0], [0, -0.5, 0, 0], [0, 0, 0.2, 0.7]]))
    assert len(ax.patches) == 4
    assert ax.get_ylim()[0] < -0.5 and ax.get_ylim()[1] > 0.9


def test_attribution_figure_has_heatmap_tracks_and_logo():
    x = one_hot(PLANTED)
    ism = saturation_mutagenesis(lambda b: toy(b)[:, 0], x[None])[0]
    fig = attribution_figure(PLANTED, x, ism=ism, gradients=np.ones_like(x), window=(10, 29), motif=(10, 29), title="t")
    assert len(fig.axes) >= 3
    # DNA coordinates say their convention wherever a person reads them
    assert "[10, 29) (0-based, end excluded)" in " ".join(ax.get_xlabel() for ax in fig.axes)
    check = motif_check(x, ism_importance(ism[None], x[None])[0], CTCF_MOTIF).as_dict()
    assert check["coordinates"].startswith("0-based, end excluded") and check["window"][1] - check["window"][0] == 19
