"""Shared fixtures: every test gets its own embedding store; JAX stays on the CPU; compiled code is
cached for the session in a temporary folder (never in ~), so a function compiled again with the
same shapes -- every rerun of a training command -- is read back instead of compiled."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pytest


@pytest.fixture(scope="session")
def jit_cache_dir(tmp_path_factory):
    """The session's persistent JAX compilation cache (what the CLI's --jit-cache would point at)."""
    from biolens.core.jitcache import configure_jit_cache

    folder = tmp_path_factory.mktemp("jax-cache")
    configure_jit_cache(folder)
    return folder


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch, jit_cache_dir):
    monkeypatch.setenv("BIOLENS_CACHE", str(tmp_path_factory.mktemp("cache") / "embeddings.sqlite"))
    monkeypatch.setenv("BIOLENS_JIT_CACHE", str(jit_cache_dir))  # what main() configures: the session's folder


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
