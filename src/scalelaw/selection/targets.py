"""Predicting target runs: rows that name a run's inputs, with or without a logged loss.

A final-loss law predicts one point per target run, from its last row (``step`` is
reported as null). A curve law predicts every logged checkpoint and the rows after a
run's last logged loss (all of a run with no loss), thinned to at most
``FORECAST_POINTS`` evenly spaced steps per run with the last one always kept: a partly
trained run whose later rows carry only the planned lr (or an ``lr_schedule`` spec) is
forecast to its end, and rows between checkpoints only carry the schedule. Rows without a loss get a placeholder so the law's own design
code builds the inputs; the placeholder never reaches the output (``observed`` is the
logged loss or null). Targets without a ``step`` column (only ``params`` and ``tokens``)
are final-point targets for any law: one row per run, ``step`` null (the law builds the
schedule, e.g. ``chinchilla-curve``'s fitted schedule family).

A curve law that held its lr-decay terms at a prior (a run that has not decayed its lr
yet, :mod:`scalelaw.laws._held`) carries the prior's uncertainty in its intervals, as every
prediction of such a fit does (:meth:`FitResult.predict_design`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.fit.result import FitResult

#: Stand-in loss of target rows without one, so that design code treats them as points.
PLACEHOLDER_LOSS = 1.0
#: Forecast steps per run beyond its last logged loss (evenly spaced, the last always kept).
FORECAST_POINTS = 1000


def target_rows(fit: FitResult, runs: RunSet) -> RunSet:
    """The rows to predict, each given a loss (the logged one or a placeholder)."""
    table = runs.table.copy()
    table["observed"] = table["loss"]
    if fit.law.kind == "final":
        if "step" in table.columns:
            table = table.sort_values(["run", "step"], kind="stable", na_position="first")
        table = table.groupby("run", sort=False).tail(1)
        table = table.assign(loss=table["loss"].fillna(PLACEHOLDER_LOSS))
    elif "step" in table.columns:
        table = table.assign(loss=table["loss"].where(~_forecast_rows(table), PLACEHOLDER_LOSS))
    table = table.reset_index(drop=True)
    return RunSet(table, runs.sources)


def _forecast_rows(table: pd.DataFrame) -> np.ndarray:
    """Rows without a loss to forecast: after each run's last logged loss, thinned evenly per run."""
    wanted = np.zeros(len(table), dtype=bool)
    step = table["step"].to_numpy(dtype=float)
    loss = table["loss"].to_numpy(dtype=float)
    for index in table.groupby("run", sort=False).indices.values():
        logged = step[index][np.isfinite(loss[index])]
        last = float(np.max(logged)) if logged.size else 0.0
        later = index[(step[index] > last) & (step[index] >= 1)]
        if later.size > FORECAST_POINTS:
            later = later[np.unique(np.round(np.linspace(0, later.size - 1, FORECAST_POINTS)).astype(int))]
        wanted[later] = True
    return wanted


def predict_targets(fit: FitResult, runs: RunSet, *, level: float | None = None) -> pd.DataFrame:
    """One row per predicted point: run, step (null for a final-point target), loss, lo, hi, observed."""
    if len(runs) == 0:
        raise InputError("no target runs to predict")
    rows = target_rows(fit, runs)
    design = fit.law.design(rows)
    prediction = fit.predict_design(design, level=level)
    final_point = fit.law.kind == "final" or "step" not in rows.table.columns
    observed = _observed(fit, rows, design, final_point)
    lo, hi = prediction.lo, prediction.hi
    if final_point:
        step = np.full(design.n, np.nan)
    else:
        step = np.asarray(design.inputs.get("step", np.full(design.n, np.nan)), dtype=float)
    return pd.DataFrame(
        {
            "run": design.run.astype(str),
            "step": step,
            "loss": prediction.loss,
            "lo": lo,
            "hi": hi,
            "observed": observed,
            "extrapolation_decades": prediction.extrapolation,
        }
    )


def _observed(fit: FitResult, rows: RunSet, design: object, final_point: bool) -> np.ndarray:
    """The logged loss of each predicted point (NaN where the target row had none)."""
    table = rows.table
    run = np.asarray(getattr(design, "run")).astype(str)
    if final_point:
        lookup = table.groupby("run", sort=False)["observed"].last()
        return lookup.reindex(run).to_numpy(dtype=float)
    steps = np.asarray(getattr(design, "inputs")["step"], dtype=float)
    keyed = table.dropna(subset=["step"]).drop_duplicates(["run", "step"], keep="last")
    lookup = pd.Series(keyed["observed"].to_numpy(dtype=float), index=pd.MultiIndex.from_arrays(
        [keyed["run"].astype(str), keyed["step"].astype(float)]))
    return lookup.reindex(pd.MultiIndex.from_arrays([run, steps])).to_numpy(dtype=float)
