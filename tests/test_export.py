import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.core.export import export_embeddings, load_embeddings

FORMATS = [".npz", ".parquet", ".h5"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_pooled_roundtrip(tmp_path, suffix):
    if suffix == ".h5":
        pytest.importorskip("h5py")
    emb = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    path = export_embeddings(tmp_path / f"e{suffix}", ["a", "b", "c"], emb)
    ids, back = load_embeddings(path)
    assert ids == ["a", "b", "c"] and np.allclose(back, emb)


@pytest.mark.parametrize("suffix", FORMATS)
def test_per_residue_roundtrip(tmp_path, suffix):
    if suffix == ".h5":
        pytest.importorskip("h5py")
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(n, 4)).astype(np.float32) for n in (3, 1, 7)]
    path = export_embeddings(tmp_path / f"r{suffix}", ["x", "y", "z"], arrays)
    ids, back = load_embeddings(path)
    assert ids == ["x", "y", "z"]
    assert all(np.allclose(a, b) for a, b in zip(arrays, back, strict=True))


def test_npz_layout_is_plain_arrays(tmp_path):
    path = export_embeddings(tmp_path / "e.npz", ["a", "b"], np.zeros((2, 3), np.float32))
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == ["embeddings", "ids"]


def test_duplicate_ids_and_bad_suffix(tmp_path):
    with pytest.raises(InputError, match="duplicate ids"):
        export_embeddings(tmp_path / "e.npz", ["a", "a"], np.zeros((2, 3), np.float32))
    with pytest.raises(InputError, match="unknown export format"):
        export_embeddings(tmp_path / "e.txt", ["a"], np.zeros((1, 3), np.float32))
