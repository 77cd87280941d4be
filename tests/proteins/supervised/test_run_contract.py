"""Protein runs follow the run contract: one start-up check (settings, split, data content), one lock,
and prediction reads what the model was trained with from its checkpoint."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import biolens
from biolens.core.errors import CheckpointMismatchError, RunLockedError, RunMismatchError
from biolens.core.train import TrainConfig
from biolens.data import sample_path
from biolens.proteins import run as protein_run
from biolens.proteins.model_io import load_predictor
from biolens.proteins.run import RunConfig, load_result, run_task
from biolens.proteins.splits import SplitConfig
from biolens.proteins.tasks import load_task

CONFIG = RunConfig(train=TrainConfig(max_epochs=3, patience=None, learning_rate=1e-2, batch_size=64), bootstrap=10,
                   size_curve=(), baselines=False, calibration="none", threshold_rule="fixed")


def solubility(path: Path, flip: int = 0) -> Path:
    """The shipped solubility sample at ``path``; ``flip`` first labels inverted (same records, same count)."""
    lines = sample_path("solubility").read_text().splitlines()
    for i in range(1, flip + 1):
        seq, label = lines[i].rsplit(",", 1)
        lines[i] = f"{seq},{1 - int(label)}"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    root = tmp_path_factory.mktemp("protein")
    data = load_task("solubility", solubility(root / "sol.csv"))
    result = run_task(data, "composition", "linear", out_dir=root / "run", config=CONFIG, cache=root / "cache.sqlite")
    return root, data, result


def test_a_finished_run_writes_the_contract_layout_and_is_reused(finished):
    root, data, result = finished
    run = root / "run"
    for name in ("config.json", "split.csv", "train/state.eqx", "train/metrics.jsonl", "checkpoint/meta.json",
                 "result.json", "predictions.csv", "report.html"):
        assert (run / name).exists(), name
    assert load_result(run) == replace(result, reused=True)
    again = run_task(data, "composition", "linear", out_dir=run, config=CONFIG)
    assert again.reused and again.metrics == result.metrics


class Killed(BaseException):
    pass


def test_a_killed_run_resumed_with_other_split_fractions_is_refused(tmp_path, monkeypatch):
    data = load_task("solubility", sample_path("solubility"))

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(protein_run, "train_on", killed)  # killed after the split was made, before training ended
    with pytest.raises(Killed):
        run_task(data, "composition", "linear", out_dir=tmp_path / "run", config=CONFIG)
    monkeypatch.undo()
    assert (tmp_path / "run/split.csv").exists() and not (tmp_path / "run/result.json").exists()
    other = replace(CONFIG, split=SplitConfig(valid_fraction=0.2, test_fraction=0.3))
    with pytest.raises(RunMismatchError) as err:
        run_task(data, "composition", "linear", out_dir=tmp_path / "run", config=other)
    assert "settings.run.split.valid_fraction: 0.1 → 0.2" in str(err.value)
    assert "settings.run.split.test_fraction: 0.2 → 0.3" in str(err.value)
    saved = json.loads((tmp_path / "run/config.json").read_text())
    assert saved["settings"]["run"]["split"]["valid_fraction"] == 0.1  # the folder still says what it holds


def test_changed_labels_in_the_same_file_with_the_same_count_are_refused(finished, tmp_path):
    root, data, _ = finished
    shutil.copytree(root / "run", tmp_path / "run")
    edited = load_task("solubility", solubility(root / "sol.csv", flip=5))  # same path, same 400 records
    solubility(root / "sol.csv")
    assert edited.source == data.source and len(edited) == len(data)
    with pytest.raises(RunMismatchError, match=r"data\.digest: "):
        run_task(edited, "composition", "linear", out_dir=tmp_path / "run", config=CONFIG)


HOLDER = """
import sys
from biolens.core.runs import RunFolder
with RunFolder(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_a_second_process_on_the_run_folder_stops_at_once(tmp_path):
    data = load_task("solubility", sample_path("solubility"))
    env = {**os.environ, "PYTHONPATH": str(Path(biolens.__file__).parents[1])}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "run")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"{tmp_path / 'run'} is in use by another biolens process"):
            run_task(data, "composition", "linear", out_dir=tmp_path / "run", config=CONFIG)
        assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [".lock"]  # nothing written
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_predict_refuses_a_config_that_disagrees_with_the_checkpoint(finished, tmp_path):
    root, _, _ = finished
    shutil.copytree(root / "run", tmp_path / "run")
    path = tmp_path / "run/config.json"
    saved = json.loads(path.read_text())
    settings = saved.get("settings", saved)  # (where main kept the run settings too)
    settings["run"]["pooling"] = "max"
    path.write_text(json.dumps(saved))
    with pytest.raises(CheckpointMismatchError, match=r"run\.pooling|pooling: \"mean\" → \"max\""):
        load_predictor(tmp_path / "run")
    # the checkpoint's meta.json is what prediction reads
    predictor = load_predictor(root / "run")
    assert predictor.config.pooling == "mean" and predictor.config == replace(CONFIG, head=predictor.config.head)
