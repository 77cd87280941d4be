import numpy as np
import pytest

from biolens.data import resolve_input
from biolens.structure import load_folder
from biolens.structure._dataset import CropBatches, assign_split, crop

pytest.importorskip("gemmi")


def test_split_is_deterministic_seeded_and_near_its_fractions():
    names = [f"dir/{i:04d}.pdb.gz" for i in range(4000)]
    split = [assign_split(n, 0, val=0.05, test=0.10) for n in names]
    assert split == [assign_split(n, 0, val=0.05, test=0.10) for n in names]
    frac = {k: split.count(k) / len(names) for k in ("train", "val", "test")}
    assert abs(frac["test"] - 0.10) < 0.02 and abs(frac["val"] - 0.05) < 0.015
    other = [assign_split(n, 1, val=0.05, test=0.10) for n in names]
    assert other != split  # another seed, another split


@pytest.fixture(scope="module")
def chains():
    return load_folder(resolve_input("sample:structures"), neighbours=2)[0]


def test_crops_are_deterministic_and_stay_inside_segments(chains):
    batches = CropBatches(chains, crop_length=48, batch_size=4, min_length=8, seed=3)
    first = list(batches.epoch(0))
    again = list(batches.epoch(0))
    assert len(first) == len(batches) > 0
    for a, b in zip(first, again):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    batch = first[0]
    assert batch["features"].shape[:2] == (4, 48) and batch["coords"].shape == (4, 48, 4, 3)
    # real residues first, padding after; padded residues have no atoms
    for m, am in zip(batch["mask"], batch["atom_mask"]):
        n = int(m.sum())
        assert m[:n].all() and not m[n:].any() and not am[n:].any()
    assert not np.array_equal(next(iter(batches.epoch(1)))["coords"], batch["coords"])


def test_crop_pads_short_segments():
    seg = {"features": np.ones((5, 3), np.float32), "coords": np.ones((5, 4, 3), np.float32)}
    out = crop(seg, 2, 6)
    assert out["mask"].tolist() == [True, True, True, False, False, False]
    assert out["features"][3:].sum() == 0 and out["coords"].shape == (6, 4, 3)
