"""Graph runs follow the run contract: the library writes the whole folder, refuses other data and a second process."""

import json
from pathlib import Path

import numpy as np
import pytest

from biolens.core.errors import InputError, RunLockedError, RunMismatchError
from biolens.graphs import GraphResult, evaluate, load, load_dataset, preset, train
from run_lock import held_by_another_process

CONFIG = preset("tiny", train=dict(max_epochs=2, batch_size=64))


def edge_list(path: Path, relabel: bool = False) -> Path:
    rng = np.random.default_rng(0)
    pairs = {tuple(sorted(p)) for p in rng.integers(0, 40, size=(260, 2)) if p[0] != p[1]}
    rows = sorted(pairs)[:200]
    if relabel:  # the same path, node and edge counts, other edges
        perm = np.random.default_rng(1).permutation(40)
        rows = [(int(perm[u]), int(perm[v])) for u, v in rows]
    path.write_text("".join(f"{u}\t{v}\n" for u, v in rows))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("graph")
    data = load_dataset(edge_list(root / "edges.tsv"), valid_fraction=0.2)
    return root, data, train(data, CONFIG, root / "run")


def test_train_writes_the_whole_folder_and_its_result_round_trips(trained):
    root, data, result = trained
    run = root / "run"
    for name in ("config.json", "result.json", "report.html", "train/seed-0/metrics.jsonl", "checkpoint/seed-0/meta.json",
                 "checkpoint/seed-0/nodes.npy"):
        assert (run / name).exists(), name
    assert isinstance(result, GraphResult) and result.seeds == (0,) and result.per_seed[0]["seed"] == 0
    assert GraphResult.from_json(json.loads((run / "result.json").read_text())) == result
    # evaluation on the validation split reproduces the training-time validation metrics of the best model
    got = evaluate(run, data.valid)
    assert got.metrics["hits@20"] == pytest.approx(result.valid["hits@20"]["mean"], abs=1e-9)
    assert load(run)[0].h.shape[0] == data.graph.num_nodes
    assert train(data, CONFIG, run) == result  # a finished run is returned, not retrained


def test_other_edges_with_the_same_path_and_count_are_refused(trained):
    root, data, _ = trained
    same_count = load_dataset(edge_list(root / "edges.tsv", relabel=True), valid_fraction=0.2)
    edge_list(root / "edges.tsv")
    assert same_count.graph.num_edges == data.graph.num_edges and same_count.graph.num_nodes == data.graph.num_nodes
    with pytest.raises(RunMismatchError, match=r"data\.digest"):
        train(same_count, CONFIG, root / "run")


def test_other_settings_are_refused_naming_them(trained):
    root, data, _ = trained
    with pytest.raises(RunMismatchError, match=r"settings\.train\.max_epochs: 2 → 3"):
        train(data, preset("tiny", train=dict(max_epochs=3, batch_size=64)), root / "run")


def test_a_second_process_on_the_folder_stops_at_once(trained, tmp_path):
    _, data, _ = trained
    with held_by_another_process(tmp_path / "run"):
        with pytest.raises(RunLockedError, match=f"{tmp_path / 'run'} is in use by another biolens process"):
            train(data, CONFIG, tmp_path / "run")
        assert not (tmp_path / "run" / "train").exists()  # it stopped before training


@pytest.mark.parametrize(("text", "problem"), [
    ('{"kind": ', r"config.json:1: invalid JSON at column 10"),
    ("[]\n", r"config.json: holds a JSON array, not the object of settings expected"),
    ('{"kind": "graph"}', r"config.json: has no run settings \(no 'settings' key\)"),
    ('{"settings": {"train": {}}}', r"config.json: its run settings are incomplete or altered \(KeyError: 'model'\)"),
])
def test_probe_run_config_json_broken_or_of_another_shape_is_named(tmp_path, text, problem):
    """Issue 14: invalid JSON in a run's config.json was a traceback; so was valid JSON of another shape."""
    (tmp_path / "config.json").write_text(text)
    with pytest.raises(InputError, match=problem):
        load(tmp_path)
