"""Fitting any logged metric: pick a law that suits its direction, or chain two steps.

``fit_metric(runs, "eval/downstream/hellaswag_val_rc_5shot_len_norm")`` fits the column
named: a metric that falls with scale (a loss) gets a loss law (Chinchilla by default),
one that rises (an accuracy) gets a law built for rising metrics (the OLMo single-step
sigmoid by default); a loss law is never fitted to a rising metric with its sign flipped.
With ``via``, the metric is forecast in two steps (see :mod:`scalelaw.fit.two_step`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import DataWarning, InputError, warn
from scalelaw.fit.engine import fit_law
from scalelaw.fit.result import FitResult
from scalelaw.fit.two_step import WINDOW, TwoStepFit, fit_two_step
from scalelaw.laws.base import Law

#: Columns that measure scale; a law whose inputs are among them can be checked for direction.
SCALE_INPUTS = frozenset({"params", "tokens", "flops", "step"})
#: |Spearman ρ| of a metric against scale below which its direction is taken as unknown.
DIRECTION_MIN_CORRELATION = 0.3


def metric_rises(runs: RunSet) -> bool | None:
    """Whether the target (in ``loss``) rises with scale; None when the data cannot tell.

    Across runs: each run's final value against its compute (params × tokens, or tokens);
    with one run: every logged value against its step. Decided by the sign of Spearman's ρ.
    """
    final = runs.final()
    if len(final) >= 3 and "tokens" in final.columns and final["tokens"].notna().all():
        scale = final["tokens"] * (final["params"] if "params" in final.columns and final["params"].notna().all() else 1.0)
        values = final["loss"]
    else:
        rows = runs.table[runs.table["loss"].notna()]
        column = "tokens" if "tokens" in rows.columns and rows["tokens"].notna().all() else "step"
        if column not in rows.columns or len(rows) < 3:
            return None
        scale, values = rows[column], rows["loss"]
    rho = pd.Series(np.asarray(values, dtype=float)).corr(pd.Series(np.asarray(scale, dtype=float)), method="spearman")
    if not np.isfinite(rho) or abs(rho) < DIRECTION_MIN_CORRELATION:
        return None
    return bool(rho > 0)


def fit_metric(
    runs: RunSet,
    metric: str,
    *,
    law: str | Law | None = None,
    via: str | None = None,
    window: int | None = None,
    law_options: Mapping[str, Any] | None = None,
    **fit_options: Any,
) -> FitResult | TwoStepFit:
    """Fit a law to the column ``metric`` (or forecast it through ``via``).

    ``window`` averages each value over a run's last ``window`` logged values; by default
    5 (the OLMo ladder's choice) for two-step fits and for metrics that rise, whose
    evaluations are noisy, and 1 (the logged value) for losses.
    """
    if via is not None:
        options = {k: v for k, v in fit_options.items() if k in {"bootstrap", "seed", "ci_level", "strict", "progress", "fix"}}
        return fit_two_step(runs, metric, via, law=law or "chinchilla", window=window or WINDOW, **options)
    target = runs.target(metric)
    dropped = len(runs) - len(target)
    if dropped:
        warn(f"{dropped} run(s) never log {metric!r} and are left out of its fit", DataWarning)
    rises = metric_rises(target)
    if law is None:
        law = "sigmoid-chinchilla" if rises else "chinchilla"
    chosen = laws.get(law, **dict(law_options or {})) if isinstance(law, str) else law
    if rises is not None and set(chosen.inputs) <= SCALE_INPUTS and chosen.rises != rises:
        direction = "rises" if rises else "falls"
        other = "sigmoid-chinchilla, or --via a loss it follows" if rises else "chinchilla"
        raise InputError(
            f"{metric!r} {direction} with scale, but law {chosen.name} is for metrics that "
            f"{'rise' if chosen.rises else 'fall'}; fit it with {other}",
            column=metric,
        )
    window = window or (WINDOW if rises else 1)
    view = runs.target(metric, window=window) if window > 1 else target
    if chosen.name == "loss-to-loss":
        fit_options = {**fit_options, "fix": {**irreducible_losses(view, chosen), **dict(fit_options.get("fix") or {})}}
    result = fit_law(view, chosen, **fit_options)
    result.options.update(metric=metric, window=window)
    return result


def irreducible_losses(runs: RunSet, law: Law) -> dict[str, float]:
    """E_x and E_y of a loss-to-loss law from Chinchilla fits of each loss on the same runs.

    Brandfonbrener et al. 2024 take the two irreducible losses from each dataset's own
    scaling law and fit only K and κ between them; without params and tokens to fit those
    laws, nothing is fixed and all four parameters are fitted together.
    """
    if not (runs.has("params") and runs.has("tokens")):
        return {}
    x = law.options()["x"]
    floors = {}
    for name, view in (("E_x", runs.target(x)), ("E_y", runs)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # diagnostics of these auxiliary fits are not the user's fit
            floors[name] = fit_law(view, "chinchilla").params["E"]
    return floors
