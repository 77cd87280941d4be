"""Run a few calls at once on threads and hand back their results in order.

JAX releases the GIL while a compiled computation runs, and XLA's CPU runtime splits each
operation of one computation over the cores with a barrier after it: small operations (one
attention head, a short protein) leave cores idle at those barriers. A second computation
running beside the first fills them. :func:`ordered_map` does that for a batch loop while
keeping it a loop: results come back in input order, at most ``in_flight`` calls run at a
time (so memory stays bounded and a killed run has at most that many uncommitted results),
and ``in_flight=1`` runs everything inline, with no thread at all.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["ordered_map"]

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, in_flight: int = 1) -> Iterator[R]:
    """``map(fn, items)`` with up to ``in_flight`` calls running at once on threads.

    Results are yielded in the order of ``items``. The next call starts only when a result has
    been taken, so at most ``in_flight`` results are computed ahead of the consumer. An
    exception in a call is raised when its result is reached; calls not yet started are then
    cancelled, and closing the iterator early (``break``, an error in the consumer) cancels
    them too and waits for the running ones.
    """
    if in_flight < 1:
        raise ValueError(f"in_flight must be >= 1, got {in_flight}")
    if in_flight == 1:
        yield from map(fn, items)
        return
    pending: deque[Future[R]] = deque()
    source = iter(items)
    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="biolens") as pool:
        try:
            for item in source:
                pending.append(pool.submit(fn, item))
                if len(pending) == in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
