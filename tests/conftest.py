"""Shared fixtures: every test gets its own embedding store; JAX stays on the CPU; no compiled code
is written to ~ (the persistent compilation cache is off)."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pytest

# The CLI takes COLUMNS as the user's chosen width (piped output is LOG_WIDTH wide otherwise), and
# pytest-xdist workers inherit COLUMNS=80: drop it, so every test sees piped output, in any runner.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


# Seconds each test file took in a recorded run (tests/record_durations.py writes it from a JUnit XML).
FILE_SECONDS = Path(__file__).with_name("file_seconds.json")


def pytest_collection_modifyitems(session, config, items):
    """Run the costliest test files first. Under ``--dist loadfile`` each file is one unit of work
    handed to the next free process in this order, so longest-first leaves only short files for
    the end instead of one process running a long file while the other waits. Files without a
    record count as the median file; the order within a file is kept."""
    try:
        seconds = json.loads(FILE_SECONDS.read_text())
    except (OSError, ValueError):
        return
    typical = sorted(seconds.values())[len(seconds) // 2] if seconds else 0.0
    rank = {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        rank.setdefault(path, (-seconds.get(path, typical), len(rank)))
    items.sort(key=lambda item: rank[item.nodeid.split("::", 1)[0]])


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("BIOLENS_CACHE", str(tmp_path_factory.mktemp("cache") / "embeddings.sqlite"))
    # never write compiled code to ~ from tests. A session-wide persistent compilation cache was tried:
    # the full suite then aborted (SIGABRT, no Python traceback) in a later test that passes alone.
    monkeypatch.setenv("BIOLENS_JIT_CACHE", "off")


@pytest.fixture
def write(tmp_path):
    """write(name, text_or_bytes) -> path of a file in the test's temporary folder."""

    def _write(name: str, content: str | bytes):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    return _write


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code():
    """Free every module's compiled functions when it ends: each test process runs many modules, and
    without this its compiled code only grows (the full suite crashed natively near its end)."""
    yield
    import gc

    import jax

    jax.clear_caches()
    gc.collect()
