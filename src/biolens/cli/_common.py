"""Options and printing shared by CLI commands."""

from __future__ import annotations

import copy
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from ..core.errors import BiolensError, InputError
from ..core.files import os_words
from ..data import resolve_input

__all__ = ["GreedyOption", "alias", "console", "err_console", "input_path", "is_integer", "on_invalid_option",
           "protein_argument", "quiet_option", "read_tf_file",
           "show_progress", "user_error"]

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


def is_integer(token: str) -> bool:
    return re.fullmatch(r"-?\d+", token) is not None


class GreedyOption(click.Option):
    """An option taking every value after it while ``accepts(token)`` holds, as argparse's
    ``nargs="+"`` does (``--repr-layers -1 6 --include mean per_tok``, the ``esm`` spelling); the
    value is a tuple, or None when the option is absent."""

    def __init__(self, *args: Any, accepts: Callable[[str], bool], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accepts = accepts

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        wrapped: set[int] = set()  # the spellings (--repr-layers, --repr_layers) share one parser option
        for name in self.opts:
            opt = parser._long_opt.get(name) or parser._short_opt.get(name)
            if opt is not None and id(opt) not in wrapped:
                wrapped.add(id(opt))
                opt.process = self._greedy(opt.process)

    def _greedy(self, process: Callable) -> Callable:
        def eat(value: str, state: Any) -> None:
            values = [value]
            while state.rargs and self.accepts(state.rargs[0]):
                values.append(state.rargs.pop(0))
            process(tuple(values), state)

        return eat

    def type_cast_value(self, ctx: click.Context, value: Any) -> tuple | None:
        def flat(v: Any) -> list:
            return [x for item in v for x in flat(item)] if isinstance(v, (tuple, list)) else [v]

        values = flat(value) if value is not None else []
        return tuple(self.type(v, param=self, ctx=ctx) for v in values) or None


def input_path(value: str) -> Path:
    """Resolve ``sample:NAME`` or a path (existence is checked by the reader, with the file named)."""
    return resolve_input(value)


def alias(command: click.Command, target: str) -> click.Command:
    """``command`` under its old top-level name: the same options and callback, its help naming
    the new spelling (``biolens train`` -> ``biolens protein train``)."""
    twin = copy.copy(command)
    twin.short_help = f"Same as `biolens {target}`."
    twin.help = f"Same as `biolens {target}` (the spelling from before the command groups).\n\n{command.help or ''}"
    return twin


def show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


def protein_argument(value: str) -> str:
    """``--sequence``: the letters themselves, or a FASTA/CSV file (or sample:NAME) whose first record is used."""
    from ..core.alphabets import PROTEIN, clean_sequence
    from ..core.errors import InputError
    from ..core.seqio import load_sequences

    path = input_path(value)
    if value.startswith("sample:") or path.is_file():
        records, _ = load_sequences(path, PROTEIN)
        return records[0].sequence
    try:
        seq, _ = clean_sequence(value, PROTEIN, "error")
    except ValueError as exc:
        raise InputError(f"--sequence is neither a file nor a protein sequence: {str(exc).split(' (use')[0]}") from None
    return seq


def read_tf_file(value: str, on_invalid: str, quiet: bool):
    """A DNA TF-binding file (or sample:NAME), its validation summary printed unless ``quiet``."""
    from ..dna import read_tf_data

    data = read_tf_data(input_path(value), on_invalid=on_invalid.lower())
    if not quiet:
        for line in data.report.lines():
            err_console.print(f"{Path(data.source).name}: {line}", markup=False)
    return data


# ----------------------------------------------------------------------------- the error boundary

def _os_problem(exc: OSError) -> str:
    names = [str(f) for f in (exc.filename, exc.filename2) if f is not None]
    return f"{' -> '.join(names)}: {os_words(exc)}" if names else os_words(exc)


def user_error(exc: BaseException) -> BiolensError | None:
    """The :class:`BiolensError` a command reports for a failure of the file system, SQLite,
    safetensors, JSON, zip or text decoding that escaped the library; ``None`` for anything else
    (a bug, which keeps its traceback)."""
    import json
    import sqlite3
    import zipfile

    if isinstance(exc, BiolensError):
        return exc
    if isinstance(exc, OSError):
        return InputError(_os_problem(exc))
    if isinstance(exc, sqlite3.Error):
        return InputError(f"the embedding store failed ({type(exc).__name__}: {exc}); --cache or $BIOLENS_CACHE "
                          "must be a writable file on a disk with free space (rerunning resumes)")
    if type(exc).__name__ == "SafetensorError":
        return InputError(f"a safetensors file is corrupt or truncated ({exc})")
    if isinstance(exc, json.JSONDecodeError):
        return InputError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
    if isinstance(exc, UnicodeDecodeError):
        return InputError(f"not {exc.encoding} text: byte {exc.object[exc.start]:#04x} at offset {exc.start} "
                          f"({exc.reason})")
    if isinstance(exc, zipfile.BadZipFile | EOFError):
        return InputError(f"a truncated or corrupt archive ({type(exc).__name__}: {exc})")
    return None
