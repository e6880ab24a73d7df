"""``read_runs``: any supported file, folder or DataFrame to a validated :class:`RunSet`.

The format of each path is detected in :mod:`scalelaw.data.formats`, whose registry
names each format's reader. Every input then goes through the same steps: column
mapping and loss choice, loss units, merging rows of one step, per-run metadata
(``set``, ``meta``), row filter, tokens, validation. The loss's source column is kept
per run in the ``loss_source`` column. ``iter_runs`` streams large Parquet files in
chunks of complete runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.data import tabular
from scalelaw.data.filter import filter_rows
from scalelaw.data.formats import FORMATS, detect_format
from scalelaw.data.merge import merge_steps
from scalelaw.data.metadata import apply_metadata, parse_set, read_sidecar
from scalelaw.data.mlflow_db import is_tracking_uri, tracking_path
from scalelaw.data.normalize import ROW, canonical_table, fill_run_metadata
from scalelaw.data.parquet_bounds import iter_parquet_frames
from scalelaw.data.raw import RawTable
from scalelaw.data.reduce import Reducer
from scalelaw.data.runs import CANONICAL_COLUMNS, RunSet
from scalelaw.data.units import to_nats
from scalelaw.data.validate import validate_table, warn_suspicious
from scalelaw.data.wandb_api import is_wandb_uri, read_wandb_uri
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


def _paths(paths: PathLike | Iterable[PathLike]) -> list[Path | str]:
    """Inputs as paths; ``wandb://ENTITY/PROJECT`` stays a string, MLflow tracking URIs become paths."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not items:
        raise InputError("no input files given")
    return [_input(p) for p in items]


def _input(item: PathLike) -> Path | str:
    if isinstance(item, str) and is_wandb_uri(item):
        return item
    return tracking_path(item) if isinstance(item, str) and is_tracking_uri(item) else Path(item)


def read_raw(path: Path | str, *, format: str | None = None, pattern: str | None = None) -> list[RawTable]:
    """The raw tables in one path (several for a folder of runs) or ``wandb://ENTITY/PROJECT``,
    read by its format's reader."""
    if isinstance(path, str):
        return read_wandb_uri(path)
    if pattern is not None and format not in (None, "text"):
        raise InputError(f"--pattern applies to --format text, not --format {format}", file=str(path))
    kind = detect_format(path, "text" if pattern is not None else format)
    spec = FORMATS[kind]
    options = {"pattern": pattern} if pattern is not None else {}
    try:
        return spec.load_reader()(path, **options)
    except InputError as exc:
        if exc.location.file is None:
            raise InputError(exc.reason, file=str(path), run=exc.location.run, row=exc.location.row,
                             column=exc.location.column) from None
        raise


def read_csv(path: Path) -> list[RawTable]:
    return [tabular.read_delimited(path, delimiter=",")]


def read_tsv(path: Path) -> list[RawTable]:
    return [tabular.read_delimited(path, delimiter="\t")]


def read_jsonl(path: Path) -> list[RawTable]:
    return [tabular.read_jsonl(path)]


def read_parquet(path: Path) -> list[RawTable]:
    return [tabular.read_parquet(path)]


def read_mlflow(path: Path) -> list[RawTable]:
    from scalelaw.data.mlflow import mlflow_runs, read_mlflow_run

    return [read_mlflow_run(run) for run in mlflow_runs(path)]


def read_mlflow_sqlite(path: Path) -> list[RawTable]:
    """An ``mlflow.db`` file, or the one in the folder given."""
    from scalelaw.data.mlflow_db import read_mlflow_db

    return read_mlflow_db(path / "mlflow.db" if path.is_dir() else path)


def read_wandb_panel(path: Path) -> list[RawTable]:
    """A W&B panel CSV export: one table per run."""
    from scalelaw.data.wandb_panel import split_panel

    return split_panel(tabular.read_delimited(path, delimiter=","))


def read_tensorboard(path: Path) -> list[RawTable]:
    """An event file, or every run of a log folder (a run is named by its folder)."""
    from scalelaw.data.tensorboard import read_tensorboard as read_events
    from scalelaw.data.tensorboard import read_tensorboard_folder

    return read_tensorboard_folder(path) if path.is_dir() else [read_events(path)]


def dataframe_table(frame: pd.DataFrame) -> RawTable:
    """A user's DataFrame as a raw input, checked exactly like a file (row = position + 1)."""
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    flavor = "logger" if tabular.WANDB_MARKERS & set(frame.columns) else "table"
    return RawTable(frame, np.arange(1, len(frame) + 1), DATAFRAME, "run", flavor)


def to_runs(raw: RawTable, options: ReadOptions = ReadOptions()) -> RunSet:
    """One raw table through mapping, units, step merging, metadata, filter and validation to a RunSet
    (``options.targets``: rows to predict, which may lack a loss)."""
    table, mapping = canonical_table(raw, columns=options.columns, loss_unit=options.loss_unit, loss=options.loss,
                                     targets=options.targets)
    table["loss"] = to_nats(table["loss"].to_numpy(), options.loss_unit, bytes_per_token=options.bytes_per_token,
                            file=raw.file)
    table = merge_steps(table, file=raw.file)
    table = apply_metadata(table, set_values=options.set_values, sidecar=options.sidecar)
    if options.where:
        table = _filter(table, options.where, raw.file)
    codes, _ = pd.factorize(table["run"])
    table = table.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)
    table = fill_run_metadata(table)
    validate_table(table, file=raw.file, targets=options.targets)
    if "loss" in mapping or LOSS_SOURCE not in table.columns:
        table[LOSS_SOURCE] = mapping.get("loss", "loss")
    ordered = [c for c in CANONICAL_COLUMNS if c in table.columns]
    table = table[ordered + [c for c in table.columns if c not in ordered and c != ROW]]
    return RunSet(table, {run: raw.file for run in table["run"].unique().tolist()})


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
    if targets:
        frames = [dataframe_table(paths)] if isinstance(paths, pd.DataFrame) else [
            raw for path in _paths(paths) for raw in read_raw(path, format=format, pattern=pattern)]
        return RunSet.concat(to_runs(raw, options) for raw in frames)
    if isinstance(paths, pd.DataFrame):
        runs = to_runs(dataframe_table(paths), options)
    elif reduce is not None:
        chunks = _iter_runs(paths, options, format=format, pattern=pattern, batch_rows=batch_rows)
        runs = RunSet.concat(reduce(chunk) for chunk in chunks)
    else:
        runs = RunSet.concat(to_runs(raw, options) for path in _paths(paths)
                             for raw in read_raw(path, format=format, pattern=pattern))
    _check_sidecar_runs(options, runs)
    warn_suspicious(runs)
    return runs


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
    for path in _paths(paths):
        if isinstance(path, str) or pattern is not None or detect_format(path, format) != "parquet":
            raws: Iterable[RawTable] = read_raw(path, format=format, pattern=pattern)
        else:
            raws = _parquet_chunks(path, batch_rows)
        for raw in raws:
            chunk = to_runs(raw, options)
            names = chunk.table["run"].unique().tolist()
            repeated = [n for n in names if n in seen]
            if repeated:
                raise InputError("the run appears twice (in two places or files); when streaming, a run's rows "
                                 "must be contiguous", file=str(path), run=sorted(repeated)[0])
            seen.update(dict.fromkeys(names))
            yield chunk


def _parquet_chunks(path: Path, batch_rows: int) -> Iterator[RawTable]:
    """Raw tables of complete runs from a Parquet file, a batch at a time."""
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
                yield _raw(frame.iloc[:cut], path, first_row)
                first_row += cut
            pending = frame.iloc[cut:].reset_index(drop=True)
    except InputError:
        raise
    except Exception as exc:  # pyarrow raises several error types for a damaged file
        raise InputError(f"cannot read as Parquet: {exc}", file=str(path)) from None
    if pending is not None and len(pending):
        yield _raw(pending, path, first_row)
    elif first_row == 1:
        raise InputError("the Parquet file has no rows", file=str(path))


def _raw(frame: pd.DataFrame, path: Path, first_row: int) -> RawTable:
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    flavor = "logger" if tabular.WANDB_MARKERS & set(frame.columns) else "table"
    return RawTable(frame, np.arange(first_row, first_row + len(frame)), str(path), path.stem, flavor)
