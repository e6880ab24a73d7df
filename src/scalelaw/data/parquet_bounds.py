"""Reading an untrusted Parquet file with the decoded bytes bounded before they are decoded.

Parquet's dictionary and run-length encodings let a few kB declare gigabytes: one 4 MiB
string in a dictionary page, referenced by 1,500 rows, is 6 GiB once each row holds
its own copy. So every Parquet read in scalelaw (a whole file, a stream of batches, a
stored run) goes through here:

1. the footer is checked first: columns (none named twice), cells (rows x columns) and declared
   uncompressed bytes (which count each dictionary page once);
2. text columns are read *as dictionaries* (``read_dictionary``), so a repeated string is
   held once, never copied per row; nested columns (lists, structs, maps), which the run
   model never uses, are not read at all (one warning counts them);
3. before any conversion to pandas, each text column's longest value must fit
   ``MAX_TEXT_CELL_BYTES`` and the text every row would hold, summed exactly from the
   dictionary lengths and indices, must fit ``MAX_DECODED_TEXT_BYTES``;
4. only then are the dictionaries decoded (at most ``MAX_DECODED_TEXT_BYTES``) and the
   table converted to pandas, which shares one Python string between the rows repeating it.

A whole-file read also hands on the ``run`` column's factorisation taken from its dictionary indices
(:func:`dictionary_factors`): hashing one integer per row costs a fraction of hashing each row's id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalelaw.data.limits import MAX_COLUMNS, MAX_DECODED_TEXT_BYTES, MAX_TEXT_CELL_BYTES, quoted, size_text
from scalelaw.errors import DataWarning, InputError, warn

#: Most cells (rows x columns, about 8 bytes each in memory) of a Parquet file read whole (not streamed).
MAX_PARQUET_CELLS = 400_000_000
#: Most uncompressed bytes a Parquet file read whole may declare (dictionary pages counted once).
MAX_PARQUET_BYTES = 8 * 2**30


def open_parquet(path: Path) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` whose footer was checked, reading text as dictionaries."""
    import pyarrow.parquet as pq  # here, not at import: it pulls pyarrow's filesystems and ssl

    meta = pq.read_metadata(path)
    if meta.num_columns > MAX_COLUMNS:
        raise InputError(f"the Parquet file has {meta.num_columns} columns, more than the {MAX_COLUMNS} allowed",
                         file=str(path))
    schema = meta.schema.to_arrow_schema()
    twice = sorted(name for name, count in Counter(schema.names).items() if count > 1)
    if twice:  # pandas would make a frame of a column name, where every reader expects one column
        raise InputError("the Parquet file names a column twice", file=str(path), column=twice[0])
    text = [field.name for field in schema if _is_text(field.type)]
    return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20, read_dictionary=text,
                          metadata=meta)  # the footer checked above: not read and parsed a second time


def flat_columns(handle: Any, path: Path) -> list[str]:
    """The top-level columns holding scalars; nested ones are left out with one warning."""
    import pyarrow as pa

    schema = handle.schema_arrow
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        warn(f"{path}: {len(nested)} nested column(s) (lists, structs, maps) were not read, e.g. "
             f"{quoted(nested[0], 60)}; runs are tables of numbers and names", DataWarning)
    return [f.name for f in schema if not pa.types.is_nested(f.type)]


def read_parquet_bounded(path: Path) -> pd.DataFrame:
    """A Parquet file as a DataFrame, refused (InputError) before decoding if it would decode to too much."""
    return read_parquet_runs(path)[0]


def read_parquet_runs(path: Path) -> tuple[pd.DataFrame, tuple[np.ndarray, np.ndarray] | None]:
    """:func:`read_parquet_bounded`, and the ``run`` column's :func:`dictionary_factors` (None when the
    file has no dictionary-encoded text column ``run``)."""
    handle = open_parquet(path)
    meta = handle.metadata
    if meta.num_rows * max(meta.num_columns, 1) > MAX_PARQUET_CELLS:  # dictionary/RLE pages inflate without limit
        raise InputError(f"the Parquet file holds {meta.num_rows:,} rows x {meta.num_columns} columns, more than the "
                         f"{MAX_PARQUET_CELLS:,} cells read at once (stream it with read_runs(..., reduce=...))",
                         file=str(path))
    declared = sum(meta.row_group(i).column(j).total_uncompressed_size
                   for i in range(meta.num_row_groups) for j in range(meta.num_columns))
    if declared > MAX_PARQUET_BYTES:
        raise InputError(f"the Parquet file inflates to {declared / 2**30:.1f} GiB, more than the "
                         f"{MAX_PARQUET_BYTES >> 30} GiB read at once", file=str(path))
    table = handle.read(columns=flat_columns(handle, path))
    frame = to_pandas_bounded(table, path)  # the bounds are checked before anything below decodes text
    return frame, dictionary_factors(table.column("run")) if "run" in table.column_names else None


def dictionary_factors(column: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``pd.factorize`` of a dictionary-encoded text column (codes in first-seen order, -1 for a null, and
    the distinct values as Python strings), computed from the integer indices: only the values that occur
    are decoded. None when the column is not dictionary-encoded text or its dictionary holds a null.

    A writer that numbers values as it meets them (pyarrow, pandas) leaves the indices in first-seen order
    already: then they are the codes, checked by one running maximum, and nothing is hashed. Otherwise the
    indices are factorised (integers, not strings). A value the dictionary holds twice keeps two codes;
    readers merge equal run ids after stripping them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if not (pa.types.is_dictionary(kind) and (pa.types.is_string(kind.value_type)
                                              or pa.types.is_large_string(kind.value_type))):
        return None
    if column.num_chunks > 1:  # a dictionary per row group: one for every chunk
        column = pa.table({"run": column}).unify_dictionaries().column(0)
    chunks = column.chunks
    if not chunks or chunks[0].dictionary.null_count:
        return None
    dictionary = chunks[0].dictionary
    parts = [(pc.fill_null(chunk.indices, -1) if chunk.null_count else chunk.indices).to_numpy() for chunk in chunks]
    indices = parts[0] if len(parts) == 1 else np.concatenate(parts)  # int32 (int64 past 2^31 values)
    if indices.size and indices[0] == 0:
        highest = np.maximum.accumulate(indices)
        highest += 1  # in place: the most each next index may be
        if (indices[1:] <= highest[:-1]).all():  # each new value is the next number: first-seen order
            return indices, np.asarray(dictionary.slice(0, int(highest[-1])).to_pylist(), dtype=object)
    codes, seen = pd.factorize(indices)  # hashes integers, in first-seen order
    if (seen < 0).any():  # a null row: code -1, the codes after it one lower
        null = int(np.argmax(seen < 0))
        codes = np.where(codes == null, -1, codes - (codes > null))
        seen = np.delete(seen, null)
    return codes, np.asarray(dictionary.take(pa.array(seen)).to_pylist(), dtype=object)


def iter_parquet_frames(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The rows of a Parquet file, ``batch_rows`` at a time, each batch bounded like a whole read."""
    handle = open_parquet(path)
    for batch in handle.iter_batches(batch_size=batch_rows, columns=flat_columns(handle, path)):
        yield to_pandas_bounded(batch, path)


def to_pandas_bounded(table: Any, path: Path) -> pd.DataFrame:
    """A pyarrow Table or RecordBatch as a DataFrame, once its text is checked against the bounds."""
    import pyarrow as pa

    decoded = 0
    for name, column in zip(table.column_names, table.columns, strict=True):
        for chunk in getattr(column, "chunks", [column]):
            decoded += _text_bytes(chunk, name, path)
    if decoded > MAX_DECODED_TEXT_BYTES:
        raise InputError(f"the Parquet file's text decodes to {size_text(decoded)}, more than the "
                         f"{size_text(MAX_DECODED_TEXT_BYTES)} read at once (a dictionary-encoded value repeated "
                         "over many rows?)", file=str(path))
    for index, column in enumerate(table.columns):
        if pa.types.is_dictionary(column.type):  # bounded now: decode, so pandas sees the file's own types
            table = table.set_column(index, table.schema.field(index).with_type(column.type.value_type),
                                     column.cast(column.type.value_type))
    # deduplicate_objects (the default): rows share one Python string per value; split_blocks: a column
    # per block, so numbers are not copied again into one 2-D block the readers take apart at once
    return table.to_pandas(split_blocks=True)


def _text_bytes(chunk: Any, name: str, path: Path) -> int:
    """The bytes the text of one array holds once each row has its own copy (0 for other types)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(chunk.type):
        if not _is_text(chunk.type.value_type):
            return 0
        lengths = pc.binary_length(chunk.dictionary)
        per_row = pc.take(lengths, chunk.indices)
    elif _is_text(chunk.type):
        lengths = per_row = pc.binary_length(chunk)
    else:
        return 0
    longest = pc.max(lengths).as_py() or 0
    if longest > MAX_TEXT_CELL_BYTES:
        raise InputError(f"a text value is {size_text(longest)} long, more than the {size_text(MAX_TEXT_CELL_BYTES)} "
                         "a cell may hold", file=str(path), column=name)
    return int(pc.sum(per_row).as_py() or 0)


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind)
                or pa.types.is_large_binary(kind))
