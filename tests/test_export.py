import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.core.export import export_embeddings, load_embeddings, load_metadata

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


@pytest.mark.parametrize("per_residue", [False, True])
def test_h5_has_one_dataset_per_id_and_the_metadata(tmp_path, per_residue):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(2)
    ids = ["sp|P1|B", "a", "Z 3"]  # not sorted: the file keeps input order
    emb = [rng.normal(size=(n, 4)).astype(np.float32) for n in (2, 5, 1)] if per_residue else rng.normal(size=(3, 4)).astype(np.float32)
    meta = {"encoder": "esm2-8m", "layer": 6, "pooling": "mean", "fingerprint": "abc"}
    path = export_embeddings(tmp_path / "e.h5", ids, emb, metadata=meta)
    with h5py.File(path, "r") as f:  # what bio_embeddings / ProtSpace readers do
        assert sorted(f) == sorted(ids)
        assert np.allclose(f["sp|P1|B"][()], emb[0]) and f["a"].attrs["original_id"] == "a"
        assert f.attrs["encoder"] == "esm2-8m" and f.attrs["layer"] == 6
    back_ids, back = load_embeddings(path)
    assert back_ids == ids
    assert all(np.allclose(a, b) for a, b in zip(emb, back, strict=True))
    assert load_metadata(path) == meta


def test_h5_written_before_per_id_layout_still_reads(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "old.h5", "w") as f:
        f.create_dataset("ids", data=np.asarray(["b", "a"], dtype=object), dtype=h5py.string_dtype("utf-8"))
        f.create_dataset("embeddings", data=np.eye(2, 3, dtype=np.float32))
    ids, back = load_embeddings(tmp_path / "old.h5")
    assert ids == ["b", "a"] and np.array_equal(back, np.eye(2, 3, dtype=np.float32))


def test_h5_refuses_an_id_that_is_a_group_path(tmp_path):
    pytest.importorskip("h5py")
    with pytest.raises(InputError, match="id 'chain/A' cannot name an HDF5 dataset"):
        export_embeddings(tmp_path / "e.h5", ["chain/A"], np.zeros((1, 3), np.float32))
    assert not (tmp_path / "e.h5").exists()


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_metadata_travels_with_npz_and_parquet(tmp_path, suffix):
    meta = {"encoder": "unirep-64", "pooling": "mean+max"}
    path = export_embeddings(tmp_path / f"e{suffix}", ["a"], np.ones((1, 2), np.float32), metadata=meta)
    assert load_metadata(path) == meta
    ids, back = load_embeddings(path)
    assert ids == ["a"] and back.shape == (1, 2)
    plain = export_embeddings(tmp_path / f"p{suffix}", ["a"], np.ones((1, 2), np.float32))
    assert load_metadata(plain) == {}
