"""The law's own error as a function of the distance from the largest fitted run to the target, for `plan next`.

A candidate run that brings the data nearer the target should earn credit for it only as far as
the law's error is seen to grow with distance. Each rolling-origin backtest fold of the fit (the
fold records its FIT.json keeps) gives the mean squared log error of its held-out runs' final
losses at its distance d in decades beyond the fold's fitted data (0 for a run held out inside
the range); less the runs' scatter σ², that is the law's own error variance there. It is fitted
by v(d) = a + b·d — variance linear in distance, the random walk of a misspecified law — by
weighted least squares (each fold weighs its held-out runs over the variance of a mean of
squared Gaussians, 2·(σ² + v)²/n), with a Gaussian prior on b: mean b₀, the prior law error's
variance per decade (:data:`~scalelaw.selection.calibration.LOSS_PRIOR`, 1% per decade), worth
:data:`~scalelaw.selection.calibration.PRIOR_RUNS` held-out run(s) at one decade (variance
2·(σ² + a + b₀)²/PRIOR_RUNS, on the data's own scale: a law that misses by 5% is not held to a
prior of 1%). Folds at one distance cannot tell b, so the prior decides it; folds at several
distances whose errors do not grow pull b to 0, and a nearer run then earns nothing for its
nearness; errors that grow give b > 0 and the credit. The intercept has a flat prior (the
inside folds and the shortest steps measure it); a and b are kept at 0 or above. Beyond the
farthest backtested distance d_t the variance grows as b·d²/d_t, the rule the calibrated
forecast itself applies there (:func:`scalelaw.fit.law_error.shape`: the error model is then
its own extrapolation), so the interval the planner expects is the one the refit will state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.selection.calibration import PRIOR_RUNS

#: Largest relative error of a held-out run read from a fold record; a larger one is not a backtest of this law.
MAX_FOLD_ERROR = 0.5


@dataclass(frozen=True)
class Drift:
    """Law error variance ``floor_var`` + ``per_decade``·d (log loss²) at d decades beyond the largest fitted run."""

    floor_var: float
    per_decade: float
    #: Posterior sd of ``per_decade`` (0 when it was not estimated from folds).
    per_decade_sd: float
    #: Folds and distinct distances the estimate rests on (0 for an assumed model).
    folds: int
    distances: int
    #: The farthest backtested distance (decades); beyond it the variance grows with d² (0: with d² throughout).
    tested: float = 0.0

    def sd(self, decades: np.ndarray) -> np.ndarray:
        """The law's error (sd of the log loss) at each distance; the floor inside the fitted range."""
        d = np.maximum(np.asarray(decades, dtype=float), 0.0)
        grown = np.where(d <= self.tested, d, d * d / self.tested) if self.tested > 0 else d * d
        return np.sqrt(self.floor_var + self.per_decade * grown)

    def describe(self) -> str:
        """One sentence: the error inside the data, at one decade, and what it rests on."""
        source = (f"from {self.folds} backtest fold(s) at {self.distances} distance(s)" if self.folds
                  else "assumed, no backtest folds")
        return (f"the law's own error {math.sqrt(self.floor_var):.2%} inside the fitted range, "
                f"{float(self.sd(np.array([1.0]))[0]):.2%} at one decade beyond it ({source}; tested to "
                f"{self.tested:.2f} decades)")

    def to_dict(self) -> dict[str, Any]:
        return {"floor_sd": math.sqrt(self.floor_var), "variance_per_decade": self.per_decade,
                "variance_per_decade_sd": self.per_decade_sd, "folds": self.folds, "distances": self.distances,
                "tested_decades": self.tested}


def from_error(error: ExtrapolationError) -> Drift:
    """The drift of an error model without its folds: the same variance at the tested distance (at one decade if
    none was tested), growing the same way beyond it."""
    reach = error.tested_decades if error.tested_decades > 0 else 1.0
    at_reach = float(error.sd(np.array([reach]))[0]) ** 2
    return Drift(error.floor**2, max(at_reach - error.floor**2, 0.0) / reach, 0.0, 0, 0, error.tested_decades)


def fold_points(selection: Any) -> list[tuple[float, list[float]]]:
    """(distance in decades, held-out runs' log errors) per backtest fold of the chosen law in a fit's
    ``selection`` record; malformed or missing records give no points (a FIT.json is untrusted).

    The distance is the fold's own (the farthest held-out point beyond its fitted data, over every scale
    input), also for a run held out "inside" the others' range of one axis that lies beyond them in another."""
    if not isinstance(selection, dict) or not isinstance(selection.get("candidates"), list):
        return []
    chosen = selection.get("chosen")
    record = next((c for c in selection["candidates"] if isinstance(c, dict) and c.get("label") == chosen), None)
    folds = record.get("folds") if isinstance(record, dict) else None
    points = []
    for fold in folds if isinstance(folds, list) else []:
        if not isinstance(fold, dict):
            continue
        distance, errors = _finite(fold.get("decades")), fold.get("final_errors")
        if distance is None or distance < 0 or not isinstance(errors, list):
            continue
        values = [_finite(e) for e in errors]
        kept = [-math.log1p(v) for v in values if v is not None and abs(v) < MAX_FOLD_ERROR]
        if kept:  # final_errors are predicted/observed - 1; the log error is observed/predicted
            points.append((distance, kept))
    return points


def estimate(points: Sequence[tuple[float, Sequence[float]]], noise: float, prior: ExtrapolationError) -> Drift:
    """Fit a + b·d to the folds' squared errors less σ² = ``noise``², with ``prior``'s slope as b's prior."""
    b0 = from_error(prior).per_decade
    if not points:
        return Drift(prior.floor**2, b0, b0, 0, 0, prior.tested_decades)
    d = np.array([p[0] for p in points], dtype=float)
    n = np.array([len(p[1]) for p in points], dtype=float)
    m = np.array([float(np.mean(np.square(p[1]))) for p in points]) - noise**2
    level = max(float(np.average(m, weights=n)), 0.0)
    a, b, b_sd = level, b0, b0
    for _ in range(3):  # the weights depend on the fitted variance: iterate a few times from the pooled level
        w = n / (2.0 * (noise**2 + np.maximum(a + b * d, 0.0)) ** 2)
        prior_weight = PRIOR_RUNS / (2.0 * (noise**2 + a + b0) ** 2) if b0 > 0 else 0.0
        design = np.stack([np.ones_like(d), d], axis=1)
        precision = design.T @ (w[:, None] * design) + np.diag([0.0, prior_weight])
        rhs = design.T @ (w * m) + np.array([0.0, prior_weight * b0])
        try:
            a, b = np.linalg.solve(precision, rhs)
            b_sd = math.sqrt(float(np.linalg.inv(precision)[1, 1]))
        except np.linalg.LinAlgError:  # one distance and no prior: the slope is not identified
            a, b, b_sd = level, 0.0, 0.0
        if b < 0:  # the variance cannot fall with distance: refit the floor alone with b at 0
            b = 0.0
            a = float(np.sum(w * m) / np.sum(w))
        a = max(float(a), 0.0)
    return Drift(a, float(b), b_sd, len(points), len(set(np.round(d, 3).tolist())), float(d.max()))


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None
