"""A run folder held by another biolens process, for the tests of the run contract's lock."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import biolens

_HOLD = ("import sys\nfrom biolens.core.runs import RunFolder\nwith RunFolder(sys.argv[1]):\n"
         "    print('locked', flush=True)\n    sys.stdin.read()\n")


@contextmanager
def held_by_another_process(folder: Path) -> Iterator[None]:
    """While inside, a child process holds ``RunFolder(folder)``'s lock."""
    env = {**os.environ, "PYTHONPATH": str(Path(biolens.__file__).parents[1])}
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
