"""A large checked CSV/TSV buffer parsed by pandas' C parser in pieces, on a few threads.

``pandas.read_csv(path)`` does the same for a file of 5 MB or more (pandas 3.1): it splits the
data at newlines and parses the pieces in threads, as the C parser's tokenising and converting
run without the GIL. The typed CSV reader parses bytes it has checked (no second read of the
path), so it splits them itself. A piece's frame is exactly the rows a parse of the whole buffer
gives when every piece types every column alike, so the pieces are joined only then; otherwise
the caller parses the whole buffer at once, as before. Only a table whose first data line is all
numbers is split: text cells become Python objects while the GIL is held, so pieces of a text
column wait on each other, and on 2 loaded cores a 10^6-row file with run names took a third more
CPU and wall time in pieces than whole.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

#: Smallest data section split into pieces (pandas' own threshold): below, threads cost more than they save.
MIN_SPLIT_BYTES = 5 * 2**20
#: Largest data section split: the pieces' frames and their join live side by side for a moment, so
#: splitting costs extra memory of up to about the frame's size (+25 MB on a 60 MB file); above this a
#: file is parsed whole, its peak as before (at most ~13 MB more below it).
MAX_SPLIT_BYTES = 32 * 2**20
#: Most pieces (and threads): pandas sees little gain beyond a handful.
MAX_PIECES = 4

Parse = Callable[[io.BufferedReader], pd.DataFrame]


def parse_in_pieces(data: bytes, start: int, delimiter: str, parse: Parse) -> pd.DataFrame | None:
    """The data lines ``data[start:]`` parsed in pieces split at newlines and joined, or None when they are
    too few or too many bytes to split, the first line holds text, a piece would be empty or fails to
    parse, or the pieces type a column differently (then only a parse of the whole buffer says what
    that column is). ``parse`` reads one piece (no header line)."""
    size = len(data) - start
    pieces = min(_cores(), MAX_PIECES, 2 * size // MIN_SPLIT_BYTES)  # each piece at least half the threshold
    first_end = data.find(b"\n", start)
    if pieces < 2 or size > MAX_SPLIT_BYTES or first_end < 0:
        return None
    if not _numbers_only(data[start:first_end], delimiter):
        return None
    bounds = [start]
    for k in range(1, pieces):
        cut = data.find(b"\n", max(bounds[-1], start + size * k // pieces)) + 1
        if cut <= bounds[-1] or cut >= len(data):  # no newline left to cut at: a piece would be empty
            return None
        bounds.append(cut)
    bounds.append(len(data))
    view = memoryview(data)
    try:
        with ThreadPoolExecutor(max_workers=pieces) as pool:
            frames = list(pool.map(lambda k: parse(_reader(view[bounds[k] : bounds[k + 1]])), range(pieces)))
    except Exception:  # any problem in a piece: the whole buffer's parse meets it and says what it is
        return None
    kinds = [frame.dtypes.tolist() for frame in frames]
    if any(kind != kinds[0] for kind in kinds):
        return None
    return pd.concat(frames, ignore_index=True)


class _ViewReader(io.RawIOBase):
    """A piece of the buffer read as a file without copying it whole (the parser reads it a block at a time)."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view, self._at = view, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), len(self._view) - self._at)
        buffer[:count] = self._view[self._at : self._at + count]
        self._at += count
        return count


def _reader(view: memoryview) -> io.BufferedReader:
    return io.BufferedReader(_ViewReader(view), buffer_size=1 << 20)


def _numbers_only(line: bytes, delimiter: str) -> bool:
    """True when every cell of ``line`` is empty or reads as a number (the table has no text column there)."""
    try:
        [float(cell) for cell in line.split(delimiter.encode()) if cell.strip()]
    except ValueError:
        return False
    return True


def _cores() -> int:
    """The cores this process may run on (its affinity where the system says, else the machine's)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1
