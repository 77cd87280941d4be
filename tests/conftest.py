"""Shared fixtures: every test gets its own embedding store; JAX stays on the CPU; no compiled code
is written to ~ (the persistent compilation cache is off)."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pytest

# The CLI takes COLUMNS as the user's chosen width (piped output is LOG_WIDTH wide otherwise), and
# pytest-xdist workers inherit COLUMNS=80: drop it, so every test sees piped output, in any runner.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


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
