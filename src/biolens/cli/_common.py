"""Options and printing shared by CLI commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console

from ..data import resolve_input

__all__ = ["console", "err_console", "input_path", "on_invalid_option", "quiet_option", "show_progress"]

LOG_WIDTH = 150  # columns of output into a file or pipe: the widest tables fit, logs wrap with them


def _console(stderr: bool = False) -> Console:
    """A terminal's own width; into a file or pipe ``$COLUMNS`` or :data:`LOG_WIDTH` (not rich's 80)."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal or "COLUMNS" in os.environ else Console(stderr=stderr, width=LOG_WIDTH)


console = _console()
err_console = _console(stderr=True)

on_invalid_option = click.option(
    "--on-invalid", type=click.Choice(["error", "skip", "replace"], case_sensitive=False), default="error",
    show_default=True, help="Records with invalid characters: fail, skip them, or replace the characters with X (N for DNA).",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")


def input_path(value: str) -> Path:
    """Resolve ``sample:NAME`` or a path (existence is checked by the reader, with the file named)."""
    return resolve_input(value)


def show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()
