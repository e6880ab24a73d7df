"""One law scored on rolling-origin folds: fit on each fold's training runs, predict its held-out points.

Each held-out point gives a log error (observed/predicted) and its distance in decades
beyond the fold's fitted range; per fold, the held-out runs' final-loss and curve errors
are recorded. :mod:`scalelaw.selection.auto` compares laws by these scores, and
:mod:`scalelaw.selection.calibration` turns each held-out run's last point into the law's
error model.

Given the law's optimum on all the data (``start``), every fold of a law searched over a
grid is fitted from that one start instead of the whole grid: a fold is the same problem
with a few runs left out, so its optimum lies in the same basin, and one local search
costs a fraction of a multi-start. A law solved by variable projection keeps its own
(cheap, global) search on every fold, so no held-out run steers its fit.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalelaw.errors import InputError, ScalelawWarning, UntrustedFitError
from scalelaw.selection import folds
from scalelaw.fit.engine import fit_law_subsets
from scalelaw.fit.result import FitResult
from scalelaw.laws.base import Law


@dataclass
class Backtest:
    """One law's backtest: per-fold records, its scores, and the points that calibrate its intervals."""

    label: str
    law: Law
    folds: list[dict[str, Any]]
    errors: np.ndarray
    decades: np.ndarray
    groups: np.ndarray
    noise_var: np.ndarray
    fold_of: np.ndarray
    failure: str | None = None
    #: Optional folds the law could not be fitted on (too few runs left for its parameters), with why.
    skipped: list[str] = field(default_factory=list)

    def beyond(self) -> set[str]:
        """Names of the folds beyond the data this law was scored on."""
        return {f["fold"] for f in self.folds if not f.get("inside")}

    def score(self, key: str, only: set[str] | None = None) -> float:
        """Mean over the folds beyond the data (all folds if none; only those named in ``only`` if given)
        of the per-fold mean (``final_error``, ``curve_error`` or ``bias``)."""
        beyond = [f for f in self.folds if not f.get("inside") and (only is None or f["fold"] in only)]
        values = [f[key] for f in beyond or (self.folds if only is None else [])]
        return float(np.mean(values)) if values and self.failure is None else math.nan

    def record(self) -> dict[str, Any]:
        return {
            "law": self.law.name,
            "label": self.label,
            "options": self.law.options(),
            "final_error": _finite_or_none(self.score("final_error")),
            "curve_error": _finite_or_none(self.score("curve_error")),
            "bias": _finite_or_none(self.score("bias")),
            "folds": self.folds,
            "failure": self.failure,
            "skipped_folds": self.skipped,
        }


def start_values(law: Law, theta: np.ndarray) -> dict[str, float]:
    """``theta`` (natural units, the law's order) by name: the engine's warm start (``fit_law(start=...)``),
    one local descent from there for every law, projected or not, instead of its multi-start."""
    return {name: float(value) for name, value in zip(law.param_names, np.asarray(theta, dtype=float), strict=True)}


def backtest(label: str, law: Law, plan: list[folds.Fold], fit_options: dict[str, Any],
             start: np.ndarray | None = None) -> Backtest:
    """Fit ``law`` on every fold's training runs and score it on the held-out points.

    A law that cannot be fitted on an optional fold (one across length, or a single run
    inside the range, when too few runs remain for its parameters) skips that fold; failing
    a required fold fails the backtest. ``start`` (the law's optimum on all the data) makes
    each fold one local search from there.
    """
    result = Backtest(label, law, [], *(np.empty(0) for _ in range(5)))
    # A law solved by variable projection keeps its own global search on each fold: it is cheap, and a
    # descent from the all-data optimum would carry the held-out runs into the fold's fit along a degenerate
    # valley. A law searched over a grid (the curve laws, where the search is the cost) starts from there.
    warm = None if start is None or _projected(law) else start_values(law, start)
    parts: list[tuple[np.ndarray, ...]] = []
    with warnings.catch_warnings():  # every fold's fit, searched together where the law allows
        warnings.simplefilter("ignore", ScalelawWarning)
        searched = fit_law_subsets([fold.train for fold in plan], law, start=warm, **fit_options)
    for fold, fitted in zip(plan, searched, strict=True):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ScalelawWarning)
                fit = _unless_error(fitted)
                design = law.design(fold.test)
        except (InputError, UntrustedFitError, ValueError, FloatingPointError) as exc:
            if fold.optional:
                result.skipped.append(f"{fold.name}: {exc}")
                continue
            result.failure = f"{fold.name}: {exc}"
            return result
        predicted = law.predict(fit.theta[None, :], design)[0]
        step = np.asarray(design.inputs.get("step", np.full(design.n, np.inf)), dtype=float)
        after = np.array([fold.after.get(str(r), -np.inf) for r in design.run])
        held = step > after
        with np.errstate(all="ignore"):
            errors = np.log(design.loss / predicted)
        if not held.any() or not np.all(np.isfinite(errors[held])):
            if fold.optional:
                result.skipped.append(f"{fold.name}: no finite prediction of the held-out points")
                continue
            result.failure = f"{fold.name}: no finite prediction of the held-out points"
            return result
        decades = fit.decades_beyond(design)
        noise = float(np.mean(np.square(fit.residuals))) if fit.residuals.size else 0.0
        result.folds.append({**_fold_record(fold.name, design.run[held], step[held], errors[held], decades[held]),
                             "inside": fold.inside, "axis": fold.axis, "distance": fold.distance,
                             "converged": bool(fit.diagnostics.converged)})
        # The error model is measured on each held-out run's last point: the final loss is what a forecast is
        # asked for, and it lies farthest out; a curve's earlier points, nearer the data, would dilute it.
        last = _last_points(design.run[held], step[held])
        runs = np.array([f"{fold.name}|{r}" for r in design.run[held][last]])
        parts.append((errors[held][last], decades[held][last], runs, np.full(last.size, noise),
                      np.full(last.size, fold.name)))
    if not parts:
        result.failure = "no fold could be fitted: " + "; ".join(result.skipped)
        return result
    result.errors, result.decades, result.groups, result.noise_var, result.fold_of = (
        np.concatenate(p) for p in zip(*parts))
    return result


def _unless_error(fit: FitResult | Exception) -> FitResult:
    """The fit, or its error raised."""
    if isinstance(fit, Exception):
        raise fit
    return fit


def _projected(law: Law) -> bool:
    """True when the law declares a linear part (the engine then searches it by variable projection)."""
    return type(law).linear_part is not Law.linear_part


def _last_points(run: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Index of each run's last point (largest step; the only point of a final-loss row)."""
    order = np.lexsort((step, run))
    ends = np.r_[run[order][1:] != run[order][:-1], True]
    return np.sort(order[ends])


def _fold_record(name: str, run: np.ndarray, step: np.ndarray, errors: np.ndarray, decades: np.ndarray) -> dict[str, Any]:
    """Per fold: held-out runs, their final-loss and curve errors (relative), bias and distance."""
    final, curve = [], []  # per held-out run
    for r in dict.fromkeys(run.tolist()):
        mine = run == r
        last = int(np.flatnonzero(mine)[np.argmax(step[mine])])
        final.append(math.expm1(-errors[last]))  # predicted / observed - 1
        curve.append(float(np.mean(np.abs(np.expm1(-errors[mine])))))
    return {
        "fold": name,
        "held_out_runs": list(dict.fromkeys(run.tolist())),
        "final_error": float(np.mean(np.abs(final))),
        "curve_error": float(np.mean(curve)),
        "bias": float(np.mean(final)),
        "decades": float(np.max(decades)),
        "final_errors": [float(v) for v in final],
    }


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
