import numpy as np

from biolens.proteins.encoders import CompositionEncoder, OneHotEncoder, get_encoder
from biolens.proteins.encoders.onehot import residue_profile


def test_onehot_columns_and_ambiguity():
    prof = residue_profile("ACX")
    assert prof[0].tolist() == [1.0] + [0.0] * 19
    assert prof[1, 1] == 1.0 and np.allclose(prof[2], 1 / 20)
    b = residue_profile("B")[0]
    assert b[2] == b[11] == 0.5  # D and N
    assert residue_profile("U")[0, 1] == 1.0  # selenocysteine -> C


def test_composition_is_mean_of_onehot_and_dipeptides():
    enc = CompositionEncoder(dipeptides=True)
    f = enc.features("AAC")
    assert np.allclose(f[:20], residue_profile("AAC").mean(0))
    pairs = f[20:].reshape(20, 20)
    assert pairs[0, 0] == 0.5 and pairs[0, 1] == 0.5 and np.isclose(pairs.sum(), 1)
    assert enc.width == 420 and CompositionEncoder().width == 20


def test_fingerprints_distinguish_settings_and_are_stable():
    assert get_encoder("composition").fingerprint() == CompositionEncoder().fingerprint()
    assert CompositionEncoder().fingerprint() != CompositionEncoder(dipeptides=True).fingerprint()
    assert OneHotEncoder().fingerprint() != CompositionEncoder().fingerprint()
