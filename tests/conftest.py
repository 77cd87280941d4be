"""Shared fixtures: every test gets its own embedding store; JAX stays on the CPU."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("BIOLENS_CACHE", str(tmp_path_factory.mktemp("cache") / "embeddings.sqlite"))
    monkeypatch.setenv("BIOLENS_JIT_CACHE", "off")  # never write compiled code to ~ from tests


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
