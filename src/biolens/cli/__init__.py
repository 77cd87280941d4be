"""The ``biolens`` command line: thin commands that parse, call library functions and print.

``main(argv) -> int`` never shows a traceback for a user error: a :class:`BiolensError`
message is printed and the exit code is non-zero.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..core.errors import BiolensError
from . import benchmark as _benchmark
from . import dna as _dna
from . import embed as _embed
from . import graphs as _graphs
from . import lm as _lm
from . import proteins as _proteins
from . import store as _store
from . import structure as _structure

__all__ = ["cli", "main", "run"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="biolens")
def cli() -> None:
    """Learn the language of biology: embed, train, benchmark and explain."""


_embed.register(cli)
_graphs.register(cli)
_proteins.register(cli)
_dna.register(cli)
_structure.register(cli)
_benchmark.register(cli)
_lm.register(cli)
_store.register(cli)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    try:
        result = cli.main(args=argv, prog_name="biolens", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return 130
    except BiolensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return result if isinstance(result, int) else 0


def run() -> None:  # console-script entry point
    sys.exit(main())
