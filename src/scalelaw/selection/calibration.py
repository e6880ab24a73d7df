"""Estimating a law's error beyond its fitted data from rolling-origin backtests.

The error model itself (:class:`~scalelaw.fit.law_error.ExtrapolationError`) lives in
:mod:`scalelaw.fit.law_error`, beside the results that carry it; this module fits it to
backtest points.

A systematic sign is measured per fold beyond the data: b_k, the fold's log error per decade
(observed/predicted, each held-out run weighing the same). When there are two folds or more,
all b_k share a sign and their mean is at least ``TREND_T`` standard errors from zero, the
trend is consistent: forecasts are corrected by it and the interval widened by its standard
error (:class:`ExtrapolationError`); otherwise the verdict says why it was not. The standard
error is the larger of the folds' spread and what the runs' own scatter alone gives the mean
of the b_k: a few folds a tenth of a decade out can agree in sign by chance when each held-out
point is as noisy as a single logged batch, and their spread then says nothing.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from scalelaw.fit.law_error import MAX_CORRECTION, MAX_DOF, TESTED_REACH, ExtrapolationError, shape

__all__ = ["LOSS_PRIOR", "MAX_DOF", "TESTED_REACH", "ExtrapolationError", "estimate", "shape", "trend", "with_prior"]

#: A trend across folds is consistent when its mean is this many standard errors from zero (and all agree in sign).
TREND_T = 2.0
#: Folds beyond the data needed to judge a trend.
TREND_FOLDS = 2
#: The error of a loss law before any backtest (sd of the log loss): 0.2% on a new run inside the fitted
#: range (about the spread of a rerun of the same run) and 1% per decade beyond it, the size of the published
#: misses: about 1.1% at 0.35-1 decades on a public 13-run ladder, 1.5% (Multi-Power Law 25M+100M -> 400M)
#: and 3% (OLMo 1B ladder -> 13B, about 1.1 decades), as issue 24 lists them. Worth PRIOR_RUNS held-out runs.
LOSS_PRIOR = ExtrapolationError(slope=0.01, dof=4, tested_decades=0.0, bias=0.0, runs=0, points=0, folds=0,
                                floor=0.002)
#: Fixed-point steps of the precision-weighted slope (:func:`_slope2`); it settles in a few dozen.
SLOPE_ITERATIONS = 100
#: Held-out runs a prior error model is worth when blended with a measured one.
PRIOR_RUNS = 1


def with_prior(measured: ExtrapolationError | None, prior: ExtrapolationError) -> ExtrapolationError:
    """The measured error model with ``prior`` blended in as :data:`PRIOR_RUNS` held-out runs (variances
    weighted by runs), the prior alone when nothing was measured.

    A few backtest points whose errors fall inside the fit's own scatter estimate the law's error as 0, a
    certainty four points cannot give: the prior keeps the interval from resting on that estimate alone,
    and weighs nothing once dozens of held-out runs were measured.
    """
    if measured is None:
        return prior
    total = PRIOR_RUNS + measured.runs
    slope = math.sqrt((PRIOR_RUNS * prior.slope**2 + measured.runs * measured.slope**2) / total)
    floor = math.sqrt((PRIOR_RUNS * prior.floor**2 + measured.runs * measured.floor**2) / total)
    return replace(measured, slope=slope, floor=floor)


def estimate(
    errors: np.ndarray, decades: np.ndarray, groups: np.ndarray, noise_var: np.ndarray, folds: np.ndarray | None = None
) -> ExtrapolationError | None:
    """Fit the error model to backtest points: log errors, distances, held-out run keys, noise variances, folds.

    ``groups`` name the held-out run of each point (unique across folds) and ``folds`` its
    fold (one fold when omitted). Held-out points inside the fold's fitted range (d = 0)
    give the floor, points beyond it the slope. None when there is no finite point.
    """
    errors, decades, noise_var = (np.asarray(a, dtype=float) for a in (errors, decades, noise_var))
    groups = np.asarray(groups).astype(str)
    folds = np.zeros(errors.size, dtype=str) if folds is None else np.asarray(folds).astype(str)
    keep = np.isfinite(errors) & np.isfinite(decades)
    if not keep.any():
        return None
    e, d, v, g, f = errors[keep], np.maximum(decades[keep], 0.0), noise_var[keep], groups[keep], folds[keep]
    correction, correction_sd, _ = trend(e, d, g, f, v)
    raw = e
    e = e - correction * d
    inside = d == 0
    floor2 = max(_balanced_mean(e * e - v, g, f, inside), 0.0) if inside.any() else 0.0
    tested = float(d.max())
    h = shape(d, tested)
    beyond = ~inside
    slope2 = _slope2(e * e, v + floor2, h * h, g, f, beyond) if beyond.any() else 0.0
    if beyond.any():
        floor2, slope2 = _components(e * e, v, h * h, g, f, floor2, slope2)
    scale = np.sqrt(np.maximum(floor2 + slope2 * h * h, 1e-300))
    dof, runs, n_folds = _effective_runs(e / scale, g, f)
    return ExtrapolationError(
        slope=math.sqrt(slope2),
        dof=dof,
        tested_decades=tested,
        bias=float(np.sum(raw * d) / np.sum(d * d)) if beyond.any() else 0.0,
        runs=runs,
        points=int(e.size),
        folds=n_folds,
        floor=math.sqrt(floor2),
        correction=correction,
        correction_sd=correction_sd,
    )


def trend(errors: np.ndarray, decades: np.ndarray, runs: np.ndarray, folds: np.ndarray,
          noise_var: np.ndarray | None = None) -> tuple[float, float, str]:
    """(correction per decade, its sd, a sentence): the folds' common log error per decade, or 0 and why not.

    Each fold beyond the data gives b_k = Σ w·e·d / Σ w·d² (w: each held-out run weighs the same), whose
    variance from the points' own scatter v alone is Σ w²·v·d² / (Σ w·d²)².
    A consistent trend is itself a forecast, so it is backtested too: estimated without the folds
    that hold out one set of runs (without one fold when all hold out the same runs), it must
    shrink that set's errors (:func:`_transfers`), or it is not applied.
    """
    e, d = np.asarray(errors, dtype=float), np.maximum(np.asarray(decades, dtype=float), 0.0)
    v = np.zeros_like(e) if noise_var is None else np.nan_to_num(np.asarray(noise_var, dtype=float), nan=0.0)
    runs, folds = np.asarray(runs).astype(str), np.asarray(folds).astype(str)
    beyond = (d > 0) & np.isfinite(e)
    slopes, scatter, held = [], [], []
    for fold in dict.fromkeys(folds[beyond].tolist()):
        mine = beyond & (folds == fold)
        _, at, count = np.unique(runs[mine], return_inverse=True, return_counts=True)
        w = 1.0 / count[at]
        weight = float(np.sum(w * d[mine] ** 2))
        slopes.append(float(np.sum(w * e[mine] * d[mine]) / weight))
        scatter.append(float(np.sum(w * w * v[mine] * d[mine] ** 2)) / weight**2)
        held.append((mine, frozenset(_held_run(key, fold) for key in runs[mine].tolist())))
    b = np.array(slopes)
    if b.size < TREND_FOLDS:
        return 0.0, 0.0, (f"not corrected: {b.size} fold(s) beyond the data, a trend needs {TREND_FOLDS}")
    spread = float(np.std(b, ddof=1) / math.sqrt(b.size))
    noise = math.sqrt(sum(scatter)) / b.size
    mean, se = float(np.mean(b)), max(spread, noise)
    shown = ", ".join(f"{np.expm1(x):+.2%}" for x in b)
    if not (np.all(b > 0) or np.all(b < 0)):
        return 0.0, 0.0, f"not corrected: the folds miss in different directions ({shown} per decade)"
    if abs(mean) < TREND_T * spread:
        return 0.0, 0.0, f"not corrected: the folds agree in sign but not in size ({shown} per decade)"
    if abs(mean) < TREND_T * noise:
        return 0.0, 0.0, (f"not corrected: the folds miss the same way ({shown} per decade), but no more than the "
                          f"runs' own scatter allows (±{np.expm1(TREND_T * noise):.2%} per decade)")
    before, after = _transfers(e, d, b, held)
    if after >= before:
        return 0.0, 0.0, (f"not corrected: the folds miss the same way ({shown} per decade), but the trend "
                          f"estimated without each set of held-out runs did not shrink that set's errors "
                          f"({before:.2%} -> {after:.2%} mean |log error|)")
    mean = float(np.clip(mean, -MAX_CORRECTION, MAX_CORRECTION))
    return mean, se, (f"corrected by {np.expm1(mean):+.2%} per decade: all {b.size} folds beyond the data miss the "
                      f"same way ({shown} per decade; observed/predicted), and the trend estimated without each set "
                      f"of held-out runs shrank that set's errors ({before:.2%} -> {after:.2%} mean |log error|)")


def _transfers(e: np.ndarray, d: np.ndarray, b: np.ndarray,
               held: list[tuple[np.ndarray, frozenset[str]]]) -> tuple[float, float]:
    """(mean |log error| of each set of held-out runs, the same corrected by the mean b_k of the other sets' folds).

    ``held`` gives, per fold (in ``b``'s order), its points and the runs it holds out; folds that
    hold out the same runs (a far fold and the near fold predicting the largest level) form one
    set, left out together. When every fold holds out the same runs (cuts of the same runs'
    curves, whose rest is the forecast), each fold is a set. Each set weighs the same; within a
    set, each point (a run in a fold).
    """
    keys = [runs for _, runs in held]
    if len(set(keys)) < 2:
        keys = [frozenset({str(k)}) for k in range(len(held))]
    before, after = [], []
    for one in dict.fromkeys(keys):
        mask = np.any([points for (points, _), key in zip(held, keys) if key == one], axis=0)
        others = float(np.mean([slope for slope, key in zip(b, keys) if key != one]))
        before.append(float(np.mean(np.abs(e[mask]))))
        after.append(float(np.mean(np.abs(e[mask] - others * d[mask]))))
    return float(np.mean(before)), float(np.mean(after))


def _held_run(key: str, fold: str) -> str:
    """The held-out run a backtest point's key names (the rolling backtest keys it ``fold|run``)."""
    prefix = fold + "|"
    return key[len(prefix):] if key.startswith(prefix) else key


def _pairs(runs: np.ndarray, folds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point, the index of its (fold, held-out run) pair; per pair, the index of its fold."""
    _, first, at = np.unique(np.char.add(np.char.add(folds, "\x1f"), runs), return_index=True, return_inverse=True)
    _, fold_of_pair = np.unique(folds[first], return_inverse=True)
    return at, fold_of_pair


def _slope2(square: np.ndarray, base: np.ndarray, h2: np.ndarray, runs: np.ndarray, folds: np.ndarray,
            mask: np.ndarray) -> float:
    """s² in E[e²] = base + s²·h² from the points in ``mask``: each point's ratio (e² − base)/h² weighted by
    its precision, h⁴/(base + s²h²)² (a squared Gaussian error has variance 2·(its variance)²), on top of the
    balanced weights of :func:`_balanced_mean`; a fixed point, started from the ratio of the balanced means.

    The plain mean of ratios weighs a point held out 0.01 decades beyond the data, where the error is nearly
    all floor and scatter, as much as one a decade out: one such point's scatter became a slope of 17% per
    decade (issue 25's planner diagnosis). With no floor and no scatter the weights are equal and this is
    that mean.
    """
    sq, b, h2 = square[mask], base[mask], h2[mask]
    at, fold_of_pair = _pairs(runs[mask], folds[mask])
    per_pair = 1.0 / np.bincount(at)
    per_fold = 1.0 / np.bincount(fold_of_pair)
    balance = per_pair[at] * per_fold[fold_of_pair[at]]
    ratio = (sq - b) / h2
    slope2 = max(float(np.sum(balance * (sq - b)) / np.sum(balance * h2)), 0.0)
    for _ in range(SLOPE_ITERATIONS):
        variance = b + slope2 * h2
        if not np.all(variance > 0):
            return slope2
        weight = balance * h2 * h2 / variance**2
        updated = max(float(np.sum(weight * ratio) / np.sum(weight)), 0.0)
        if abs(updated - slope2) <= 1e-9 * max(updated, 1e-300):
            return updated
        slope2 = updated
    return slope2


def _components(square: np.ndarray, noise: np.ndarray, h2: np.ndarray, runs: np.ndarray, folds: np.ndarray,
                floor2: float, slope2: float) -> tuple[float, float]:
    """σ₀² and s² of E[e²] = σ² + σ₀² + s²·h² fitted together to every point, from the separate estimates.

    Weighted least squares of e² − σ² on (1, h²), both non-negative, each point weighted by its precision
    1/(σ² + σ₀² + s²h²)² (a squared Gaussian error has variance 2·(its variance)²) on top of the balanced
    weights, iterated to a fixed point. Fitted apart, the floor came only from points exactly inside the data
    and the slope from the rest, so a run held out 0.0003 decades beyond (inside up to rounding) with a 0.9%
    miss became a slope of 37% per unit h and a 17% interval half a decade out, where the misses were 0.1-0.6%
    (Multi-Power Law, 3 runs). When the points beyond the data all lie at one distance and none inside, the
    two are not separable and the separate estimates stand.
    """
    y = square - noise
    at, fold_of_pair = _pairs(runs, folds)
    balance = (1.0 / np.bincount(at))[at] * (1.0 / np.bincount(fold_of_pair))[fold_of_pair[at]]
    if np.ptp(h2) <= 1e-12 * max(float(h2.max()), 1e-300):
        return floor2, slope2
    for _ in range(SLOPE_ITERATIONS):
        variance = noise + floor2 + slope2 * h2
        if not np.all(variance > 0):
            break
        updated = _nonnegative_line(balance / variance**2, h2, y)
        if all(abs(u - o) <= 1e-9 * max(u, 1e-300) for u, o in zip(updated, (floor2, slope2))):
            return updated
        floor2, slope2 = updated
    return floor2, slope2


def _nonnegative_line(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) ≥ 0 minimising Σ w·(y − a − b·x)²: the unconstrained line, else the better of a = 0 or b = 0."""
    sw, sx, sy, sxx, sxy = (float(np.sum(w * t)) for t in (np.ones_like(x), x, y, x * x, x * y))
    det = sw * sxx - sx * sx
    if det > 1e-12 * sw * sxx:
        a, b = (sxx * sy - sx * sxy) / det, (sw * sxy - sx * sy) / det
        if a >= 0 and b >= 0:
            return a, b
    options = [(max(sy / sw, 0.0), 0.0), (0.0, max(sxy / sxx, 0.0) if sxx > 0 else 0.0)]
    return min(options, key=lambda ab: float(np.sum(w * (y - ab[0] - ab[1] * x) ** 2)))


def _balanced_mean(values: np.ndarray, runs: np.ndarray, folds: np.ndarray, mask: np.ndarray) -> float:
    """Mean over folds of the mean over held-out runs of the mean of ``values`` (where ``mask``)."""
    at, fold_of_pair = _pairs(runs[mask], folds[mask])
    per_pair = np.bincount(at, values[mask]) / np.bincount(at)
    return float(np.mean(np.bincount(fold_of_pair, per_pair) / np.bincount(fold_of_pair)))


def _effective_runs(z: np.ndarray, runs: np.ndarray, folds: np.ndarray) -> tuple[int, int, int]:
    """(degrees of freedom, held-out runs, folds): Kish's design effect for runs that share a fold's fit."""
    at, fold_of_pair = _pairs(runs, folds)
    run_mean = np.bincount(at, z) / np.bincount(at)
    shift = np.bincount(fold_of_pair, run_mean) / np.bincount(fold_of_pair)
    total = float(np.mean(run_mean**2))
    share = min(1.0, float(np.mean(shift[fold_of_pair] ** 2)) / total) if total > 0 else 1.0
    n_runs, n_folds = int(run_mean.size), int(shift.size)
    effective = n_runs / (1.0 + (n_runs / n_folds - 1.0) * share)
    return int(min(max(round(effective), 1), MAX_DOF)), n_runs, n_folds
