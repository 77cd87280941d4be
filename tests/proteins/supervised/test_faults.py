"""``run_task`` (``biolens train``) killed or failed at its file operations (tests/faults.py): the
rerun in the same folder ends with the very folder of an uninterrupted run (result.json metrics,
predictions.csv, split, checkpoint, training log and state; wall-clock fields aside).

Kill points (rule ``stages`` of ``faults.kill_points``): before the first operation on train/
(config.json and the data files written), before the last save of the training state, before the
first operation on checkpoint/, split_hashes.npz, predictions.csv, report.html, result.json, and
after the last operation. Failures: a full disk at the lock file, at the first save of the training
state, and a torn append to the training log. Figures are not drawn (``faults.undrawn_figures``)."""

import pytest

import faults
from biolens.core.train import TrainConfig
from biolens.data import sample_path
from biolens.proteins.supervised import RunConfig, run_task
from biolens.proteins.tasks import load_task

CONFIG = RunConfig(train=TrainConfig(max_epochs=3, patience=None, learning_rate=1e-2, batch_size=64), bootstrap=10,
                   size_curve=(), baselines=False, calibration="none", threshold_rule="fixed")
DATA = load_task("solubility", sample_path("solubility"))


def train(folder):
    return run_task(DATA, "composition", "linear", out_dir=folder, config=CONFIG, cache=folder / "store.sqlite")


_undrawn, straight = faults.module_fixtures(train, "protein-faults")


def test_a_kill_at_each_stage_of_a_protein_run_reruns_to_the_same_folder(straight):
    base, ops = straight
    points = faults.kill_points(ops, "stages")
    assert [str(ops[k]) for k, _ in points] == [
        "mkdir train", "replace train/state.eqx", "mkdir checkpoint", "create split_hashes.npz",
        "create predictions.csv", "create test_predictions.npz", "create report.html", "create result.json",
        "replace result.json"
    ]
    faults.check_kills(base, base / "straight", ops, points, train)


@pytest.mark.parametrize(("op", "target"), [("open-a", ".lock"), ("fsync", "train/state.eqx"),
                                          ("open-a", "train/metrics.jsonl")])
def test_a_full_disk_is_a_named_error_and_the_rerun_finishes(straight, op, target):
    """The torn append to the log comes after the first saved state: the rerun resumes from it."""
    base, ops = straight
    after = -1 if target == ".lock" else faults.fail_point(ops, "replace", "train/state.eqx")
    k = faults.fail_point(ops, op, target, after=after)
    message = faults.check_failure(base, base / "straight", ops, k, faults.DISK_FULL, train)
    assert "no space left on the device" in message
