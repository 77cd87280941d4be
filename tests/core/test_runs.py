"""RunFolder: one layout, one identity check naming every difference, one lock, atomic results."""

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import biolens
from biolens.core.errors import BiolensError, RunLockedError, RunMismatchError
from biolens.core.runs import RunFolder, RunResult, content_digest

SETTINGS = {"head": {"kind": "mlp", "hidden": 64}, "split": {"valid_fraction": 0.1, "test_fraction": 0.2}, "seed": 0}
LABELS = np.array([0, 1, 1, 0])


def data_identity(labels=LABELS):
    return {"digest": content_digest(["a", "b", "c", "d"], ["MKV", "MKL", "MAA", "MCC"], labels), "records": 4}


def test_a_new_folder_records_its_identity_and_the_same_run_reopens(tmp_path):
    with RunFolder(tmp_path / "run").open(kind="t", settings=SETTINGS, data=data_identity(), info={"source": "x.csv"}) as run:
        assert run.config()["settings"] == SETTINGS and run.config()["info"] == {"source": "x.csv"}
    # the data moved elsewhere (another path in info) is the same run
    with RunFolder(tmp_path / "run").open(kind="t", settings=SETTINGS, data=data_identity(), info={"source": "y.csv"}):
        pass


def test_other_settings_are_refused_in_one_message_naming_every_field(tmp_path):
    RunFolder(tmp_path).open(kind="t", settings=SETTINGS, data=data_identity()).close()
    changed = {**SETTINGS, "split": {"valid_fraction": 0.2, "test_fraction": 0.3}, "head": {"kind": "mlp"}}
    with pytest.raises(RunMismatchError) as err:
        RunFolder(tmp_path).open(kind="t", settings=changed, data=data_identity())
    text = str(err.value)
    assert str(tmp_path) in text and "3 field(s) differ" in text
    assert "settings.split.valid_fraction: 0.1 → 0.2" in text
    assert "settings.split.test_fraction: 0.2 → 0.3" in text
    assert "settings.head.hidden: 64 → (absent)" in text
    assert isinstance(err.value, BiolensError)


def test_a_setting_added_later_at_its_default_keeps_the_run_and_any_other_value_does_not(tmp_path):
    from biolens.core.config import config_defaults
    from biolens.proteins.supervised import RunConfig

    RunFolder(tmp_path).open(kind="t", settings=SETTINGS, data=data_identity()).close()  # saved before "crop" existed
    defaults = {"crop": 256, "head": {"kind": "linear", "hidden": 64, "dropout": 0.1}}
    with RunFolder(tmp_path).open(kind="t", settings={**SETTINGS, "crop": 256}, data=data_identity(), defaults=defaults):
        pass
    for changed, field in [({**SETTINGS, "crop": 0}, "settings.crop: (absent) → 0"),
                           ({**SETTINGS, "head": {"kind": "mlp", "hidden": 64, "dropout": 0.3}}, "settings.head.dropout"),
                           ({"seed": 0, "split": SETTINGS["split"]}, "settings.head.hidden: 64 → (absent)")]:
        with pytest.raises(RunMismatchError, match=field.replace("(", r"\(").replace(")", r"\)")):
            RunFolder(tmp_path).open(kind="t", settings=changed, data=data_identity(), defaults=defaults)
    # the defaults of a real config: every field with a default, nested configs' own fields too
    d = config_defaults(RunConfig())
    assert d["pooling"] == "mean" and d["finetune"] is False and "learning_rate" in d["train"]
    assert d["head"]["kind"] == RunConfig().head.kind and d["lora"] == dataclasses.asdict(RunConfig().lora)


def test_other_data_content_with_the_same_count_is_refused(tmp_path):
    RunFolder(tmp_path).open(kind="t", settings=SETTINGS, data=data_identity()).close()
    with pytest.raises(RunMismatchError, match=r"data\.digest: \"[0-9a-f]+\.\.\." ):
        RunFolder(tmp_path).open(kind="t", settings=SETTINGS, data=data_identity(np.array([1, 1, 1, 0])))


def test_the_content_digest_sees_content_not_chunks():
    assert content_digest(["ab", "c"]) != content_digest(["a", "bc"])
    assert content_digest(np.array([1, 2], np.int32)) != content_digest(np.array([1, 2], np.int64))
    assert content_digest(np.array([1, 2])) != content_digest(np.array([[1, 2]]))
    assert content_digest({"b": 1, "a": [1.5, None]}) == content_digest({"a": [1.5, None], "b": 1})
    assert content_digest([np.zeros(3), "x"]) == content_digest([np.zeros(3), "x"])
    assert content_digest(True) != content_digest(1)


def test_a_folder_from_an_older_biolens_is_refused_clearly(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"task": "x", "run": {}}))
    with pytest.raises(RunMismatchError, match=r"older biolens.*Use a new --out folder"):
        RunFolder(tmp_path).open(kind="t", settings=SETTINGS, data=data_identity())


HOLDER = """
import sys
from biolens.core.runs import RunFolder
with RunFolder(sys.argv[1]).open(kind="t", settings={}, data={}):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_a_second_process_on_the_folder_stops_at_once_naming_it(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(biolens.__file__).parents[1])}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.perf_counter()
        with pytest.raises(RunLockedError) as err:
            RunFolder(tmp_path).open(kind="t", settings={}, data={})
        assert time.perf_counter() - start < 1.0
        assert str(tmp_path) in str(err.value) and f"pid {holder.pid}" in str(err.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    with RunFolder(tmp_path).open(kind="t", settings={}, data={}):  # free again once the holder exits
        pass


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scores(RunResult):
    primary: str
    metrics: dict[str, float]
    curve: tuple[float, ...] = ()
    notes: tuple[str, ...] = ()


def test_results_are_frozen_and_round_trip_through_result_json(tmp_path):
    result = Scores(primary="auroc", metrics={"auroc": 0.75}, curve=(0.5, 0.75), notes=("n",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.primary = "mcc"
    with RunFolder(tmp_path).open(kind="t", settings={}, data={}) as run:
        assert run.read_result(Scores) is None and not run.finished
        run.write_result(result)
        assert run.finished and run.read_result(Scores) == result
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "config.json", "result.json"]
    with pytest.raises(BiolensError, match="unknown Scores setting"):
        Scores.from_json({**result.to_json(), "typo": 1})
