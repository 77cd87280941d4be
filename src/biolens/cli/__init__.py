"""The ``biolens`` command line: thin commands that parse, call library functions and print.

``main(argv) -> int`` never shows a traceback for a user error: a :class:`BiolensError`
message is printed and the exit code is non-zero. Failures of the file system, SQLite,
safetensors, JSON, zip archives or text decoding that escape a command are reported the same
way (exit code 2, see :func:`._common.user_error`). ``--debug`` (anywhere on the command line)
or ``BIOLENS_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys

import click

from .._version import __version__
from ..core.jitcache import configure_jit_cache
from . import benchmark as _benchmark
from . import dna as _dna
from . import embed as _embed
from . import graphs as _graphs
from . import lm as _lm
from . import proteins as _proteins
from . import store as _store
from . import structure as _structure
from ._common import user_error

__all__ = ["cli", "main", "run"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="biolens")
@click.option("--jit-cache", "jit_cache", type=click.Path(file_okay=False), default=None,
              help="Folder of the persistent JAX compilation cache "
                   "[default: $BIOLENS_JIT_CACHE or ~/.cache/biolens/jax].")
@click.option("--no-jit-cache", is_flag=True, help="Compile from scratch; read and write no cache.")
def cli(jit_cache: str | None, no_jit_cache: bool) -> None:
    """Learn the language of biology: embed, train, benchmark and explain."""
    configure_jit_cache(jit_cache, enabled=not no_jit_cache)


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
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("BIOLENS_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]
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
    except Exception as exc:
        err = user_error(exc)
        if err is None or debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return result if isinstance(result, int) else 0


def run() -> None:  # console-script entry point
    sys.exit(main())
