"""Run metadata the user gives: ``--set`` values and a ``--meta`` table (the pipeline's metadata step).

What the tools themselves log (hparams, configs, tracker params) is mapped by the readers
through :mod:`scalelaw.data.aliases`. :func:`apply_metadata` puts ``--set`` and ``--meta``
values over it (set > meta table > log).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.data.aliases import as_number
from scalelaw.data.normalize import as_text, fill_run_metadata, parse_numeric
from scalelaw.data.readers.formats import read_path
from scalelaw.data.readers.raw import RawTable
from scalelaw.data.runs import NUMERIC_COLUMNS, RunSet
from scalelaw.data.validate import validate_table
from scalelaw.errors import InputError

#: Columns that vary along a run and can never be set per run.
NOT_METADATA = frozenset({"run", "step", "loss", "tokens", "lr", "loss_source", "_row"})


def parse_set(items: Mapping[str, object] | None) -> dict[str, object]:
    """``--set`` values checked: metadata columns only, numbers where the column is numeric."""
    out: dict[str, object] = {}
    for column, value in (items or {}).items():
        if column in NOT_METADATA:
            raise InputError(f"--set {column}=...: {column!r} changes along a run; only per-run metadata can be set")
        if column in NUMERIC_COLUMNS or isinstance(value, (int, float)):
            out[column] = as_number(value, what=f"--set {column}", file=None)
        else:
            out[column] = str(value)
    return out


def read_sidecar(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """A ``--meta`` table (CSV/TSV/JSONL/Parquet file or DataFrame): one row per run, metadata columns."""
    if isinstance(source, pd.DataFrame):
        raw = RawTable(source.reset_index(drop=True), np.arange(1, len(source) + 1), "the metadata table", "meta")
    else:
        tables = read_path(Path(source))
        if len(tables) != 1:
            raise InputError("a --meta table must be one table file", file=str(source))
        raw = tables[0]
    frame = raw.frame
    if "run" not in frame.columns:
        raise InputError("a --meta table needs a 'run' column naming each run", file=raw.file, column="run")
    bad = [c for c in frame.columns if c in NOT_METADATA - {"run"}]
    if bad:
        raise InputError(f"a --meta table holds per-run metadata; {bad[0]!r} changes along a run", file=raw.file,
                         column=bad[0])
    runs = frame["run"].astype(str).str.strip()
    repeated = runs.duplicated().to_numpy()
    if repeated.any():
        i = int(np.argmax(repeated))
        raise InputError("the run appears twice in the --meta table", file=raw.file, run=runs.iloc[i],
                         row=int(raw.rows[i]), column="run")
    out = pd.DataFrame({"run": runs})
    for column in frame.columns:
        if column == "run":
            continue
        strict = column in NUMERIC_COLUMNS
        parsed = parse_numeric(frame[column], raw=raw, column=column, strict=strict, runs=runs)
        out[column] = parsed if parsed is not None else as_text(frame[column])
    out.attrs["file"] = raw.file
    return out.reset_index(drop=True)


def apply_metadata(table: pd.DataFrame, *, set_values: Mapping[str, object], sidecar: pd.DataFrame | None
                   ) -> pd.DataFrame:
    """Put ``--meta`` rows (matched by run) then ``--set`` values into every row of their runs."""
    if sidecar is not None:
        rows = sidecar.set_index("run")
        runs = table["run"].astype(object)  # a categorical column would map to a categorical
        for column in rows.columns:
            mapped = runs.map(rows[column])
            given = mapped.notna() & (mapped != "")
            if column in table.columns:
                mapped = mapped.where(given, table[column])
            table[column] = mapped.astype("float64") if column in NUMERIC_COLUMNS else mapped
    for column, value in set_values.items():
        table[column] = value
    return table


def with_metadata(runs: RunSet, *, set_values: Mapping[str, object], meta: str | Path | pd.DataFrame | None
                  ) -> RunSet:
    """Runs already read (a run store, a dataset) with ``--set`` / ``--meta`` metadata applied and checked."""

    sidecar = read_sidecar(meta) if meta is not None else None
    table = apply_metadata(runs.table.copy(), set_values=parse_set(set_values), sidecar=sidecar)
    table = fill_run_metadata(table)
    validate_table(table, file=next(iter(runs.sources.values()), "the runs"))
    return RunSet(table, runs.sources)
