"""Structure runs on the run contract (issue 13): ``train_structure_model`` writes a whole
:class:`~biolens.core.runs.RunFolder` (report and test evaluation included), returns a finished run
without training, refuses another run or a second process naming why, and older run folders stay
readable but are not resumed."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import biolens
import biolens.structure._pipeline
from biolens.core.config import save_config
from biolens.core.errors import InputError, RunLockedError, RunMismatchError
from biolens.data import resolve_input
from biolens.structure import (
    PRESETS,
    StructureResult,
    decode_text,
    evaluate_folder,
    folder_identity,
    tokenize_file,
    train_structure_model,
    write_run_report,
)
from biolens.structure._training import tiny_config
from run_lock import held_by_another_process

pytest.importorskip("gemmi")
pytest.importorskip("mini3di")
SAMPLE = "sample:structures"
TINY = PRESETS["tiny"]


def _no_training(*args, **kwargs):
    raise AssertionError("trained again")


def test_the_python_api_writes_the_whole_run_folder(structure_run):
    run, result = structure_run
    for name in ("config.json", "train/metrics.jsonl", "train/state.eqx", "checkpoint/meta.json", "split.json",
                 "data.json", "evaluation.json", "report.html", "result.json"):
        assert (run / name).is_file(), name
    assert not (run / "metrics.jsonl").exists() and not (run / "state.eqx").exists()  # fit's files live in train/
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "structure-tokenizer" and config["settings"]["model"]["codebook_size"] == 16
    assert config["data"] == folder_identity(resolve_input(SAMPLE)) and config["data"]["files"] == 8
    saved = StructureResult.from_json(json.loads((run / "result.json").read_text()))
    assert saved == StructureResult.from_json(result.to_json()) and saved.model is None  # the model is not in the JSON
    assert result.model is not None and result.codebook.size == 16
    assert result.steps == 30 and result.data["files"] == 8 and result.data["files_per_split"]["test"] == 1
    assert result.test == json.loads((run / "evaluation.json").read_text()) and result.test["chains"] >= 1
    assert result.validation == json.loads((run / "checkpoint" / "meta.json").read_text())["best_metrics"]
    assert (result.warning is not None) == ('<div class="banner" role="alert">' in (run / "report.html").read_text())


def test_a_finished_run_is_returned_without_training(structure_run, monkeypatch, tmp_path):
    run, result = structure_run
    before = {name: (run / name).read_bytes() for name in ("train/metrics.jsonl", "result.json", "report.html")}
    monkeypatch.setattr(biolens.structure._pipeline, "fit_structure_model", _no_training)
    again = train_structure_model(SAMPLE, run, TINY)
    assert again.to_json() == result.to_json() and again.codebook.size == 16
    assert {name: (run / name).read_bytes() for name in before} == before
    # the same files elsewhere are the same data: the run is found finished too
    moved = tmp_path / "moved"
    shutil.copytree(resolve_input(SAMPLE), moved)
    assert train_structure_model(moved, run, TINY).to_json() == result.to_json()


def test_a_run_stopped_before_its_result_finishes_without_training_again(structure_run, tmp_path):
    run, result = structure_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    for name in ("result.json", "report.html", "evaluation.json"):  # stopped after the checkpoint was saved
        (copy / name).unlink()
    log = (copy / "train" / "metrics.jsonl").read_bytes()
    resumed = train_structure_model(SAMPLE, copy, TINY)
    assert (copy / "train" / "metrics.jsonl").read_bytes() == log  # fit found its finished state
    assert (copy / "report.html").is_file() and (copy / "result.json").is_file()
    same = ("steps", "best_step", "validation", "data", "warning", "codebook_size")
    assert {k: getattr(resumed, k) for k in same} == {k: getattr(result, k) for k in same}
    assert {k: v for k, v in resumed.test.items() if k != "run"} == {k: v for k, v in result.test.items() if k != "run"}


def test_another_run_in_the_folder_is_refused_naming_the_difference(structure_run, tmp_path):
    run, _ = structure_run
    with pytest.raises(RunMismatchError, match=r"settings\.train\.max_steps: 30 → 31"):
        train_structure_model(SAMPLE, run, tiny_config(train=replace(TINY.train, max_steps=31)))
    fewer = tmp_path / "fewer"
    shutil.copytree(resolve_input(SAMPLE), fewer)
    (fewer / "bm5" / "1CLV_l_u.pdb.gz").unlink()
    with pytest.raises(RunMismatchError, match=r"data\.digest: .*data\.files: 8 → 7"):
        train_structure_model(fewer, run, TINY)
    assert json.loads((run / "config.json").read_text())["data"]["files"] == 8  # the saved run is untouched


def test_a_second_process_on_the_folder_stops_at_once(tmp_path):
    with held_by_another_process(tmp_path / "run"):
        with pytest.raises(RunLockedError, match=f"{tmp_path / 'run'} is in use by another biolens process"):
            train_structure_model(SAMPLE, tmp_path / "run", TINY)
        assert not (tmp_path / "run" / "config.json").exists()  # it stopped before any work


def _older_layout(run: Path, old: Path) -> Path:
    """The folder an older biolens wrote: a bare StructureConfig as config.json, fit's files at the top."""
    old.mkdir()
    for name in ("checkpoint", "split.json", "data.json"):
        (shutil.copytree if (run / name).is_dir() else shutil.copy)(run / name, old / name)
    for name in ("metrics.jsonl", "state.eqx"):
        shutil.copy(run / "train" / name, old / name)
    save_config(TINY, old / "config.json")
    return old


def test_an_older_run_folder_stays_readable_but_is_not_resumed(structure_run, tmp_path):
    run, result = structure_run
    old = _older_layout(run, tmp_path / "old")
    evaluation = evaluate_folder(old, resolve_input(SAMPLE))
    assert {k: v for k, v in evaluation.items() if k != "run"} == {k: v for k, v in result.test.items() if k != "run"}
    small = resolve_input(f"{SAMPLE}/bm5/1CLV_l_u.pdb.gz")
    ((_, tokens),) = tokenize_file(old, small)
    assert tokens == tokenize_file(run, small)[0][1]
    assert decode_text(old, tokens) == decode_text(run, tokens).replace(run.name, old.name)
    assert write_run_report(old, structures=SAMPLE) == evaluation | {"run": str(old)}  # its log at the top is read
    with pytest.raises(InputError, match=r"older biolens .* readable by evaluate, tokenize and decode .* new --out"):
        train_structure_model(SAMPLE, old, TINY)
    (old / "config.json").unlink()  # killed before a config was saved, or config removed: fit's state still tells
    with pytest.raises(InputError, match="older biolens"):
        train_structure_model(SAMPLE, old, TINY)


def test_settings_that_do_not_go_together_are_refused_before_any_work(tmp_path, capsys):
    from biolens.cli import main

    code = main(["structure", "train", "--structures", "sample:structures", "--out", str(tmp_path / "run"),
                 "--decoder", "global", "-q"])
    assert code == 2 and "needs attention_layers" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_the_default_preset_is_the_short_one_trained_three_times_as_long():
    """The measured provenance of the default (README table): the short preset's model, crops and
    schedule over 18,000 steps instead of 6,000, with K = 256 codes (issue 16 asks for K >= 256)."""
    default, short = PRESETS["default"], PRESETS["short"]
    assert (default.train.max_steps, short.train.max_steps) == (18000, 6000)
    assert replace(default, train=replace(default.train, max_steps=6000)) == short
    assert default.model.codebook_size == 256
