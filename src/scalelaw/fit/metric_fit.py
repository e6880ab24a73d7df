"""Fitting any logged metric: pick a law that suits its direction, or chain two steps.

``fit_metric(runs, "eval/downstream/hellaswag_val_rc_5shot_len_norm")`` fits the column
named: a metric that falls with scale (a loss) gets a loss law (Chinchilla by default),
one that rises (an accuracy) gets a law built for rising metrics (the OLMo single-step
sigmoid by default; ``fit --metric`` on the command line instead chooses among the accuracy
laws by backtest, :func:`scalelaw.selection.metric_auto.fit_metric_auto`); a loss law is never
fitted to a rising metric with its sign flipped.
With ``via``, the metric is forecast in two steps (see :mod:`scalelaw.fit.two_step`).
An accuracy is checked before any law sees it (:func:`check_accuracy`): a constant metric,
a value above 1, one that rises then falls, fewer than three sizes or a chance level at or
above every observed value are refused with a message, never fitted into a confident number.
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
from scalelaw.laws._chance import chance_level
from scalelaw.laws.base import Law

#: Columns that measure scale; a law whose inputs are among them can be checked for direction.
SCALE_INPUTS = frozenset({"params", "tokens", "flops", "step"})
#: |Spearman ρ| of a metric against scale below which its direction is taken as unknown.
DIRECTION_MIN_CORRELATION = 0.3
#: Laws of a bounded metric that rises with scale (an accuracy): their data is checked by :func:`check_accuracy`.
ACCURACY_LAWS = frozenset({"chance-sigmoid", "log-linear", "sigmoid-chinchilla"})
#: Distinct model sizes (or compute levels) an accuracy forecast needs: two to fit a trend, one more to check it.
MIN_SIZES = 3
#: Sizes whose parameter counts differ by less than this factor are one size.
SAME_SIZE = 1.05
#: A mean accuracy at the largest size this far below the peak of the smaller ones is a metric that rises then falls.
FALL_TOLERANCE = 0.02


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
    if np.ptp(np.asarray(values, dtype=float)) == 0:
        return None  # a constant metric has no direction (and Spearman's rho is undefined)
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
    chance: float | None = None,
    law_options: Mapping[str, Any] | None = None,
    **fit_options: Any,
) -> FitResult | TwoStepFit:
    """Fit a law to the column ``metric`` (or forecast it through ``via``).

    ``window`` averages each value over a run's last ``window`` logged values; by default
    5 (the OLMo ladder's choice) for two-step fits and for metrics that rise, whose
    evaluations are noisy, and 1 (the logged value) for losses. ``chance`` is the floor of
    a ``chance-sigmoid`` law (default: the benchmark's from :data:`~scalelaw.laws._chance.CHANCE_LEVELS`).
    """
    if via is not None:
        options = {k: v for k, v in fit_options.items() if k in {"bootstrap", "seed", "ci_level", "strict", "progress", "fix"}}
        return fit_two_step(runs, metric, via, law=law or "chinchilla", window=window or WINDOW, **options)
    metric = metric_column(runs, metric)
    target = runs.target(metric)
    dropped = len(runs) - len(target)
    if dropped:
        warn(f"{dropped} run(s) never log {metric!r} and are left out of its fit", DataWarning)
    rises = metric_rises(target)
    if law is None:
        law = "sigmoid-chinchilla" if rises else "chinchilla"
    chosen = laws.get(law, **dict(law_options or {})) if isinstance(law, str) else law
    if chosen.name == "chance-sigmoid" and (chance is not None or (isinstance(law, str) and "chance" not in (law_options or {}))):
        chosen = laws.get(chosen.name, **{**chosen.options(), "chance": resolve_chance(metric, chance)[0]})
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
    if chosen.name in ACCURACY_LAWS:
        check_accuracy(view, metric, getattr(chosen, "chance", 0.0))
    if chosen.name == "loss-to-loss":
        fit_options = {**fit_options, "fix": {**irreducible_losses(view, chosen), **dict(fit_options.get("fix") or {})}}
    result = fit_law(view, chosen, **fit_options)
    result.options.update(metric=metric, window=window)
    return result


def metric_column(runs: RunSet, metric: str) -> str:
    """The column holding ``metric``: ``loss`` when ``--map loss=METRIC`` (or ``--loss METRIC``) moved it there."""
    if metric not in runs.columns and metric in runs.loss_sources():
        return "loss"
    return metric


def resolve_chance(metric: str, chance: float | None) -> tuple[float, str]:
    """The chance level of ``metric`` (given, or from the table of benchmarks; 0 when unknown) and where it came from."""
    if chance is not None:
        if isinstance(chance, bool) or not isinstance(chance, (int, float)) or not 0 <= chance < 1:
            raise InputError(f"--chance must be a fraction in [0, 1) (0.25 for 4-way multiple choice), got {chance!r}")
        return float(chance), "given"
    found = chance_level(metric)
    if found is not None:
        return found
    return 0.0, f"no chance level known for {metric!r}: floor at 0 (give --chance, e.g. 0.25 for 4-way multiple choice)"


def check_accuracy(view: RunSet, metric: str, chance: float = 0.0) -> None:
    """Refuse an accuracy no law can forecast honestly; ``view`` holds it in ``loss`` (smoothed as fitted).

    A value outside [0, 1], a constant metric, fewer than :data:`MIN_SIZES` sizes, a mean
    at the largest size more than :data:`FALL_TOLERANCE` below an earlier peak (rises then
    falls) and a chance level at or above every observed value are each an InputError.
    """
    final = view.final()
    values = final["loss"].to_numpy(dtype=float)
    runs = final["run"].astype(str).to_numpy()
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        hint = f" (a percentage? {values[i]:g}% is {values[i] / 100:g})" if 1 < values[i] <= 100 else ""
        raise InputError(f"{metric!r} must be an accuracy between 0 and 1, got {values[i]:g}{hint}",
                         file=view.source(runs[i]), run=runs[i], column=metric)
    if values.size and np.ptp(values) < 1e-12:
        raise InputError(f"{metric!r} is {values[0]:g} in every run: it does not change with scale, so no law can "
                         "forecast it", column=metric)
    sizes = _size_levels(final)
    if sizes is not None:
        column, level = sizes
        distinct = np.unique(level)
        first = final.groupby(level)[column].first().to_numpy(dtype=float)
        if distinct.size < MIN_SIZES:
            shown = ", ".join(f"{v:.3g}" for v in first)
            raise InputError(
                f"{metric!r} is logged at {distinct.size} {column} level(s) ({shown}): a forecast of accuracy needs "
                f"at least {MIN_SIZES}, two to fit a trend and one more to check it", column=metric)
        means = np.array([values[level == v].mean() for v in distinct])
        peak = int(np.argmax(means))
        if peak < means.size - 1 and means[peak] - means[-1] > FALL_TOLERANCE:
            raise InputError(
                f"{metric!r} rises then falls with {column}: its mean is {means[peak]:.3g} at {column} {first[peak]:.3g} "
                f"but {means[-1]:.3g} at the largest, {first[-1]:.3g}; the accuracy laws rise monotonically, so none "
                "can forecast it",
                column=metric)
    if values.size and chance >= values.max():
        raise InputError(
            f"the chance level {chance:g} is at or above every observed value of {metric!r} (highest "
            f"{values.max():.3g}): check --chance (1/k for a k-way multiple-choice task)", column=metric)


def _size_levels(final: Any) -> tuple[str, np.ndarray] | None:
    """Per run, the index of its model size (compute when sizes are unknown), or None with neither."""
    for column in ("params", "flops"):
        if column in final.columns and final[column].notna().all() and (final[column] > 0).all():
            logs = np.log(final[column].to_numpy(dtype=float))
            order = np.unique(logs)
            starts = np.concatenate([[True], np.diff(order) > np.log(SAME_SIZE)])
            return column, np.searchsorted(order[starts], logs, side="right") - 1
    return None


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
