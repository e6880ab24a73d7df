"""Backtesting: fit on all runs but the largest, score the fit on the largest.

This is the honest check of a scaling law: does it predict the scale it was not fitted
on? Runs are ordered by one of the law's scale variables (its first, unless ``by``
names another), using each run's largest value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.fit.engine import fit_law
from scalelaw.laws.base import Law


def held_out_runs(runs: RunSet, law: Law, *, holdout: str = "largest", by: str | None = None) -> tuple[str, list[str]]:
    """The scale variable used and the runs at its largest (or ``largest:K`` largest) values."""
    name, _, count = holdout.partition(":")
    if name != "largest":
        raise InputError(f"--holdout must be 'largest' or 'largest:K', got {holdout!r}")
    try:
        k = int(count) if count else 1
    except ValueError:
        raise InputError(f"--holdout largest:K needs a whole number K, got {count!r}") from None
    if k < 1:
        raise InputError(f"--holdout largest:K needs K >= 1, got {k}")
    design = law.design(runs)
    scales = law.scale(design)
    if not scales:
        raise InputError(f"law {law.name} declares no scale variable to hold out by")
    variable = by or next(iter(scales))
    if variable not in scales:
        raise InputError(f"--by must be one of {', '.join(scales)}, got {variable!r}")
    values = np.asarray(scales[variable], dtype=float)
    per_run = {str(r): float(np.max(values[design.run == r])) for r in dict.fromkeys(design.run.tolist())}
    levels = sorted(set(per_run.values()))
    if len(levels) <= k:
        raise InputError(f"the data has only {len(levels)} distinct values of {variable}; nothing would be left to fit")
    cut = levels[-k]
    return variable, [r for r, v in per_run.items() if v >= cut]


def backtest(runs: RunSet, law: Law, *, holdout: str = "largest", by: str | None = None, **fit_options: Any) -> dict[str, Any]:
    """Fit ``law`` on the runs below the held-out scale and evaluate it on the held-out runs."""
    variable, held = held_out_runs(runs, law, holdout=holdout, by=by)
    kept = [r for r in runs.runs if r not in set(held)]
    fit = fit_law(runs.select(kept), law, **fit_options)
    return {
        "law": law.name,
        "by": variable,
        "held_out_runs": held,
        "params": fit.params,
        "warnings": fit.diagnostics.warnings,
        "evaluation": fit.evaluate(runs.select(held)),
    }
