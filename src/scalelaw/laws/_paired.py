"""Points pairing two logged metrics of the same checkpoints, for laws of one metric in another.

A law such as accuracy-from-bpb or loss-to-loss fits the target (in the ``loss`` slot,
see :meth:`~scalelaw.data.runs.RunSet.target`) against another column ``x``, on the
rows of each run where both are logged. As in the OLMo ladder code (Bhagia et al.
2024, ``get_step2_data_by_name``), each run may drop its first ``skip`` fraction of
checkpoints and smooth both metrics with a trailing moving average over ``window``
checkpoints (shorter at the start of the run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError


@dataclass(frozen=True)
class PairedPoints:
    """Aligned ``x`` and target values with the run of each point, and each run's last point."""

    x: np.ndarray
    y: np.ndarray
    run: np.ndarray
    last: np.ndarray


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average over the last ``window`` values (fewer at the start), as OLMo's ``moving_average``."""
    if window <= 1 or values.size == 0:
        return values.astype(float)
    total = np.cumsum(values, dtype=float)
    total[window:] = total[window:] - total[:-window]
    counts = np.minimum(np.arange(1, values.size + 1), window)
    return total / counts


def paired_points(runs: RunSet, x: str, *, skip: float, window: int, purpose: str) -> PairedPoints:
    """Every checkpoint logging both the target and ``x``, per run skipped and smoothed."""
    if x not in runs.table.columns:
        shown = ", ".join(c for c in runs.columns if c != "run")[:400]
        raise InputError(f"{purpose} needs the column {x!r}, which the data does not have (columns: {shown})", column=x)
    if not 0 <= skip < 1:
        raise InputError(f"{purpose}: skip must be a fraction in [0, 1), got {skip!r}")
    if window < 1:
        raise InputError(f"{purpose}: window must be at least 1, got {window!r}")
    table = runs.table
    xs_all = pd.to_numeric(table[x], errors="coerce").to_numpy(dtype=float)
    ys_all = pd.to_numeric(table["loss"], errors="coerce").to_numpy(dtype=float)
    both = np.isfinite(xs_all) & np.isfinite(ys_all)
    if not both.any():
        raise InputError(f"{purpose}: no checkpoint logs both the target and {x!r}", column=x)
    run_ids = table["run"].astype(str).to_numpy()
    xs, ys, ids, last = [], [], [], []
    for run in dict.fromkeys(run_ids[both].tolist()):
        rows = both & (run_ids == run)
        x_run, y_run = xs_all[rows], ys_all[rows]
        start = int(np.ceil(skip * x_run.size)) if x_run.size > 1 else 0
        x_run, y_run = trailing_mean(x_run[start:], window), trailing_mean(y_run[start:], window)
        flags = np.zeros(x_run.size, dtype=bool)
        flags[-1] = True
        xs.append(x_run)
        ys.append(y_run)
        ids.append(np.full(x_run.size, run, dtype=object))
        last.append(flags)
    return PairedPoints(np.concatenate(xs), np.concatenate(ys), np.concatenate(ids).astype(str), np.concatenate(last))
