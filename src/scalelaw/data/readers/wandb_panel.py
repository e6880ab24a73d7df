"""The CSV the W&B web UI exports from a line panel: one wide table, split into one table per run.

Layout: a ``Step`` column, then for each run and metric ``<run> - <metric>`` and, where the
panel aggregated points, ``<run> - <metric>__MIN`` and ``__MAX``. A column name is split at its
last `` - `` (run names may contain one, metric names rarely do). Each run keeps the rows where
it has a value; ``__MIN``/``__MAX`` stay as extra columns ``<metric>__MIN``/``<metric>__MAX``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scalelaw.data.readers.raw import RawTable
from scalelaw.data.readers.tabular import read_delimited
from scalelaw.errors import InputError

STEP = "Step"
SEPARATOR = " - "


def is_panel_export(columns: list[str]) -> bool:
    """True for a header like ``Step, <run> - <metric>, ...``."""
    return bool(columns) and columns[0] == STEP and len(columns) > 1 and all(SEPARATOR in c for c in columns[1:])


def split_panel(raw: RawTable) -> list[RawTable]:
    """One W&B-flavoured table per run of a panel export (``Step`` becomes ``_step``)."""
    by_run: dict[str, dict[str, str]] = {}
    for column in raw.frame.columns[1:]:
        run, _, metric = str(column).rpartition(SEPARATOR)
        if not run.strip() or not metric.strip():
            raise InputError("a W&B panel column must be '<run> - <metric>'", file=raw.file, column=str(column))
        by_run.setdefault(run.strip(), {})[metric.strip()] = str(column)
    tables = []
    for run, columns in by_run.items():
        frame = pd.DataFrame({"_step": raw.frame[STEP], **{m: raw.frame[c] for m, c in columns.items()}})
        cells = frame[list(columns)].astype(str).apply(lambda c: c.str.strip() != "")
        keep = cells.any(axis=1).to_numpy()
        if not keep.any():
            raise InputError("the run has no values in the panel export", file=raw.file, run=run)
        tables.append(RawTable(frame[keep].reset_index(drop=True), raw.rows[keep], raw.file, run, "logger", text=raw.text))
    return tables


def read_wandb_panel(path: Path) -> list[RawTable]:
    """A W&B panel CSV export: one table per run."""
    return split_panel(read_delimited(path, delimiter=","))
