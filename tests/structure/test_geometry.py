import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from biolens.structure import kabsch, lddt, rmsd, superposed_rmsd, tm_score
from biolens.structure._geometry import dihedrals, frames, tm_d0, to_local


def random_motion(seed):
    rng = np.random.default_rng(seed)
    return Rotation.random(random_state=seed).as_matrix(), rng.normal(scale=20.0, size=3)


def test_rmsd_is_zero_for_a_rotated_translated_copy():
    x = np.random.default_rng(0).normal(scale=10.0, size=(50, 3))
    rot, t = random_motion(1)
    assert superposed_rmsd(x @ rot.T + t, x) == pytest.approx(0.0, abs=1e-6)
    r, tt = kabsch(x @ rot.T + t, x)
    np.testing.assert_allclose((x @ rot.T + t) @ r.T + tt, x, atol=1e-8)


def test_rmsd_never_uses_a_reflection():
    x = np.random.default_rng(0).normal(size=(20, 3))
    mirrored = x * np.array([1.0, 1.0, -1.0])
    assert superposed_rmsd(mirrored, x) > 0.3  # a mirror image cannot be superposed
    r, _ = kabsch(mirrored, x)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_rmsd_hand_value():
    # two points 2 Å apart vs 4 Å apart: best superposition leaves each 1 Å off
    a = np.array([[0.0, 0, 0], [2.0, 0, 0], [1.0, 1e-9, 0]])
    b = np.array([[0.0, 0, 0], [4.0, 0, 0], [2.0, 1e-9, 0]])
    assert superposed_rmsd(a, b) == pytest.approx(np.sqrt(2 / 3), abs=1e-6)


def test_chain_rmsd_superposes_segments_separately():
    x = np.random.default_rng(3).normal(scale=5.0, size=(10, 4, 3))
    seg = np.array([0] * 5 + [1] * 5)
    y = x.copy()
    rot, t = random_motion(4)
    y[5:] = y[5:] @ rot.T + t  # the second segment moved as a rigid body
    assert rmsd(y, x, np.ones((10, 4), bool), seg) == pytest.approx(0.0, abs=1e-6)
    assert rmsd(y, x, np.ones((10, 4), bool), np.zeros(10, int)) > 1.0


def test_lddt_hand_values():
    true = np.array([[0.0, 0, 0], [3.8, 0, 0], [7.6, 0, 0], [100.0, 0, 0]])
    seg = np.zeros(4, int)
    assert lddt(true, true, seg) == 1.0
    pred = true.copy()
    pred[2, 0] += 1.5  # pairs (0,2) and (1,2) off by 1.5 Å: within 2 and 4, not 0.5 and 1
    # 6 ordered pairs within 15 Å; 2 of them (x2 directions = 4) off by 1.5, 2 exact
    expected = np.mean([2 / 6, 2 / 6, 1.0, 1.0])
    assert lddt(pred, true, seg) == pytest.approx(expected)


def test_tm_score_hand_values():
    # d0 by hand: L = 100 -> 1.24 * 85^(1/3) - 1.8 = 1.24 * 4.39683 - 1.8 = 3.6521; short chains 0.5
    assert tm_d0(100) == pytest.approx(3.6521, abs=1e-4)
    assert tm_d0(10) == 0.5
    true = np.random.default_rng(3).normal(scale=8.0, size=(100, 3))
    seg = np.zeros(100, int)
    rot, t = random_motion(6)
    assert tm_score(true @ rot.T + t, true, seg) == pytest.approx(1.0)  # a rigid motion changes nothing
    # half the residues exact, half moved 1,000 Å away: the best superposition is on the first half,
    # TM = (50 * 1 + 50 / (1 + (1000 / 3.6521)^2)) / 100 = 0.5 + 6.7e-6
    pred = true.copy()
    pred[50:] += np.array([1000.0, 0.0, 0.0])
    assert tm_score(pred @ rot.T + t, true, seg) == pytest.approx(0.5 + 0.5 / (1 + (1000 / tm_d0(100)) ** 2), abs=1e-6)
    # the halves shifted d0 apart each way: superposed on one half, the other is 2 d0 off, so
    # TM >= (50 + 50 / (1 + 2^2)) / 100 = 0.6 (the search may find a slightly better compromise)
    scissor = true.copy()
    scissor[:50] += np.array([0.0, tm_d0(100), 0.0])
    scissor[50:] -= np.array([0.0, tm_d0(100), 0.0])
    assert 0.6 - 1e-9 <= tm_score(scissor, true, seg) < 0.62
    # two segments superposed each on its own: the second moved rigidly still scores 1
    seg2 = np.repeat([0, 1], 50)
    moved = true.copy()
    moved[50:] = moved[50:] @ rot.T + t
    assert tm_score(moved, true, seg2) == pytest.approx(1.0)
    assert tm_score(moved, true, seg) < 0.8


def test_frames_are_orthonormal_and_local_coordinates_invariant():
    x = np.random.default_rng(5).normal(scale=2.0, size=(7, 3, 3))
    rot, t = frames(x[:, 0], x[:, 1], x[:, 2])
    np.testing.assert_allclose(np.einsum("lji,ljk->lik", rot, rot), np.broadcast_to(np.eye(3), (7, 3, 3)), atol=1e-10)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0)
    local_c = to_local(rot, t, x[:, 2])
    assert np.allclose(local_c[:, 1:], 0) and (local_c[:, 0] > 0).all()
    assert np.allclose(to_local(rot, t, x[:, 0])[:, 2], 0)  # N in the xy-plane
    m, s = random_motion(6)
    rot2, t2 = frames(*(x[:, k] @ m.T + s for k in range(3)))
    np.testing.assert_allclose(to_local(rot2, t2, x[:, 2] @ m.T + s), local_c, atol=1e-9)


def test_dihedral_hand_values_and_breaks():
    # N-CA-C of two residues placed so that psi(0) = 90° and the peptide is trans (omega = 180°)
    n0, ca0, c0 = np.array([1.0, 1, 0]), np.array([0.0, 1, 0]), np.array([0.0, 0, 0])
    n1 = c0 + np.array([0.0, 0.0, 1.0])  # N0 along +x, N1 along +z seen down CA0-C0: 90°
    ca1 = n1 + np.array([0.0, -1.0, 0.0])  # CA0-C0-N1-CA1: CA0 at +y, CA1 at -y -> 180°
    coords = np.stack([np.stack([n0, ca0, c0]), np.stack([n1, ca1, ca1 + [1.0, 0, 0]])])
    ang, ok = dihedrals(coords, np.array([0, 0]))
    assert ok.tolist() == [[False, True, True], [True, False, False]]
    assert abs(np.degrees(ang[0, 1])) == pytest.approx(90.0)
    assert abs(np.degrees(ang[0, 2])) == pytest.approx(180.0)
    _, ok = dihedrals(coords, np.array([0, 1]))  # a break between them
    assert not ok.any()
