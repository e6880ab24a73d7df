"""Printing results: rich tables for people, stable JSON for scripts.

Everything printed here may hold text from untrusted input (run names, file names,
column names, messages quoting them), so the consoles never interpret rich markup
(``[/bold]`` or ``[link=...]`` in a run name is printed as written) and every string
goes through :func:`printable`, which shows control characters (escape sequences,
NUL, bidi overrides) as ``\\x1b``-style escapes instead of sending them to the terminal.
Intended styling is passed as ``style=``, never as markup inside a string.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import unicodedata

from rich.console import Console
from rich.table import Table
from rich.text import Text

from scalelaw.data.guards import BIDI_CONTROLS

def printable(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with control characters (and newlines unless kept) written as visible escapes."""
    if text.isprintable():
        return text
    return "".join(
        char if (char == "\n" and keep_newlines) or not (unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS)
        else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


class SafeConsole(Console):
    """A rich console that never reads markup and escapes control characters in every string printed."""

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, highlight=False, emoji=False, **options)

    def print(self, *objects: Any, **options: Any) -> None:  # noqa: A003 - rich's name
        super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **options)


console = SafeConsole()
err_console = SafeConsole(stderr=True)


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, non-finite floats to None."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout."""
    sys.stdout.write(json.dumps(_clean(data), indent=2) + "\n")


def print_table(title: str | None, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Print rows of dicts as a rich table."""
    columns = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=None if title is None else Text(printable(title)), show_lines=False)
    for column in columns:
        table.add_column(Text(printable(str(column))))
    for row in rows:
        table.add_row(*(Text(printable(format_value(row.get(c)), keep_newlines=False)) for c in columns))
    console.print(table)


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1e5 else f"{value:.4g}"
    return str(value)
