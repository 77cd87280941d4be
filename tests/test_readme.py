"""The README's runnable blocks run: every fenced block after a ``<!-- test`` comment line.

``bash`` blocks: each ``biolens ...`` line goes through ``main([...])`` in-process (no subprocess
start-up); ``python`` blocks are executed. Both run in a temporary folder on the shipped samples.
Blocks that need user files, weights, the network or minutes of training are not marked.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from biolens.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"^<!-- test.*?-->\n```(\w+)\n(.*?)^```", re.M | re.S)


def runnable_blocks() -> list[tuple[str, str]]:
    return _BLOCK.findall(README.read_text())


def test_the_readme_marks_blocks_to_run():
    kinds = [kind for kind, _ in runnable_blocks()]
    assert "bash" in kinds and "python" in kinds, kinds


@pytest.mark.parametrize(("kind", "code"), runnable_blocks(), ids=lambda v: v if v in ("bash", "python") else "")
def test_readme_block_runs(kind, code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    if kind == "python":
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
        return
    assert kind == "bash", f"runnable blocks are bash or python, not {kind}"
    for line in code.splitlines():
        argv = shlex.split(line, comments=True)
        if not argv:
            continue
        assert argv[0] == "biolens", f"README line is not a biolens command: {line}"
        assert main(argv[1:]) == 0, f"README line failed: {line}\n{capsys.readouterr().err}"
