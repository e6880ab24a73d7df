"""Errors and warnings that scalelaw shows to users.

Every problem with a user's input is an :class:`InputError` that names where it is
(file, run, row, column) and what is wrong, so the CLI can print one clear line and
exit with code 2 instead of a traceback.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem sits in the user's input; every field is optional."""

    file: str | None = None
    run: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(f"file {self.file}")
        if self.run is not None:
            parts.append(f"run {_clip(self.run)}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {_clip(self.column)}")
        return ", ".join(parts)


def _clip(name: str, limit: int = 200) -> str:
    """A run or column name from untrusted input, quoted, cut to ``limit`` characters."""
    return repr(name) if len(name) <= limit else f"{name[:limit]!r}... ({len(name):,} characters)"


class ScalelawError(Exception):
    """Base class of every error scalelaw raises on purpose."""


class InputError(ScalelawError):
    """Bad input: the message says where (file, run, row, column) and what is wrong.

    ``row`` is the 1-based data row in the file (the header is not counted), the
    number a person finds when opening the file in a spreadsheet.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        run: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.location = Location(file=file, run=run, row=row, column=column)
        self.reason = message
        where = str(self.location)
        super().__init__(f"{where}: {message}" if where else message)


class UntrustedFitError(ScalelawError):
    """Raised under ``strict`` when a fit's diagnostics say it should not be trusted."""


class ScalelawWarning(UserWarning):
    """Suspicious but usable input, or a fit to read with care."""


class DataWarning(ScalelawWarning):
    """Input that is valid but looks wrong (loss spikes, divergence, too few points)."""


class FitWarning(ScalelawWarning):
    """A fit that did not converge, sits on a bound, is degenerate or extrapolates far."""


def warn(message: str, category: type[ScalelawWarning] = ScalelawWarning) -> None:
    """Issue a scalelaw warning attributed to the caller's caller."""
    warnings.warn(message, category, stacklevel=3)
