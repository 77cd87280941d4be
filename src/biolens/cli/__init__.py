"""The ``biolens`` command line: thin commands that parse, call library functions and print.

``main(argv) -> int`` never shows a traceback for a user error: a :class:`BiolensError`
message is printed and the exit code is non-zero.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..core.errors import BiolensError
from ..core.jitcache import configure_jit_cache
from . import benchmark as _benchmark
from . import dna as _dna
from . import embed as _embed
from . import graphs as _graphs
from . import lm as _lm
from . import proteins as _proteins
from . import structure as _structure

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
