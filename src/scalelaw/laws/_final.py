"""Shared input handling of the final-loss laws: one point per run, validated columns.

Final-loss laws fit the last logged loss of each run against per-run quantities
(``params``, ``tokens``, ...). Every value must be a positive finite number; a bad one
is an :class:`~scalelaw.errors.InputError` naming the file, run and column.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing import TYPE_CHECKING

import numpy as np

from scalelaw._lazy import lazy
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws.base import Design

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")


def positive_column(rows: pd.DataFrame, runs: RunSet, column: str, purpose: str) -> np.ndarray:
    """The column as float64, after checking every value is finite and positive."""
    values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        run = str(rows["run"].iloc[i])
        raise InputError(
            f"{purpose} needs a positive finite {column!r}, got {rows[column].iloc[i]!r}",
            file=runs.source(run),
            run=run,
            column=column,
        )
    return values


def final_design(runs: RunSet, columns: Sequence[str], *, purpose: str, derive_flops: bool = False) -> Design:
    """A design from the last logged point of every run, with the named input columns.

    With ``derive_flops``, a missing ``flops`` column is computed as C = 6·N·D.
    """
    needed = [c for c in columns if not (derive_flops and c == "flops" and not runs.has("flops"))]
    if derive_flops and "flops" in columns and not runs.has("flops"):
        needed += [c for c in ("params", "tokens") if c not in needed]
    absent = [c for c in needed if c not in runs.table.columns]
    if absent:
        runs.require(absent, purpose=purpose)  # raises, naming the column and the --map fix
    rows = runs.final()
    if rows.empty:
        raise InputError(f"{purpose} needs at least one run with a logged loss")
    inputs = {c: positive_column(rows, runs, c, purpose) for c in needed}
    if derive_flops and "flops" in columns and "flops" not in inputs:
        inputs["flops"] = 6.0 * inputs["params"] * inputs["tokens"]
    inputs = {c: inputs[c] for c in columns}
    loss = positive_column(rows, runs, "loss", purpose)
    return Design(inputs=inputs, loss=loss, run=rows["run"].astype(str).to_numpy())


def params_tokens_scale(design: Design) -> dict[str, np.ndarray]:
    """The scale variables of a law in N and D: both, and the compute C = 6·N·D."""
    n, d = design.inputs["params"], design.inputs["tokens"]
    return {"params": n, "tokens": d, "flops": 6.0 * n * d}
