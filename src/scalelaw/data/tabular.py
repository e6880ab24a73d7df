"""Readers of tabular files (CSV, TSV, JSON Lines, Parquet) into :class:`RawTable`.

Text cells stay strings here so that parsing can tell an empty cell (missing) from an
explicit ``nan`` (an error) and name the row of any bad value.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.data.guards import read_capped
from scalelaw.data.limits import MAX_COLUMNS
from scalelaw.data.parquet_bounds import read_parquet_bounded
from scalelaw.data.raw import RawTable
from scalelaw.errors import DataWarning, InputError, warn

WANDB_MARKERS = frozenset({"_step", "_runtime", "_timestamp"})
#: Longest line of a text log (bytes); a longer one is refused before it is split into fields.
MAX_LINE_BYTES = 1 << 24


def decode_text(path: Path) -> str:
    data = read_capped(path)
    if not data.strip():
        raise InputError("the file is empty", file=str(path))
    if b"\x00" in data:
        raise InputError("the file holds binary data (NUL bytes), not text", file=str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"the file is not UTF-8 text (byte {exc.start})", file=str(path)) from None
    long_line = first_long_line(data, MAX_LINE_BYTES)
    if long_line is not None:  # line index 0 is the header, so the index is the data row
        raise InputError(f"a line is longer than {MAX_LINE_BYTES:,} bytes", file=str(path), row=long_line or None)
    return text


def first_long_line(data: bytes, limit: int, chunk: int = 1 << 26) -> int | None:
    """The 0-based index of the first line longer than ``limit`` bytes, or None (linear time, chunked)."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    last, lines = -1, 0  # the previous newline's position, newlines seen so far
    for start in range(0, len(buffer), chunk):
        newlines = np.flatnonzero(buffer[start : start + chunk] == 10) + start
        gaps = np.diff(np.concatenate(([last], newlines))) - 1
        if gaps.size and gaps.max() > limit:
            return lines + int(np.argmax(gaps > limit))
        lines += len(newlines)
        last = int(newlines[-1]) if len(newlines) else last
    return lines if len(buffer) - 1 - last > limit else None


def read_delimited(path: Path, *, delimiter: str, cut_tail: bool = False) -> RawTable:
    """Read CSV or TSV as strings; every line must have as many fields as the header.

    ``cut_tail``: the file may still be written (a logger appending rows), so a last line
    without its newline is left out, with one warning, instead of being an error.
    """
    text = decode_text(path)
    if cut_tail and not text.endswith("\n") and "\n" in text.rstrip("\n"):
        text = text[: text.rindex("\n") + 1]
        warn(f"{path}: the last line has no end (a run still writing?); it was left out", DataWarning)
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise InputError(f"cannot parse as {'TSV' if delimiter == chr(9) else 'CSV'}: {exc}", file=str(path)) from None
    header = [name.strip() for name in lines[0]]
    _check_header(header, path, delimiter)
    body, rows = [], []
    for number, fields in enumerate(lines[1:], start=1):
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            raise InputError(
                f"this line has {len(fields)} fields but the header has {len(header)} "
                "(a truncated line or a stray delimiter)",
                file=str(path),
                row=number,
            )
        body.append(fields)
        rows.append(number)
    if not body:
        raise InputError("the file has a header but no data rows", file=str(path))
    frame = pd.DataFrame(body, columns=header, dtype=object)
    flavor = "logger" if WANDB_MARKERS & set(header) else "table"
    return RawTable(frame, np.asarray(rows), str(path), path.stem, flavor, text=True)


def _check_header(header: list[str], path: Path, delimiter: str) -> None:
    if len(header) > MAX_COLUMNS:
        raise InputError(f"the header has {len(header)} columns, more than the {MAX_COLUMNS} allowed", file=str(path))
    if len(header) == 1:
        for other in (";", "\t", ",", "|"):
            if other != delimiter and other in header[0]:
                raise InputError(
                    f"the header is one column {header[0][:60]!r}: the file looks {other!r}-delimited, "
                    "not what its extension says",
                    file=str(path),
                )
    if "" in header:
        raise InputError(f"column {header.index('') + 1} of the header has no name", file=str(path))
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError("the header names a column twice", file=str(path), column=duplicated[0])


def read_jsonl(path: Path) -> RawTable:
    """Read JSON Lines: one object per line; nested values are kept as JSON text."""
    text = decode_text(path)
    records, rows = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:  # ValueError: also integers over Python's digit limit
            raise InputError(f"not a JSON object: {exc}", file=str(path), row=number) from None
        if not isinstance(record, dict):
            raise InputError(f"expected a JSON object, got {type(record).__name__}", file=str(path), row=number)
        records.append({str(k): json_cell(v) for k, v in record.items()})
        rows.append(number)
    if not records:
        raise InputError("the file has no JSON records", file=str(path))
    frame = pd.DataFrame.from_records(records).astype(object)
    frame = frame.where(frame.notna(), "")  # a key absent from a record is a missing value
    if frame.shape[1] > MAX_COLUMNS:
        raise InputError(f"the records have {frame.shape[1]} keys, more than the {MAX_COLUMNS} allowed", file=str(path))
    flavor = "logger" if WANDB_MARKERS & set(frame.columns) else "table"
    return RawTable(frame, np.asarray(rows), str(path), path.stem, flavor, text=True)


def json_cell(value: object) -> object:
    """A JSON value as a cell: numbers stay numbers (NaN/inf kept to be refused later)."""
    if value is None or isinstance(value, str):
        return "" if value is None else value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and abs(value) >= 2**1024:  # 10**400 overflows a float: refused later as infinite
        return "inf" if value > 0 else "-inf"
    if isinstance(value, (int, float)):
        return repr(float(value)) if not (isinstance(value, float) and math.isfinite(value)) else value
    return json.dumps(value, sort_keys=True)


def read_parquet(path: Path) -> RawTable:
    """Read a Parquet file with typed columns (a float NaN there means a missing value)."""
    try:
        frame = read_parquet_bounded(path)
    except InputError:
        raise
    except Exception as exc:  # pyarrow raises several error types for a damaged file
        raise InputError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    if frame.empty:
        raise InputError("the Parquet file has no rows", file=str(path))
    frame.columns = [str(c) for c in frame.columns]
    flavor = "logger" if WANDB_MARKERS & set(frame.columns) else "table"
    return RawTable(frame.reset_index(drop=True), np.arange(1, len(frame) + 1), str(path), path.stem, flavor)
