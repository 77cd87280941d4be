import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from biolens.data import sample_path
from biolens.structure import Backbone, feature_width, read_backbones, residue_features

pytest.importorskip("gemmi")


@pytest.fixture(scope="module")
def chain():
    return read_backbones(sorted((sample_path("structures") / "cath").glob("*.cif.gz"))[0], None)[0][0]


def moved(bb: Backbone, seed: int) -> Backbone:
    rot = Rotation.random(random_state=seed).as_matrix()
    shift = np.random.default_rng(seed).normal(scale=50.0, size=3)
    return Backbone(bb.id, bb.source, bb.chain, (bb.coords @ rot.T + shift).astype(np.float32), bb.mask,
                    bb.segment, bb.names, bb.residue_ids)


def test_features_are_invariant_to_rotation_and_translation(chain):
    feats, mask = residue_features(chain)
    assert feats.shape == (len(chain), feature_width()) and mask.all()
    for seed in (1, 2):
        np.testing.assert_allclose(residue_features(moved(chain, seed))[0], feats, atol=2e-3)


def test_features_change_with_the_structure(chain):
    bent = chain.coords.copy()
    bent[len(chain) // 2 :] += 1.5  # a different structure, not a rigid motion
    other = Backbone(chain.id, chain.source, chain.chain, bent, chain.mask, chain.segment, chain.names, chain.residue_ids)
    assert np.abs(residue_features(other)[0] - residue_features(chain)[0]).max() > 0.1


def test_no_sequence_feature_crosses_a_break(chain):
    seg = (np.arange(len(chain)) >= 20).astype(np.int32)
    split = Backbone(chain.id, chain.source, chain.chain, chain.coords, chain.mask, seg, chain.names, chain.residue_ids)
    feats = residue_features(split, neighbours=0)[0]
    whole = residue_features(chain, neighbours=0)[0]
    # residue 19 (last of segment 0): psi, omega undefined; no i+1, i+2 neighbour
    assert feats[19, [7, 8]].tolist() == [0.0, 0.0] and feats[19, 27:39].tolist() == [0.0] * 12
    assert feats[20, 6] == 0.0 and whole[20, 6] == 1.0  # phi of the first residue after the break
    np.testing.assert_array_equal(feats[:17], whole[:17])  # far from the break nothing changes


def test_short_chains_have_padded_neighbours():
    coords = np.random.default_rng(0).normal(scale=3.0, size=(3, 5, 3)).astype(np.float32)
    bb = Backbone("x_A", "x", "A", coords, np.ones((3, 5), bool), np.zeros(3, np.int32), ("ALA",) * 3, ("1", "2", "3"))
    feats = residue_features(bb, neighbours=4)[0]
    assert feats.shape == (3, feature_width(4)) and np.isfinite(feats).all()
