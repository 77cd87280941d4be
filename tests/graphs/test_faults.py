"""``biolens.graphs.train`` (``biolens graph train``) killed or failed at its file operations
(tests/faults.py): the rerun in the same folder ends with the very folder of an uninterrupted run
(result.json, the saved graph and split, each seed's training log, state, validation scores and
checkpoint; wall-clock fields aside).

Kill points (rule ``stages`` of ``faults.kill_points``): before the first operation on train/
(config.json and the data files written), before the last save of the training state, before the
first operation on checkpoint/, result.json, report.html (made from result.json; a rerun writes both
again), and after the last operation. Failure: a full disk at the first save of the training state.
The config of tests/graphs/test_run_folder.py; figures are not drawn (``faults.undrawn_figures``)."""

import numpy as np
import pytest

import faults
from biolens.graphs import load_dataset, preset
from biolens.graphs import train as graph_train

CONFIG = preset("tiny", train=dict(max_epochs=2, batch_size=64))


@pytest.fixture(scope="module", autouse=True)
def _undrawn():
    with faults.undrawn_figures():
        yield


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    base = tmp_path_factory.mktemp("graph-faults")
    rng = np.random.default_rng(0)
    pairs = sorted({tuple(sorted(p)) for p in rng.integers(0, 40, size=(260, 2)) if p[0] != p[1]})[:200]
    (base / "edges.tsv").write_text("".join(f"{u}\t{v}\n" for u, v in pairs))
    data = load_dataset(base / "edges.tsv", valid_fraction=0.2)

    def train(folder):
        return graph_train(data, CONFIG, folder)

    with faults.FileOps(base / "straight") as ops:
        train(base / "straight")
    return base, ops.ops, train


def test_a_kill_at_each_stage_of_a_graph_run_reruns_to_the_same_folder(straight):
    base, ops, train = straight
    points = faults.kill_points(ops, "stages")
    assert [str(ops[k]) for k, _ in points] == [
        "mkdir train/seed-0", "replace train/seed-0/state.eqx", "mkdir checkpoint", "create result.json",
        "create report.html", "replace report.html"
    ]
    faults.check_kills(base, base / "straight", ops, points, train)


def test_a_full_disk_is_a_named_error_and_the_rerun_finishes(straight):
    base, ops, train = straight
    message = faults.check_failure(base, base / "straight", ops, faults.fail_point(ops, "fsync", "train/seed-0/state.eqx"),
                                   faults.DISK_FULL, train)
    assert "no space left on the device" in message
