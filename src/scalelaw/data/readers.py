"""``read_runs``: any supported file or folder to a validated :class:`RunSet`.

Formats: CSV, TSV, JSON Lines, Parquet, TensorBoard event files, MLflow run folders,
and W&B history exports (CSV/JSONL with ``_step``). Every input goes through the same
steps: column mapping, loss units, row filter, per-run metadata and tokens, validation.
``iter_runs`` streams large Parquet files in chunks of complete runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from scalelaw.data import tabular
from scalelaw.data.formats import detect_format
from scalelaw.data.mlflow import mlflow_runs, read_mlflow_run
from scalelaw.data.mlflow_db import is_tracking_uri, read_mlflow_db, tracking_path
from scalelaw.data.normalize import ROW, canonical_table, fill_run_metadata
from scalelaw.data.raw import RawTable
from scalelaw.data.reduce import Reducer
from scalelaw.data.runs import CANONICAL_COLUMNS, RunSet
from scalelaw.data.tensorboard import read_tensorboard, read_tensorboard_folder
from scalelaw.data.units import to_nats
from scalelaw.data.wandb_api import is_wandb_uri, read_wandb_uri
from scalelaw.data.wandb_file import read_wandb
from scalelaw.data.wandb_panel import is_panel_export, split_panel
from scalelaw.data.validate import validate_table, warn_suspicious
from scalelaw.errors import InputError

PathLike = str | Path
STREAM_BATCH_ROWS = 1_000_000


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


def read_raw(path: Path | str, *, format: str | None = None) -> list[RawTable]:
    """The raw tables in one path (several for a folder of runs) or ``wandb://ENTITY/PROJECT``."""
    if isinstance(path, str):
        return read_wandb_uri(path)
    kind = detect_format(path, format)
    if kind == "csv":
        table = tabular.read_delimited(path, delimiter=",")
        return split_panel(table) if is_panel_export(list(table.frame.columns)) else [table]
    if kind == "tsv":
        return [tabular.read_delimited(path, delimiter="\t")]
    if kind == "jsonl":
        return [tabular.read_jsonl(path)]
    if kind == "parquet":
        return [tabular.read_parquet(path)]
    if kind == "mlflow":
        return [read_mlflow_run(run) for run in mlflow_runs(path)]
    if kind == "mlflow-sqlite":
        return read_mlflow_db(path)
    if kind == "wandb":
        return read_wandb(path)
    if not path.is_dir():
        return [read_tensorboard(path)]
    return read_tensorboard_folder(path)


def to_runs(
    raw: RawTable,
    *,
    columns: Mapping[str, str] | None = None,
    where: str | None = None,
    loss_unit: str = "nats",
    bytes_per_token: float | None = None,
    targets: bool = False,
) -> RunSet:
    """One raw table through mapping, filter, units, metadata and validation to a RunSet
    (``targets``: rows to predict, which may lack a loss)."""
    table = canonical_table(raw, columns=columns, loss_unit=loss_unit, targets=targets)
    table["loss"] = to_nats(table["loss"].to_numpy(), loss_unit, bytes_per_token=bytes_per_token, file=raw.file)
    if where:
        table = _filter(table, where, raw.file)
    codes, _ = pd.factorize(table["run"])
    table = table.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)
    table = fill_run_metadata(table)
    validate_table(table, file=raw.file, targets=targets)
    ordered = [c for c in CANONICAL_COLUMNS if c in table.columns]
    table = table[ordered + [c for c in table.columns if c not in ordered and c != ROW]]
    return RunSet(table, {run: raw.file for run in table["run"].unique().tolist()})


def _filter(table: pd.DataFrame, where: str, file: str) -> pd.DataFrame:
    try:
        kept = table.query(where, engine="python")
    except Exception as exc:  # pandas raises many error types for a bad expression
        raise InputError(f"cannot apply filter {where!r}: {exc}", file=file) from None
    if kept.empty:
        raise InputError(f"the filter {where!r} keeps no rows", file=file)
    return kept.reset_index(drop=True)


def read_runs(
    paths: PathLike | Iterable[PathLike],
    *,
    columns: Mapping[str, str] | None = None,
    where: str | None = None,
    loss_unit: str = "nats",
    bytes_per_token: float | None = None,
    format: str | None = None,
    reduce: Reducer | None = None,
    batch_rows: int = STREAM_BATCH_ROWS,
    targets: bool = False,
) -> RunSet:
    """Read runs from files or folders; the format is detected unless ``format`` is given.

    ``columns`` maps canonical names to source columns (``{"loss": "val_loss_c4"}``);
    ``loss_unit`` is one of ``nats``, ``bits``, ``bits_per_byte`` (with
    ``bytes_per_token``); ``where`` is a pandas query on the mapped columns, with the
    loss already in nats. ``reduce`` (e.g. ``keep_every(10)``) streams the input
    ``batch_rows`` rows at a time and shrinks each run as it arrives. ``targets`` reads
    rows to predict, which may lack a loss.
    """
    options = dict(columns=columns, where=where, loss_unit=loss_unit, bytes_per_token=bytes_per_token)
    if targets:
        parts = [to_runs(raw, **options, targets=True) for path in _paths(paths) for raw in read_raw(path, format=format)]
        return RunSet.concat(parts)
    if reduce is not None:
        parts = [reduce(chunk) for chunk in iter_runs(paths, format=format, batch_rows=batch_rows, **options)]
    else:
        parts = [to_runs(raw, **options) for path in _paths(paths) for raw in read_raw(path, format=format)]
    runs = RunSet.concat(parts)
    warn_suspicious(runs)
    return runs


def iter_runs(
    paths: PathLike | Iterable[PathLike],
    *,
    columns: Mapping[str, str] | None = None,
    where: str | None = None,
    loss_unit: str = "nats",
    bytes_per_token: float | None = None,
    format: str | None = None,
    batch_rows: int = STREAM_BATCH_ROWS,
) -> Iterator[RunSet]:
    """Yield validated chunks of complete runs, reading Parquet in bounded memory.

    Parquet is read ``batch_rows`` rows at a time; the rows of a run must be contiguous
    in the file (a run that reappears later is an error). Other formats are read whole.
    """
    options = dict(columns=columns, where=where, loss_unit=loss_unit, bytes_per_token=bytes_per_token)
    seen: set[str] = set()
    for path in _paths(paths):
        if isinstance(path, str) or detect_format(path, format) != "parquet":
            raws: Iterable[RawTable] = read_raw(path, format=format)
        else:
            raws = _parquet_chunks(path, batch_rows)
        for raw in raws:
            chunk = to_runs(raw, **options)
            names = chunk.table["run"].unique().tolist()
            repeated = seen.intersection(names)
            if repeated:
                run = sorted(repeated)[0]
                raise InputError("the run appears twice (in two places or files); when streaming, a run's rows "
                                 "must be contiguous", file=str(path), run=run)
            seen.update(names)
            yield chunk


def _parquet_chunks(path: Path, batch_rows: int) -> Iterator[RawTable]:
    """Raw tables of complete runs from a Parquet file, a batch at a time."""
    try:
        # Without pre-buffering and with a bounded read buffer, pyarrow's memory stays flat.
        reader = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        batches = reader.iter_batches(batch_size=batch_rows)
        pending, first_row = None, 1
        for batch in batches:
            frame = batch.to_pandas()
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
