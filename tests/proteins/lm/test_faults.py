"""``biolens.proteins.pretrain`` (``biolens pretrain``, a masked LM) killed or failed at its file
operations (tests/faults.py): the rerun in the same folder ends with the very folder of an
uninterrupted run (result.json, the validation split, the HF checkpoint folder, training log and
state; wall-clock fields aside).

Kill points (rule ``stages`` of ``faults.kill_points``): before the first operation on train/
(config.json and the data files written), before the last save of the training state, before the
first operation on checkpoint/, curves.png, report.html, result.json, and after the last operation.
Failure: a full disk at the first save of the training state. The tiny model of
tests/proteins/lm/test_pretrain.py; figures are not drawn (``faults.undrawn_figures``)."""

import numpy as np

import faults
from biolens.proteins import PretrainConfig, pretrain

RNG = np.random.default_rng(0)
MOTIFS = ["MKTAYIAKQRQISFVKSHFSRQ", "GSSGSSGEELLKKAEELLKRLG", "WDWDWDHPHPHPCCNNCCNN"]
CORPUS = ["".join(MOTIFS[(i + j) % 3] + "".join(RNG.choice(list("ACDEFGHIKLMNPQRSTVWY"), 2)) for j in range(2))
          for i in range(40)]
CONFIG = PretrainConfig(steps=9, preset="tiny", layers=1, hidden=16, heads=2, ffn=32, token_budget=512, crop=60,
                        learning_rate=1e-2, eval_every=4, checkpoint_every=3, log_every=2, valid_fraction=0.1)


def train(folder):
    return pretrain(CORPUS, folder, CONFIG)


_undrawn, straight = faults.module_fixtures(train, "pretrain-faults")


def test_a_kill_at_each_stage_of_pretraining_reruns_to_the_same_folder(straight):
    base, ops = straight
    points = faults.kill_points(ops, "stages")
    assert [str(ops[k]) for k, _ in points] == [
        "mkdir train", "replace train/state.eqx", "mkdir checkpoint", "open-w curves.png", "create report.html",
        "create result.json", "replace result.json"
    ]
    faults.check_kills(base, base / "straight", ops, points, train)


def test_a_full_disk_is_a_named_error_and_the_rerun_finishes(straight):
    faults.check_state_save_failure(straight, train)
