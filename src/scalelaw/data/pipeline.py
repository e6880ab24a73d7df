"""``read_runs``: any supported file, folder or DataFrame to a validated :class:`RunSet`, top to bottom.

Every input takes the same steps, each once and in this order:

1. **detect** the format (:func:`scalelaw.data.readers.formats.detect_format`, the one registry);
2. **read** it with that format's reader into raw tables (:mod:`scalelaw.data.readers`);
3. **normalise**: column mapping and loss choice, strict parsing, run ids, loss units
   (:mod:`~scalelaw.data.normalize`, :mod:`~scalelaw.data.units`);
4. **merge** rows logged for one step (:mod:`~scalelaw.data.merge`);
5. **metadata**: ``--meta`` then ``--set`` values (:mod:`~scalelaw.data.metadata`);
6. **filter** rows with ``--where`` (:mod:`~scalelaw.data.filter`);
7. **validate**, after spreading per-run metadata and deriving tokens (:mod:`~scalelaw.data.validate`).

Then, over all inputs: the ``--meta`` table's unknown runs, mixed tokenizers, and one note per
run whose model size or tokens could not be found. The loss's source column is kept per run in
the ``loss_source`` column. ``iter_runs`` streams large Parquet files in chunks of complete runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from scalelaw.data.filter import filter_columns, filter_rows
from scalelaw.data.merge import merge_steps
from scalelaw.data.metadata import apply_metadata, parse_set, read_sidecar
from scalelaw.data.normalize import ROW, canonical_table, fill_run_metadata
from scalelaw.data.readers.formats import detect_format, input_path, read_path
from scalelaw.data.readers.raw import Keys, RawTable
from scalelaw.data.readers.tabular import parquet_chunks, typed_table
from scalelaw.data.reduce import Reducer
from scalelaw.data.runs import CANONICAL_COLUMNS, RunSet, run_codes
from scalelaw.data.units import to_nats
from scalelaw.data.validate import check_tokenizers, say_unknown_sizes, validate_table, warn_suspicious
from scalelaw.errors import DataWarning, InputError, warn

PathLike = str | Path
STREAM_BATCH_ROWS = 1_000_000
LOSS_SOURCE = "loss_source"
DATAFRAME = "the DataFrame"


@dataclass(frozen=True)
class ReadOptions:
    """What to do with every input after its reader: mapping, loss choice, units, metadata, filter."""

    columns: Mapping[str, str] | None = None
    where: str | None = None
    loss_unit: str = "nats"
    bytes_per_token: float | None = None
    loss: str | None = None
    set_values: Mapping[str, object] = field(default_factory=dict)
    sidecar: pd.DataFrame | None = None
    targets: bool = False

    def keys(self) -> Keys:
        """The logged keys the user names (mapped columns, the loss, the filter's columns): readers keep them."""
        named = set((self.columns or {}).values())
        if self.loss is not None and self.loss not in ("eval", "train"):
            named.add(self.loss)
        try:
            named |= filter_columns(self.where) if self.where else set()
        except ValueError:
            pass  # a malformed filter is refused, naming the file, by the filter step
        return Keys(frozenset(named))


def to_runs(raw: RawTable, options: ReadOptions = ReadOptions()) -> RunSet:
    """One raw table through mapping, units, step merging, metadata, filter and validation to a RunSet
    (``options.targets``: rows to predict, which may lack a loss)."""
    # 3. normalise: canonical columns, strict parsing, run ids, the loss in nats
    table, mapping = canonical_table(raw, columns=options.columns, loss_unit=options.loss_unit, loss=options.loss,
                                     targets=options.targets)
    if options.loss_unit != "nats":  # nats already: the column stays as it is
        table["loss"] = to_nats(table["loss"].to_numpy(), options.loss_unit, bytes_per_token=options.bytes_per_token,
                                file=raw.file)
    # 4. merge rows of one step; 5. metadata from --meta and --set; 6. filter
    codes, names = run_codes(table["run"])  # the run column is categorical here: its codes, computed once
    normalised = table
    table = merge_steps(table, file=raw.file, codes=codes)
    table = apply_metadata(table, set_values=options.set_values, sidecar=options.sidecar)
    if options.where:
        table = _filter(table, options.where, raw.file)
    if table is not normalised or "run" in options.set_values:  # rows merged or filtered out, or runs renamed
        codes, names = run_codes(table["run"])
    # 7. validate, each run's rows together, its metadata spread and its tokens derived
    if (codes[1:] < codes[:-1]).any():  # group each run's rows, in first-seen order
        order = np.argsort(codes, kind="stable")
        table, codes = table.iloc[order].reset_index(drop=True), codes[order]
    table = fill_run_metadata(table)
    validate_table(table, file=raw.file, targets=options.targets, codes=(codes, names))
    if not options.targets:
        say_unknown_sizes(table, raw)
    table = _run_table(table, mapping, _names_per_row(codes, names))
    return RunSet.from_codes(table, dict.fromkeys(names.tolist(), raw.file), codes, names)


def _names_per_row(codes: np.ndarray, names: np.ndarray) -> np.ndarray:
    """``names[codes]``; one run's name is filled into every row instead (no gather through the codes)."""
    if len(names) != 1:
        return names[codes]
    rows = np.empty(len(codes), dtype=object)
    rows.fill(names[0])
    return rows


def _run_table(table: pd.DataFrame, mapping: Mapping[str, str], runs: np.ndarray) -> pd.DataFrame:
    """The RunSet's table in one construction: canonical columns first, ``run`` as Python strings (``runs``),
    the loss's source column, and no ``_row``; no column is assigned or dropped on the frame one at a time."""
    columns: dict[str, object] = {name: table[name] for name in table.columns if name != ROW}
    columns["run"] = pd.Series(runs, index=table.index, dtype=object, copy=False)  # not inferred as text dtype
    if "loss" in mapping or LOSS_SOURCE not in columns:
        columns[LOSS_SOURCE] = _repeated_text(mapping.get("loss", "loss"), len(table))
    ordered = [c for c in CANONICAL_COLUMNS if c in columns]
    ordered += [c for c in columns if c not in ordered]
    return pd.DataFrame({name: columns[name] for name in ordered}, index=pd.RangeIndex(len(table)), copy=False)


def _repeated_text(text: str, rows: int) -> ExtensionArray:
    """``text`` on each of ``rows`` rows, typed as pandas types a column assigned that one string; where pandas
    holds text in Arrow, the Arrow array is built from its two buffers (the text repeated, evenly spaced
    offsets): no gather through an index array of ``rows`` zeros, no per-row copy."""
    one = pd.Series([text]).array
    if isinstance(one, pd.arrays.ArrowStringArray):
        import pyarrow as pa  # loaded already: pandas holds this text in it

        kind, data = pa.array(one).type, text.encode()
        offsets = np.arange(rows + 1, dtype=np.int64)
        offsets *= len(data)  # in place: the evenly spaced offsets (all 0 for an empty text)
        repeated = pa.Array.from_buffers(pa.large_string(), rows, [None, pa.py_buffer(offsets),
                                                                   pa.py_buffer(data * rows)])
        return pd.array(pa.chunked_array([repeated.cast(kind) if kind != repeated.type else repeated]),
                        dtype=one.dtype)
    return one.take(np.zeros(rows, dtype=np.intp))


def _filter(table: pd.DataFrame, where: str, file: str) -> pd.DataFrame:
    kept = filter_rows(table, where, file=file)
    if kept.empty:
        raise InputError(f"the filter {where!r} keeps no rows", file=file)
    return kept


def _options(columns: Mapping[str, str] | None, map: Mapping[str, str] | None, set: Mapping[str, object] | None,
             meta: PathLike | pd.DataFrame | None, **rest: object) -> ReadOptions:
    if columns is not None and map is not None:
        raise InputError("give the column mapping once: map= (or its older name columns=), not both")
    sidecar = read_sidecar(meta) if meta is not None else None
    return ReadOptions(columns=map if map is not None else columns, set_values=parse_set(set), sidecar=sidecar,
                       **rest)  # type: ignore[arg-type]


def read_runs(
    paths: PathLike | Iterable[PathLike] | pd.DataFrame,
    *,
    map: Mapping[str, str] | None = None,
    set: Mapping[str, object] | None = None,
    meta: PathLike | pd.DataFrame | None = None,
    loss: str | None = None,
    columns: Mapping[str, str] | None = None,
    where: str | None = None,
    loss_unit: str = "nats",
    bytes_per_token: float | None = None,
    format: str | None = None,
    pattern: str | None = None,
    reduce: Reducer | None = None,
    batch_rows: int = STREAM_BATCH_ROWS,
    targets: bool = False,
) -> RunSet:
    """Read runs from files, folders or a DataFrame; the format is detected unless ``format`` is given.

    ``map`` (or ``columns``) maps canonical names to source columns (``{"loss": "val_loss_c4"}``);
    ``loss`` picks the loss: ``None`` (eval loss where logged, else train loss), ``"eval"``,
    ``"train"`` or a column name. ``set`` gives metadata for every run (``{"params": 1.2e8}``),
    ``meta`` a table (file or DataFrame) with a ``run`` column and metadata per run.
    ``loss_unit`` is one of ``nats``, ``bits``, ``bits_per_byte`` (with ``bytes_per_token``);
    ``where`` is a filter (:mod:`scalelaw.data.filter`) on the mapped columns, with the loss already in nats;
    ``pattern`` is a regex with named groups for ``format="text"``. ``reduce`` (e.g.
    ``keep_every(10)``) streams the input ``batch_rows`` rows at a time and shrinks each run.
    A DataFrame is validated exactly like a file. ``targets`` reads rows to predict, which
    may lack a loss.
    """
    options = _options(columns, map, set, meta, where=where, loss_unit=loss_unit, bytes_per_token=bytes_per_token,
                       loss=loss, targets=targets)
    # 1. detect and 2. read each input; steps 3-7 in to_runs; then checks across all runs
    if reduce is not None and not targets and not isinstance(paths, pd.DataFrame):
        runs = RunSet.concat(reduce(chunk) for chunk in _iter_runs(paths, options, format=format, pattern=pattern,
                                                                   batch_rows=batch_rows))
    else:
        raws = [_dataframe(paths)] if isinstance(paths, pd.DataFrame) else _raw_tables(paths, format, pattern,
                                                                                       options.keys())
        runs = RunSet.concat(to_runs(raw, options) for raw in raws)
    if targets:
        return runs
    _check_sidecar_runs(options, runs)
    check_tokenizers(runs, options.loss_unit)
    warn_suspicious(runs)
    return runs


def _dataframe(frame: pd.DataFrame) -> RawTable:
    """A user's DataFrame as a raw input, checked exactly like a file (row = position + 1). It is
    copied first: the RunSet must not change when the user edits the frame afterwards."""
    return typed_table(frame.copy(deep=True), DATAFRAME, "run")


def _inputs(paths: PathLike | Iterable[PathLike]) -> list[Path | str]:
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not items:
        raise InputError("no input files given")
    return [input_path(item) for item in items]


def _raw_tables(paths: PathLike | Iterable[PathLike], format: str | None, pattern: str | None, keys: Keys
                ) -> Iterator[RawTable]:
    """Steps 1 and 2 for every input: detect its format and read it."""
    for path in _inputs(paths):
        yield from read_path(path, format=format, pattern=pattern, keys=keys)


def _read_one(path: Path | str, format: str | None, pattern: str | None, batch_rows: int, keys: Keys
              ) -> Iterable[RawTable]:
    """Steps 1 and 2 for streaming: Parquet in chunks of complete runs, any other format whole."""
    if isinstance(path, Path) and pattern is None and detect_format(path, format) == "parquet":
        return parquet_chunks(path, batch_rows)
    return read_path(path, format=format, pattern=pattern, keys=keys)


def _check_sidecar_runs(options: ReadOptions, runs: RunSet) -> None:
    if options.sidecar is None:
        return
    unknown = sorted(frozenset(options.sidecar["run"]) - frozenset(runs.runs))
    if unknown:
        warn(f"the --meta table names {len(unknown)} run(s) that were not read: {', '.join(unknown[:5])}",
             DataWarning)


def iter_runs(
    paths: PathLike | Iterable[PathLike],
    *,
    map: Mapping[str, str] | None = None,
    set: Mapping[str, object] | None = None,
    meta: PathLike | pd.DataFrame | None = None,
    loss: str | None = None,
    columns: Mapping[str, str] | None = None,
    where: str | None = None,
    loss_unit: str = "nats",
    bytes_per_token: float | None = None,
    format: str | None = None,
    pattern: str | None = None,
    batch_rows: int = STREAM_BATCH_ROWS,
) -> Iterator[RunSet]:
    """Yield validated chunks of complete runs, reading Parquet in bounded memory.

    Parquet is read ``batch_rows`` rows at a time; the rows of a run must be contiguous
    in the file (a run that reappears later is an error). Other formats are read whole.
    Options are those of :func:`read_runs`.
    """
    options = _options(columns, map, set, meta, where=where, loss_unit=loss_unit, bytes_per_token=bytes_per_token,
                       loss=loss)
    return _iter_runs(paths, options, format=format, pattern=pattern, batch_rows=batch_rows)


def _iter_runs(paths: PathLike | Iterable[PathLike], options: ReadOptions, *, format: str | None,
               pattern: str | None, batch_rows: int) -> Iterator[RunSet]:
    seen: dict[str, None] = {}
    for path in _inputs(paths):
        for raw in _read_one(path, format, pattern, batch_rows, options.keys()):
            chunk = to_runs(raw, options)
            names = chunk.table["run"].unique().tolist()
            repeated = [n for n in names if n in seen]
            if repeated:
                raise InputError("the run appears twice (in two places or files); when streaming, a run's rows "
                                 "must be contiguous", file=str(path), run=sorted(repeated)[0])
            seen.update(dict.fromkeys(names))
            yield chunk
