"""The command tree: one group per domain (protein, dna, graph, structure, lm); the top-level
commands from before the groups (train, evaluate, predict, pretrain, mutations) are the same commands."""

from __future__ import annotations

import pytest

from biolens.cli import cli, main

TINY = ["--data", "sample:solubility", "--task", "solubility", "--encoder", "composition", "--head", "linear",
        "--epochs", "5", "--bootstrap", "10", "--size-curve", "none", "--quiet"]


def _help(capsys, *argv: str) -> str:
    assert main([*argv, "--help"]) == 0
    return capsys.readouterr().out


def test_help_lists_the_groups_and_names_the_new_spelling_of_each_alias(capsys):
    text = _help(capsys)
    assert {"protein", "dna", "graph", "structure", "lm"} <= set(cli.commands)
    for group in ("protein", "dna", "graph", "structure", "lm"):
        assert f"  {group} " in text, group
    assert "Same as `biolens protein train`." in " ".join(text.split())
    for group, commands in {"protein": {"train", "evaluate", "predict"}, "dna": {"train", "evaluate", "predict"},
                            "graph": {"train", "evaluate", "predict"}, "structure": {"train", "evaluate"},
                            "lm": {"pretrain", "mutations", "probs"}}.items():
        assert commands <= set(cli.commands[group].commands), group
    for old, new in {"train": "protein", "evaluate": "protein", "predict": "protein", "pretrain": "lm",
                     "mutations": "lm"}.items():
        twin, command = cli.commands[old], cli.commands[new].commands[old]
        assert twin.params is command.params and twin.callback is command.callback
        assert f"biolens {new} {old}" in _help(capsys, old)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tree")
    out = {}
    for name, argv in {"old": ["train"], "new": ["protein", "train"]}.items():
        out[name] = root / name
        assert main([*argv, *TINY, "--out", str(out[name]), "--cache", str(root / f"{name}.sqlite")]) == 0
    return out


def test_both_spellings_train_evaluate_and_predict_the_same(runs, tmp_path, capsys):
    old, new = runs["old"], runs["new"]
    assert (old / "predictions.csv").read_text() == (new / "predictions.csv").read_text()
    assert main(["evaluate", str(old)]) == 0
    by_old = capsys.readouterr().out
    assert main(["protein", "evaluate", str(new)]) == 0
    assert capsys.readouterr().out == by_old and "auroc" in by_old
    assert main(["predict", str(old), "sample:solubility", "--out", str(tmp_path / "a.csv"), "--quiet"]) == 0
    assert main(["protein", "predict", str(new), "sample:solubility", "--out", str(tmp_path / "b.csv"), "--quiet"]) == 0
    rows = (tmp_path / "a.csv").read_text().splitlines()
    assert len(rows) == 401 and rows == (tmp_path / "b.csv").read_text().splitlines()
