"""Token and protein maps: deterministic for a seed; property groups; the probability figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biolens.proteins.encoders import get_encoder
from biolens.proteins.lm import probability_figure, property_group, protein_map, token_map

TINY = Path(__file__).resolve().parents[2] / "data" / "esm2_tiny"


def test_property_groups():
    assert [property_group(t) for t in ["L", "S", "K", "G", "X", "<cls>", "-"]] == [
        "hydrophobic", "polar", "charged", "special", "non-standard", "special token", "non-standard"]


def test_token_map_is_deterministic_with_a_seed():
    enc = get_encoder(f"esm2:{TINY}")
    a, b = token_map(enc, method="tsne", seed=1), token_map(enc, method="tsne", seed=1)
    np.testing.assert_array_equal(a.coords, b.coords)
    assert a.coords.shape == (32, 2) and "<null_1>" not in a.names and a.labels[a.names.index("K")] == "charged"
    texts = [t.get_text() for t in a.figure.axes[0].texts]
    assert "W" in texts and "<mask>" in texts


def test_protein_map_is_deterministic_and_hoverable():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(20, 6)), rng.normal(3, size=(20, 6))])
    labels = ["a"] * 20 + ["b"] * 20
    ids = [f"P{i}" for i in range(40)]
    one = protein_map(x, labels, ids, list(range(40)), method="tsne", seed=3)
    two = protein_map(x, labels, ids, list(range(40)), method="tsne", seed=3)
    np.testing.assert_array_equal(one.coords, two.coords)
    assert one.svg == two.svg and "<title>P7 | a | 7 aa</title>" in one.svg


def test_probability_figure_marks_the_true_residue():
    probs = np.full((4, 20), 0.05)
    fig = probability_figure(probs, "MKTAYW", [0, 1, 2, 5], columns=3)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4 and "true W" in visible[-1].get_title()
