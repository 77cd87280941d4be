"""Progress display (rich), shown only on a terminal unless asked for."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

__all__ = ["progress_bar"]


@contextlib.contextmanager
def progress_bar(total: int | None, description: str, *, enabled: bool = True) -> Iterator[Callable[..., None]]:
    """Yield ``advance(n, **fields)``; draws a rich progress bar on stderr when ``enabled``.

    ``fields`` (e.g. ``loss=0.31``) are shown after the bar.
    """
    if not enabled:
        yield lambda n=1, **fields: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(file=sys.stderr)
    columns = [
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
    ]
    with Progress(*columns, console=console, transient=False, refresh_per_second=4) as bar:
        task = bar.add_task(description, total=total, info="")

        def advance(n: int = 1, **fields: float) -> None:
            info = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items())
            bar.update(task, advance=n, info=info)

        yield advance
