"""Errors a user can act on.

Every error that reaches the CLI is a :class:`BiolensError`: the CLI prints its message
(no traceback) and exits non-zero. Messages name the file, the record and the problem.
"""

from __future__ import annotations

__all__ = [
    "BiolensError",
    "CheckpointMismatchError",
    "InputError",
    "MissingExtraError",
    "MissingWeightsError",
    "RunLockedError",
    "RunMismatchError",
    "TrainingError",
]


class BiolensError(Exception):
    """Base class for errors caused by input, files or settings (not by a bug)."""

    exit_code: int = 2


class InputError(BiolensError, ValueError):
    """A data file or record is malformed.

    Args:
        message: what is wrong, in words a user can act on.
        source: the file (or other source) the record came from.
        record: the record id, if one is known.
        line: the 1-based line number in ``source``, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        record: str | None = None,
        line: int | None = None,
    ) -> None:
        self.problem = message
        self.source = source
        self.record = record
        self.line = line
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.source is not None:
            where.append(str(self.source) + (f":{self.line}" if self.line is not None else ""))
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record!r}")
        return (", ".join(where) + ": " if where else "") + self.problem


class MissingWeightsError(BiolensError, FileNotFoundError):
    """Pretrained weights are not available locally; the message says how to get them."""


class MissingExtraError(BiolensError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class CheckpointMismatchError(BiolensError):
    """A checkpoint does not fit the data or encoder it is being used with."""


class TrainingError(BiolensError):
    """Training cannot go on (the loss diverged, a resume state does not fit the run)."""


class RunMismatchError(BiolensError):
    """A run folder holds another run (other settings or other data) than the one asked for."""


class RunLockedError(BiolensError):
    """Another process is working in the run folder."""
