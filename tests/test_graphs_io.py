import gzip
import pickle
import zipfile

import numpy as np
import pytest

from biolens.core.errors import InputError
from biolens.core.ptfile import PtFileError, UnsupportedPickle, read_pt_file
from biolens.data import resolve_input
from biolens.graphs import canonical_edges, load_dataset, load_ogb, read_edge_list, read_split

SAMPLE = resolve_input("sample:ogbl-ddi-sample")


def gz(path, text):
    with gzip.open(path, "wt") as fh:
        fh.write(text)
    return path


def ogb_dir(tmp_path, edges="0,1\n1,2\n2,3\n", nodes=5, valid=None):
    (tmp_path / "raw").mkdir(parents=True)
    gz(tmp_path / "raw/edge.csv.gz", edges)
    gz(tmp_path / "raw/num-node-list.csv.gz", f"{nodes}\n")
    (tmp_path / "split/target").mkdir(parents=True)
    valid = valid if valid is not None else {"edge": np.array([[0, 3]]), "edge_neg": np.array([[1, 4], [0, 4]])}
    np.savez(tmp_path / "split/target/valid.npz", **valid)
    return tmp_path


def test_sample_loads_in_ogb_layout():
    data = load_ogb(SAMPLE)
    g = data.graph
    assert (g.num_nodes, g.num_edges) == (400, 10466)
    assert (g.edges[:, 0] < g.edges[:, 1]).all() and len(np.unique(g.edges, axis=0)) == g.num_edges
    assert g.names[0].startswith("DB") and len(set(g.names)) == 400
    assert data.valid.edge.shape == (1263, 2) and data.valid.edge_neg.shape == (877, 2)
    assert data.test is None and data.summary.duplicates == data.summary.reversed == 0


def test_pt_split_is_read_without_unpickling_and_matches_npz():
    split_dir = SAMPLE / "split/target"
    from_pt = read_pt_file(split_dir / "valid.pt")
    with np.load(split_dir / "valid.npz") as z:
        for key in ("edge", "edge_neg"):
            assert from_pt[key].dtype == np.int64 and np.array_equal(from_pt[key], z[key])
    assert np.array_equal(read_split(split_dir / "valid.pt", 400).edge, read_split(split_dir / "valid.npz", 400).edge)


def test_real_ogb_pt_file_when_available():
    path = resolve_input("../shared/data/graphs/ogbl_ddi/split/target/valid.pt")
    if not path.exists():
        pytest.skip("the full ogbl-ddi copy (../shared/data) is not here")
    got = read_pt_file(path)
    with np.load(path.with_suffix(".npz")) as z:
        assert all(np.array_equal(got[k], z[k]) for k in ("edge", "edge_neg"))


class Boom:
    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


def test_malicious_pickle_is_refused_without_running_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    with path.open("wb") as fh:  # the legacy torch layout: magic, protocol, sys info, object, keys
        for obj in (0x1950A86A20F9469CFC6C, 1001, {}, {"edge": Boom()}, []):
            pickle.dump(obj, fh, protocol=2)
    with pytest.raises(UnsupportedPickle, match=r"refers to __builtin__.exec, which is not read here"):
        read_pt_file(path)
    assert not (tmp_path / "PWNED").exists()
    with pytest.raises(InputError, match="without unpickling"):
        read_split(path, 10)  # the error explains how to convert it (torch refuses it too)
    assert not (tmp_path / "PWNED").exists()


def test_zip_format_tensors_are_read(tmp_path):
    torch = pytest.importorskip("torch")
    edge = torch.arange(12).reshape(6, 2)
    torch.save({"edge": edge, "edge_neg": edge.t().contiguous().t()[:3]}, tmp_path / "v.pt")
    assert zipfile.is_zipfile(tmp_path / "v.pt")
    got = read_pt_file(tmp_path / "v.pt")
    assert np.array_equal(got["edge"], edge.numpy()) and np.array_equal(got["edge_neg"], edge.numpy()[:3])


def test_legacy_tensor_file_falls_back_to_torch_weights_only(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"edge": torch.tensor([[0, 1]]), "edge_neg": torch.tensor([[2, 3]])}, tmp_path / "v.pt",
               _use_new_zipfile_serialization=False)
    split = read_split(tmp_path / "v.pt", 4)
    assert split.edge.tolist() == [[0, 1]] and split.edge_neg.tolist() == [[2, 3]]


def test_duplicate_and_reversed_edges_are_merged_and_counted():
    rows = np.array([[0, 1], [1, 0], [2, 3], [0, 1], [3, 2], [1, 2]])
    edges, summary = canonical_edges(rows, 4)
    assert edges.tolist() == [[0, 1], [1, 2], [2, 3]]
    assert (summary.rows, summary.edges, summary.duplicates, summary.reversed) == (6, 3, 1, 2)
    with pytest.raises(InputError, match=r":2: edge \(1, 0\) repeats an earlier row"):
        canonical_edges(rows, 4, on_duplicate="error", source="e.csv")


def test_duplicate_or_reversed_row_of_an_edge_file_names_its_line(tmp_path):
    root = ogb_dir(tmp_path, edges="0,1\n1,2\n\n2,1\n")  # line 4 reverses line 2 (line 3 is blank)
    merged = load_ogb(root)
    assert merged.graph.edges.tolist() == [[0, 1], [1, 2]] and merged.summary.reversed == 1
    with pytest.raises(InputError, match=r"edge.csv.gz:4: edge \(2, 1\) repeats an earlier row"):
        load_ogb(root, on_duplicate="error")


def test_self_loops_are_an_error_or_dropped_and_counted():
    rows = np.array([[0, 1], [2, 2], [1, 2]])
    with pytest.raises(InputError, match=r"e.csv:2: self-loop \(2, 2\)"):
        canonical_edges(rows, 3, source="e.csv")
    edges, summary = canonical_edges(rows, 3, on_self_loop="drop")
    assert edges.tolist() == [[0, 1], [1, 2]] and summary.self_loops == 1


def test_out_of_range_node_id_names_the_line(tmp_path):
    root = ogb_dir(tmp_path, edges="0,1\n1,2\n2,7\n")
    with pytest.raises(InputError, match=r"edge.csv.gz:3: edge \(2, 7\): node id out of range 0..4"):
        load_ogb(root)
    with pytest.raises(InputError, match=r"edge.csv.gz:2: not a node index: '-1'"):
        load_ogb(ogb_dir(tmp_path / "neg", edges="0,1\n-1,2\n"))


@pytest.mark.parametrize("text, line, found", [("0,1\n1,2,3\n2,3\n", 2, 3), ("0,1\n1\n2,3\n", 2, 1),
                                                ("0,1,5\n1,2\n", 1, 3)])
def test_ragged_edge_file_names_the_line(write, text, line, found):
    path = write("edges.csv", text)
    with pytest.raises(InputError, match=rf"edges.csv:{line}: expected 2 fields.*found {found}"):
        read_edge_list(path)


def test_empty_and_broken_splits_are_refused(tmp_path):
    empty = {"edge": np.zeros((0, 2), np.int64), "edge_neg": np.array([[0, 1]])}
    with pytest.raises(InputError, match="'edge' is empty: nothing to evaluate"):
        load_ogb(ogb_dir(tmp_path, valid=empty))
    np.savez(tmp_path / "bad.npz", edge=np.array([[0, 9]]), edge_neg=np.array([[0, 1]]))
    with pytest.raises(InputError, match=r"bad.npz, record 'row 0': edge \(0, 9\): node id out of range"):
        read_split(tmp_path / "bad.npz", 5)
    np.savez(tmp_path / "nokey.npz", edge=np.array([[0, 1]]))
    with pytest.raises(InputError, match=r"lacks \['edge_neg'\]"):
        read_split(tmp_path / "nokey.npz", 5)
    (tmp_path / "junk.pt").write_bytes(b"not a torch file at all")
    with pytest.raises(InputError, match=r"junk\.pt: not a readable torch.save file \(ValueError: at position 0"):
        read_split(tmp_path / "junk.pt", 5)
    with pytest.raises(InputError, match="split file not found"):
        read_split(tmp_path / "missing.npz", 5)


def test_edge_list_with_header_and_names_gets_a_seeded_holdout(write):
    rows = "".join(f"DB{a:05d},DB{b:05d}\n" for a in range(12) for b in range(a + 1, 12) if (a + b) % 3)
    path = write("ddi.csv", "drug1,drug2\n" + rows)
    a = load_dataset(path, valid_fraction=0.2, seed=1)
    b = load_dataset(path, valid_fraction=0.2, seed=1)
    assert a.graph.names[0] == "DB00000" and a.graph.num_nodes == 12
    assert np.array_equal(a.valid.edge, b.valid.edge) and np.array_equal(a.valid.edge_neg, b.valid.edge_neg)
    all_edges = {tuple(e) for e in np.sort(np.concatenate([a.graph.edges, a.valid.edge]), axis=1)}
    assert len(all_edges) == rows.count("\n")  # train and valid positives partition the edges
    assert not {tuple(e) for e in a.valid.edge_neg} & all_edges and (a.valid.edge_neg[:, 0] != a.valid.edge_neg[:, 1]).all()


def test_edge_list_of_indices_without_header(write):
    pairs, n, names, lines = read_edge_list(write("e.tsv", "0\t1\n\n2\t1\n"))
    assert pairs.tolist() == [[0, 1], [2, 1]] and n is None and names is None and lines.tolist() == [1, 3]


def test_tensor_that_overruns_its_storage_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"edge": torch.arange(6).reshape(3, 2)}, tmp_path / "v.pt")
    with zipfile.ZipFile(tmp_path / "v.pt") as z:
        files = {n: z.read(n) for n in z.namelist()}
    storage = next(n for n in files if "/data/" in n and not n.endswith(".pkl"))
    files[storage] = files[storage][:16]  # two int64 values left for a 3 x 2 tensor
    with zipfile.ZipFile(tmp_path / "cut.pt", "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    with pytest.raises(PtFileError, match="does not fit its storage"):
        read_pt_file(tmp_path / "cut.pt")


def test_header_rule_keeps_a_first_row_of_two_node_names(write):
    # the issue: 'a,b' is an edge between nodes a and b, not a header
    path = write("named.csv", "a,b\nb,c\nc,a\nc,d\n")
    notes = []
    pairs, _, names, lines = read_edge_list(path, notes=notes)
    assert names.tolist() == ["a", "b", "c", "d"] and pairs.tolist() == [[0, 1], [1, 2], [2, 0], [2, 3]]
    assert lines.tolist() == [1, 2, 3, 4] and "read as an edge: its node names appear in other rows" in notes[0]
    notes = []
    pairs, _, names, _ = read_edge_list(write("hdr.csv", "source,target\nb,c\nc,a\n"), notes=notes)
    assert names.tolist() == ["a", "b", "c"] and "read as a header: neither name appears" in notes[0]
    notes = []
    pairs, *_ = read_edge_list(write("ints.csv", "u,v\n0,1\n\n1,2\n"), notes=notes)
    assert pairs.tolist() == [[0, 1], [1, 2]] and "not two integer node ids like the other rows" in notes[0]
    pairs, *_ = read_edge_list(write("mapped.csv", "a,b\nb,c\n"), names=np.array(["a", "b", "c"]))
    assert pairs.tolist() == [[0, 1], [1, 2]]
    pairs, *_ = read_edge_list(write("forced.csv", "source,target\nb,c\nc,a\n"), header=False)
    assert len(pairs) == 3
    data = load_dataset(path, valid_fraction=0.25, seed=0)
    assert data.graph.num_nodes == 4 and any("read as an edge" in n for n in data.notes)


def test_unicode_digits_are_not_node_indices(write):
    with pytest.raises(InputError, match=r"e.csv:2: not a node index: '²'"):
        read_edge_list(write("e.csv", "0,1\n²,1\n"), num_nodes=3)


def test_probe_split_with_edge_equal_to_edge_neg_is_refused(tmp_path):
    """Issue 14 'acceptable' case decided: a pair both positive and negative scored 1.0 without a
    word; now refused with the count (reversed pairs count: the graph is undirected)."""
    path = tmp_path / "same.npz"
    np.savez(path, edge=np.array([[0, 1], [2, 3], [1, 4]]), edge_neg=np.array([[3, 2], [0, 4], [1, 0]]))
    with pytest.raises(InputError, match=r"2 of the split's 3 negative pairs are also positive pairs in 'edge' \(first: \(3, 2\)\)"):
        read_split(path, 5)
    np.savez(path, edge=np.array([[0, 1], [2, 3]]), edge_neg=np.array([[0, 4], [1, 3]]))
    assert read_split(path, 5).edge_neg.shape == (2, 2)


def test_probe_edge_row_far_node_is_reported(tmp_path):
    """Issue 14 'acceptable' case decided: one row 5,999999 made a 1,000,000-node graph without a
    warning; now LinkDataset.notes (printed by graph train) counts the isolated nodes and names the row."""
    path = tmp_path / "far.csv"
    path.write_text("".join(f"{i},{i + 1}\n" for i in range(20)) + "5,999999\n")
    data = load_dataset(path)
    assert data.graph.num_nodes == 1_000_000
    note = next(n for n in data.notes if "in no edge" in n)
    assert "999,978 of them in no edge" in note and "WARNING" in note and "line 21 (5, 999999)" in note
    path.write_text("0,1\n1,2\n2,4\n")  # one gap: counted, no warning
    assert load_dataset(path).notes == ("far.csv: 5 nodes (ids 0..4), 1 of them in no edge",)
    path.write_text("".join(f"{i},{i + 1}\n" for i in range(20)))
    assert load_dataset(path).notes == ()
