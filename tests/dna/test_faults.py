"""``biolens.dna.train`` (``biolens dna train``) killed or failed at its file operations
(tests/faults.py): the rerun in the same folder ends with the very folder of an uninterrupted run
(result.json, validation.json, checkpoint, training log and state; wall-clock fields aside).

Kill points (rule ``stages`` of ``faults.kill_points``): before the first operation on train/
(config.json and the data files written), before the last save of the training state, before the
first operation on checkpoint/, validation.json, report.html, result.json, and after the last
operation. Failures: a full disk at the first save of the training state, and in the middle of
writing the checkpoint. The default preset at the tiny sizes of tests/dna/test_run_folder.py;
figures are not drawn (``faults.undrawn_figures``)."""

import pytest

import faults
from biolens.data import resolve_input
from biolens.dna import DEFAULT_PRESET, PRESETS, read_tf_data
from biolens.dna import train as dna_train

CONFIG = PRESETS[DEFAULT_PRESET].replace(
    model=dict(conv_filters=8, kernel_size=5, dense_units=16, heads=2, transformer_hidden=8),
    train=dict(max_steps=12, eval_every=6))
DATA = read_tf_data(resolve_input("sample:ctcfl_train"))


def train(folder):
    return dna_train(DATA, CONFIG, folder, name=DEFAULT_PRESET, motif_check=False)


_undrawn, straight = faults.module_fixtures(train, "dna-faults")


def test_a_kill_at_each_stage_of_a_dna_run_reruns_to_the_same_folder(straight):
    base, ops = straight
    points = faults.kill_points(ops, "stages")
    assert [str(ops[k]) for k, _ in points] == [
        "mkdir train", "replace train/state.eqx", "mkdir checkpoint", "create validation.json", "create report.html",
        "create result.json", "replace result.json"
    ]
    faults.check_kills(base, base / "straight", ops, points, train)


@pytest.mark.parametrize(("op", "target", "names"), [("fsync", "train/state.eqx", None),
                                                       ("open-w", "checkpoint/model.eqx", "checkpoint")])
def test_a_full_disk_is_a_named_error_and_the_rerun_finishes(straight, op, target, names):
    """The checkpoint folder is written whole (a temporary folder renamed): its error names it."""
    base, ops = straight
    message = faults.check_failure(base, base / "straight", ops, faults.fail_point(ops, op, target),
                                   faults.DISK_FULL, train, names=names)
    assert "no space left on the device" in message
