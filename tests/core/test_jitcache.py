"""The persistent JAX compilation cache: where it lives, that the CLI sets it, that it is written."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from biolens.cli import main
from biolens.core.jitcache import configure_jit_cache, default_jit_cache_dir


@pytest.fixture
def restore_off():
    yield
    configure_jit_cache(enabled=False)


def test_default_folder_follows_env(monkeypatch, tmp_path):
    monkeypatch.delenv("BIOLENS_JIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_jit_cache_dir() == tmp_path / "biolens" / "jax"
    monkeypatch.setenv("BIOLENS_JIT_CACHE", str(tmp_path / "mine"))
    assert default_jit_cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("BIOLENS_JIT_CACHE", "off")
    assert default_jit_cache_dir() is None


def test_compiled_functions_are_written_to_the_folder(tmp_path, restore_off):
    folder = tmp_path / "jax"
    assert configure_jit_cache(folder) == folder
    jax.jit(lambda x: jnp.sin(x) * 3.0 + 0.25)(jnp.arange(7.0)).block_until_ready()
    assert any(folder.iterdir()), "nothing was written to the compilation cache"


def test_cli_options_set_and_clear_the_cache(tmp_path, restore_off, capsys):
    folder = tmp_path / "cli-cache"
    assert main(["--jit-cache", str(folder), "encoders"]) == 0
    assert jax.config.jax_compilation_cache_dir == str(folder) and folder.is_dir()
    assert main(["--no-jit-cache", "encoders"]) == 0
    assert jax.config.jax_compilation_cache_dir is None
    assert not jax.config.jax_enable_compilation_cache


def test_env_off_keeps_the_cache_off(monkeypatch, restore_off):
    monkeypatch.setenv("BIOLENS_JIT_CACHE", "off")
    assert configure_jit_cache() is None
    assert jax.config.jax_compilation_cache_dir is None
