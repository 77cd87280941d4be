"""Progress display (rich), shown only on a terminal unless asked for.

Bars opened while another bar is showing join its display as extra rows (rich allows one live
display at a time) and leave it when they finish: a long job can keep an overall bar while
the steps it calls show their own.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

__all__ = ["print_above", "progress_bar"]

_ACTIVE: ContextVar[Any] = ContextVar("biolens_progress", default=None)


def _new_display() -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
    ]
    return Progress(*columns, console=Console(file=sys.stderr), transient=False, refresh_per_second=4)


@contextlib.contextmanager
def progress_bar(total: int | None, description: str, *, enabled: bool = True) -> Iterator[Callable[..., None]]:
    """Yield ``advance(n, **fields)``; draws a rich progress bar on stderr when ``enabled``.

    ``fields`` (e.g. ``loss=0.31``) are shown after the bar. Inside another bar, this one is a
    row of the same display, removed when done.
    """
    if not enabled:
        yield lambda n=1, **fields: None
        return
    outer = _ACTIVE.get()
    display = outer if outer is not None else _new_display()
    with contextlib.ExitStack() as stack:
        if outer is None:
            stack.enter_context(display)
            token = _ACTIVE.set(display)
            stack.callback(_ACTIVE.reset, token)
        task = display.add_task(description, total=total, info="")
        if outer is not None:
            stack.callback(display.remove_task, task)

        def advance(n: int = 1, **fields: float) -> None:
            info = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items())
            display.update(task, advance=n, info=info)

        yield advance


def print_above(text: str, console: Any = None) -> None:
    """Print a line of log above the bars while a bar is showing (printing past a live display
    tears it), else on ``console`` (a rich console; default: stderr)."""
    display = _ACTIVE.get()
    if display is not None:
        display.console.print(text, markup=False)
    elif console is not None:
        console.print(text, markup=False)
    else:
        print(text, file=sys.stderr)
