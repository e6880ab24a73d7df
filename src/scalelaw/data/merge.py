"""Rows logged for the same step of a run (train and eval metrics written separately) become one row.

Values that agree merge silently; a genuine conflict (two different values of one
column at one step) is an :class:`InputError` naming both rows. Formats where a later
write replaces an earlier one (TensorBoard, resumed W&B runs, MLflow) resolve that in their
readers, so what reaches this step is never a rewrite.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelaw.data.normalize import ROW
from scalelaw.data.runs import run_codes
from scalelaw.errors import InputError

def _missing(values: pd.Series) -> pd.Series:
    if values.dtype == object:
        return values.isna() | (values.astype(str) == "")
    return values.isna()


def _show(value: object) -> str:
    return f"{value:.6g}" if isinstance(value, float) else repr(str(value)[:40])


def _first_conflict(group: pd.DataFrame, ids: np.ndarray, columns: list[str]) -> tuple[str, int, int] | None:
    """The conflict whose second row comes first: ``(column, first position, second position)``."""
    best: tuple[str, int, int] | None = None
    for column in columns:
        values = group[column]
        known = ~_missing(values).to_numpy()
        if not known.any():
            continue
        sub_ids, sub_values = ids[known], values[known]
        first_value = sub_values.groupby(sub_ids, sort=False).transform("first")
        differs = (sub_values != first_value).to_numpy()
        if not differs.any():
            continue
        second = int(np.flatnonzero(known)[int(np.argmax(differs))])
        first = int(np.flatnonzero(known & (ids == ids[second]))[0])
        if best is None or second < best[2]:
            best = (column, first, second)
    return best


def _repeated_steps(codes: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Rows whose (run, step) another row has too (a missing step never repeats), by one sort unless
    each run's rows are together with rising steps (the usual log: then none repeats)."""
    same_run = codes[1:] == codes[:-1]  # compared in place of differences: no temporary array of 8-byte numbers
    if (codes[1:] >= codes[:-1]).all() and ((steps[1:] > steps[:-1]) | ~same_run).all():
        return np.zeros(len(steps), dtype=bool)
    order = np.lexsort((steps, codes))
    same = (np.diff(codes[order]) == 0) & (np.diff(steps[order]) == 0)
    repeated = np.zeros(len(steps), dtype=bool)
    repeated[order[1:][same]] = True
    repeated[order[:-1][same]] = True
    return repeated & ~np.isnan(steps)


def merge_steps(table: pd.DataFrame, *, file: str, codes: np.ndarray | None = None) -> pd.DataFrame:
    """One row per (run, step): values of rows with the same step joined, at the first row's place
    (``codes``: the run column's :func:`run_codes`, when the caller has them already)."""
    if "step" not in table.columns:
        return table
    codes = run_codes(table["run"])[0] if codes is None else codes
    repeated = _repeated_steps(codes, table["step"].to_numpy(dtype="float64"))
    if not repeated.any():
        return table
    group = table.loc[repeated]
    ids = group.groupby(["run", "step"], sort=False).ngroup().to_numpy()
    columns = [c for c in table.columns if c not in ("run", "step", ROW)]
    found = _first_conflict(group, ids, columns)
    if found is not None:
        column, first, second = found
        a, b = group.iloc[first], group.iloc[second]
        raise InputError(
            f"step {b['step']:g} is logged twice with different values of {column!r}: {_show(a[column])} "
            f"(row {int(a[ROW])}) and {_show(b[column])} (row {int(b[ROW])})",
            file=file, run=str(b["run"]), row=int(b[ROW]), column=column,
        )
    blanked = group[columns].copy()
    for column in columns:
        if blanked[column].dtype == object:
            blanked[column] = blanked[column].where(~_missing(blanked[column]), None)
    merged = blanked.groupby(ids, sort=False).first()
    for column in columns:
        if table[column].dtype == object:
            merged[column] = merged[column].where(merged[column].notna(), "")
    first_rows = group.index[~pd.Series(ids).duplicated().to_numpy()]
    out = table.drop(index=group.index.difference(first_rows))
    out.loc[first_rows, columns] = merged[columns].to_numpy()
    for column in columns:
        if table[column].dtype.kind == "f":
            out[column] = out[column].astype("float64")
    return out.reset_index(drop=True)
