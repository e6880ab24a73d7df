"""Bounds on the text a reader takes from an untrusted file, shared by every tabular source.

A number costs 8 bytes whatever the file says; text is what a small file can inflate
(a Parquet dictionary page repeated over every row, an SQLite generated column). So
every reader bounds text the same way: no text cell longer than ``MAX_TEXT_CELL_BYTES``,
no more than ``MAX_DECODED_TEXT_BYTES`` of text decoded from one file, and no value quoted
in a message longer than ``MAX_QUOTED`` characters.
"""

from __future__ import annotations

#: Most columns of a table, from any source.
MAX_COLUMNS = 10_000
#: Longest text cell (a run name, a tag, a parameter, a metadata string) read from any source.
MAX_TEXT_CELL_BYTES = 64 * 1024
#: Most text (bytes, summed over every cell) one file may decode to.
MAX_DECODED_TEXT_BYTES = 1 << 30
#: Longest metric, parameter or tag name (MLflow's own limit is 250 characters).
MAX_KEY_CHARS = 1000
#: Most characters of an untrusted value quoted in an error or warning.
MAX_QUOTED = 200


def quoted(value: object, limit: int = MAX_QUOTED) -> str:
    """``repr(value)`` cut to about ``limit`` characters, saying how much was left out."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def size_text(count: int) -> str:
    """A byte count for a message: GiB, MiB, KiB or bytes."""
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if count >= 1 << shift:
            return f"{count / (1 << shift):.3g} {unit}"
    return f"{count} bytes"
