"""Readers of tabular files (CSV, TSV, JSON Lines, Parquet, a DataFrame) into :class:`RawTable`.

Text cells stay strings here so that parsing can tell an empty cell (missing) from an
explicit ``nan`` (an error) and name the row of any bad value.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.data.guards import read_capped
from scalelaw.data.limits import MAX_COLUMNS
from scalelaw.data.parquet_bounds import iter_parquet_frames, read_parquet_runs
from scalelaw.data.readers.raw import Keys, RawTable, columns_from_records
from scalelaw.errors import DataWarning, InputError, warn

WANDB_MARKERS = frozenset({"_step", "_runtime", "_timestamp"})
#: Longest line of a text log (bytes); a longer one is refused before it is split into fields.
MAX_LINE_BYTES = 1 << 24
#: Cells read as missing (the case variants of normalize's missing-value words; others are parsed there).
NA_TEXT = ["", *(form for word in ("na", "n/a", "null", "none") for form in (word, word.upper(), word.capitalize()))]


def checked_bytes(path: Path) -> bytes:
    """The bytes of a text file, refused (InputError) when empty, binary, not UTF-8 or with a line longer
    than ``MAX_LINE_BYTES``. The checks run on the bytes (no decoded copy): ASCII text needs no decoding
    to be valid UTF-8, and a file no longer than the line limit has no line beyond it."""
    data = read_capped(path)
    if not data or data.isspace():
        raise InputError("the file is empty", file=str(path))
    if b"\x00" in data:
        raise InputError("the file holds binary data (NUL bytes), not text", file=str(path))
    if not data.isascii():
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"the file is not UTF-8 text (byte {exc.start})", file=str(path)) from None
    long_line = first_long_line(data, MAX_LINE_BYTES) if len(data) > MAX_LINE_BYTES else None
    if long_line is not None:  # line index 0 is the header, so the index is the data row
        raise InputError(f"a line is longer than {MAX_LINE_BYTES:,} bytes", file=str(path), row=long_line or None)
    return data


def decode_text(path: Path) -> str:
    """The text of a file checked by :func:`checked_bytes`, decoded (a UTF-8 byte-order mark dropped)."""
    return checked_bytes(path).decode("utf-8-sig")


def first_long_line(data: bytes, limit: int) -> int | None:
    """The 0-based index of the first line longer than ``limit`` bytes, or None.

    It jumps from line start to line start: the last newline within ``limit`` bytes of a line's start ends
    every line in between within the limit, so a file takes about ``len(data) / limit`` backward searches
    (each stops at the nearest newline) and one count of the newlines before a long line."""
    start = 0  # where the current line starts; every line before it is within the limit
    while len(data) - start > limit:
        end = data.rfind(b"\n", start, start + limit + 1)
        if end < 0:  # no newline within limit + 1 bytes: the line at start is longer
            return data.count(b"\n", 0, start)
        start = end + 1
    return None


def count_bytes(data: bytes, values: bytes, chunk: int = 1 << 24) -> list[int]:
    """How often each byte of ``values`` occurs in ``data``: one vectorised pass per value, in chunks so
    that the comparison's scratch memory stays bounded whatever the file's size."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    counts = [0] * len(values)
    for start in range(0, len(buffer), chunk):
        part = buffer[start : start + chunk]
        for i, value in enumerate(values):
            counts[i] += int(np.count_nonzero(part == value))
    return counts


def read_delimited(path: Path, *, delimiter: str, cut_tail: bool = False) -> RawTable:
    """Read CSV or TSV as strings; every line must have as many fields as the header.

    ``cut_tail``: the file may still be written (a logger appending rows), so a last line
    without its newline is left out, with one warning, instead of being an error.
    """
    data = checked_bytes(path)
    if cut_tail and not data.endswith(b"\n") and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
        warn(f"{path}: the last line has no end (a run still writing?); it was left out", DataWarning)
    typed = _typed_delimited(data, path, delimiter)
    if typed is not None:
        return typed
    text = data.decode("utf-8-sig")
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


def _typed_delimited(data: bytes, path: Path, delimiter: str) -> RawTable | None:
    """A plain table read by pandas' C parser with typed columns, or None when the file needs the
    strict line-by-line reader (quotes, CR, blank or empty lines, a line with another field count:
    that reader names the row of any problem).

    pandas parses the file's bytes as they are (no decoded copy); the shape checks count bytes.
    Only empty cells and the missing-value words (``na``, ``null``, ``none``) become NaN, so an
    explicit ``nan`` stays text and ``inf`` a float: both are refused when parsed, as before.
    """
    data = data.removeprefix(codecs.BOM_UTF8)
    if b'"' in data or b"\r" in data or b"\n" not in data:
        return None
    newlines, delimiters = count_bytes(data, b"\n" + delimiter.encode())
    first_end = data.index(b"\n")
    if newlines == len(data) - first_end:  # every newline ends the file (a header alone): counted, not stripped
        return None
    first_line = data[:first_end].decode("utf-8")
    fields = first_line.count(delimiter)
    lines = newlines + (not data.endswith(b"\n"))
    if fields == 0 or delimiters != fields * lines:
        return None  # one column, or a line with another field count, or an empty line
    header = [name.strip() for name in first_line.split(delimiter)]
    _check_header(header, path, delimiter)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # "data lost": a line with more fields
            frame = pd.read_csv(io.BytesIO(data), sep=delimiter, header=0, names=header, index_col=False,
                                keep_default_na=False, na_values=NA_TEXT, skip_blank_lines=False, engine="c",
                                low_memory=False)
        if all(frame[c].hasnans for c in frame.columns) and frame.isna().all(axis=1).any():
            return None  # a line of empty cells, which the strict reader skips
        flags = [c for c in frame.columns if frame[c].dtype.kind == "b"]  # True/False read back as written
        if flags:
            frame[flags] = pd.read_csv(io.BytesIO(data), sep=delimiter, header=0, names=header, usecols=flags,
                                       dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning):
        return None
    run_factors = None
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.StringDtype):  # text cells as written; a repeated value is one string
            codes, distinct = pd.factorize(values)
            names = np.asarray(distinct, dtype=object)
            cells = np.append(names, "")[codes]  # code -1 (missing): ""
            frame[column] = pd.Series(cells, index=frame.index, dtype=object, copy=False)  # cells: made here
            run_factors = (codes, names) if column == "run" else run_factors
        elif values.dtype.kind not in "fiu":  # an integer past int64, True/False: as written too
            frame[column] = values.astype(object).where(values.notna(), "").astype(str).astype(object)
    flavor = "logger" if WANDB_MARKERS & set(header) else "table"
    return RawTable(frame, np.arange(1, len(frame) + 1), str(path), path.stem, flavor, text=True,
                    run_factors=run_factors)


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


def read_jsonl(path: Path, keys: Keys = Keys()) -> RawTable:
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
    # a key absent from a record is a missing value
    frame = columns_from_records(records, keys=keys, fill=np.nan, file=str(path), max_keys=MAX_COLUMNS)
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
    """Read a Parquet file with typed columns (a float NaN there means a missing value); the ``run``
    column's factorisation comes from its Parquet dictionary (:func:`~scalelaw.data.parquet_bounds.dictionary_factors`)."""
    try:
        frame, run_factors = read_parquet_runs(path)
    except InputError:
        raise
    except Exception as exc:  # pyarrow raises several error types for a damaged file
        raise InputError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    if frame.empty:
        raise InputError("the Parquet file has no rows", file=str(path))
    frame.columns = [str(c) for c in frame.columns]
    flavor = "logger" if WANDB_MARKERS & set(frame.columns) else "table"
    return RawTable(frame.reset_index(drop=True), np.arange(1, len(frame) + 1), str(path), path.stem, flavor,
                    run_factors=run_factors)


def csv_header(first: bytes) -> list[str]:
    """The column names on the first line of a CSV file's first bytes (for format detection)."""
    line = first.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip(b"\r")
    return [c.strip().strip('"') for c in line.decode("utf-8", "replace").split(",")]


def read_csv(path: Path) -> list[RawTable]:
    return [read_delimited(path, delimiter=",")]


def read_tsv(path: Path) -> list[RawTable]:
    return [read_delimited(path, delimiter="\t")]


def read_jsonl_file(path: Path, *, keys: Keys = Keys()) -> list[RawTable]:
    return [read_jsonl(path, keys)]


def read_parquet_file(path: Path) -> list[RawTable]:
    return [read_parquet(path)]


def typed_table(frame: pd.DataFrame, file: str, default_run: str, first_row: int = 1) -> RawTable:
    """Typed cells (a DataFrame, a Parquet batch) as a raw table whose rows count from ``first_row``."""
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    flavor = "logger" if WANDB_MARKERS & set(frame.columns) else "table"
    return RawTable(frame, np.arange(first_row, first_row + len(frame)), file, default_run, flavor)


def parquet_chunks(path: Path, batch_rows: int) -> Iterator[RawTable]:
    """Raw tables of complete runs from a Parquet file, a batch at a time (bounded memory)."""
    try:  # each batch's decoded text is bounded (scalelaw.data.parquet_bounds)
        pending, first_row = None, 1
        for frame in iter_parquet_frames(path, batch_rows):
            frame = frame if pending is None else pd.concat([pending, frame], ignore_index=True)
            if "run" not in frame.columns:
                pending = frame
                continue
            codes = pd.factorize(frame["run"])[0]
            other = codes != codes[-1]
            cut = len(frame) - int(np.argmax(other[::-1])) if other.any() else 0
            if cut:
                yield typed_table(frame.iloc[:cut], str(path), path.stem, first_row)
                first_row += cut
            pending = frame.iloc[cut:].reset_index(drop=True)
    except InputError:
        raise
    except Exception as exc:  # pyarrow raises several error types for a damaged file
        raise InputError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    if pending is not None and len(pending):
        yield typed_table(pending, str(path), path.stem, first_row)
    elif first_row == 1:
        raise InputError("the Parquet file has no rows", file=str(path))
