"""``biolens.structure.train_structure_model`` (``biolens structure train``) killed or failed at its
file operations (tests/faults.py): the rerun in the same folder ends with the very folder of an
uninterrupted run (result.json, split.json, data.json, evaluation.json, checkpoint, training log
and state; wall-clock fields aside).

Kill points (rule ``stages`` of ``faults.kill_points``): before the first operation on train/
(config.json and the data files written), before the last save of the training state, before the
first operation on checkpoint/, evaluation.json, report.html, result.json, and after the last
operation. Failure: a full disk at the first save of the training state. The ``tiny`` preset on the
shipped sample, as tests/structure/conftest.py; figures are not drawn (``faults.undrawn_figures``)."""

import pytest

import faults

pytest.importorskip("gemmi")
pytest.importorskip("mini3di")
from biolens.structure import PRESETS, train_structure_model


def train(folder):
    return train_structure_model("sample:structures", folder, PRESETS["tiny"])


_undrawn, straight = faults.module_fixtures(train, "structure-faults")


def test_a_kill_at_each_stage_of_a_structure_run_reruns_to_the_same_folder(straight):
    base, ops = straight
    points = faults.kill_points(ops, "stages")
    assert [str(ops[k]) for k, _ in points] == [
        "mkdir train", "replace train/state.eqx", "mkdir checkpoint", "create evaluation.json", "create report.html",
        "create result.json", "replace result.json"
    ]
    faults.check_kills(base, base / "straight", ops, points, train)


def test_a_full_disk_is_a_named_error_and_the_rerun_finishes(straight):
    faults.check_state_save_failure(straight, train)
