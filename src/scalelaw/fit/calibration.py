"""The error of a law beyond its fitted data, measured by rolling-origin backtests.

A backtest fits a law on the smaller (or shorter, or earlier) part of the data and
predicts the rest; each held-out point gives a log error e and a distance d, in decades,
beyond the fold's fitted range (the largest over the law's scale variables, as
:meth:`FitResult.predict` measures it). The model is e ~ s·d·T_ν: the law's own error
grows linearly with the decades extrapolated, with Student-t tails whose degrees of
freedom ν are the independent held-out runs behind s (few runs, wide tails); beyond the
farthest backtested distance the scale grows quadratically (the linear model is then an
extrapolation itself). s is the
regression estimate Σw(e² − σ²)d² / Σw d⁴ (σ² the fold's in-sample noise, already in
every interval), each held-out run weighing the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from scalelaw.errors import InputError

#: A target more than this many times the farthest backtested distance is beyond what was tested.
TESTED_REACH = 2.0
#: Largest degrees of freedom kept (beyond it the t tails are normal to the eye).
MAX_DOF = 30


@dataclass(frozen=True)
class ExtrapolationError:
    """Log-loss error sd = ``slope`` × decades beyond the fitted data, t-distributed with ``dof``.

    ``tested_decades`` is the farthest distance a backtest reached, ``bias`` the mean
    signed log error per decade (observed/predicted, informative only), ``runs`` and
    ``points`` what the estimate rests on.
    """

    slope: float
    dof: int
    tested_decades: float
    bias: float
    runs: int
    points: int

    def sd(self, decades: np.ndarray) -> np.ndarray:
        """Scale of the extrapolation error at each distance (0 inside the fitted range).

        Linear up to the farthest backtested distance; beyond it the linear model is itself
        an extrapolation, so the scale grows by the ratio to that distance (quadratically).
        """
        d = np.maximum(np.asarray(decades, dtype=float), 0.0)
        stretch = np.maximum(1.0, d / self.tested_decades) if self.tested_decades > 0 else 1.0
        return self.slope * d * stretch

    def untested(self, decades: float) -> bool:
        """True when ``decades`` lies well beyond the farthest backtested distance."""
        return decades > TESTED_REACH * self.tested_decades + 1e-9

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, *, source: str) -> ExtrapolationError | None:
        """Rebuild from FIT.json; None when the field is null; an InputError when malformed."""
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise InputError("field 'calibration' must be an object or null", file=source)
        values = {}
        for name in ("slope", "tested_decades", "bias"):
            value = data.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(f"calibration {name!r} must be a finite number, got {value!r}", file=source)
            values[name] = float(value)
        for name in ("dof", "runs", "points"):
            value = data.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"calibration {name!r} must be a whole number >= 0, got {value!r}", file=source)
            values[name] = value
        if values["slope"] < 0 or values["tested_decades"] < 0 or values["dof"] < 1:
            raise InputError("calibration needs slope >= 0, tested_decades >= 0 and dof >= 1", file=source)
        return cls(**values)


def estimate(errors: np.ndarray, decades: np.ndarray, groups: np.ndarray, noise_var: np.ndarray) -> ExtrapolationError | None:
    """Fit the error model to backtest points: log errors, distances, held-out run keys, noise variances.

    None when no held-out point lies beyond its fold's fitted range.
    """
    errors, decades, noise_var = (np.asarray(a, dtype=float) for a in (errors, decades, noise_var))
    groups = np.asarray(groups).astype(str)
    keep = np.isfinite(errors) & np.isfinite(decades) & (decades > 0)
    if not keep.any():
        return None
    e, d, v, g = errors[keep], decades[keep], noise_var[keep], groups[keep]
    _, index, counts = np.unique(g, return_inverse=True, return_counts=True)
    w = 1.0 / counts[index]
    slope2 = float(np.sum(w * (e * e - v) * d * d) / np.sum(w * d**4))
    bias = float(np.sum(w * e * d) / np.sum(w * d * d))
    runs = int(counts.size)
    return ExtrapolationError(
        slope=math.sqrt(max(slope2, 0.0)),
        dof=int(min(max(runs, 1), MAX_DOF)),
        tested_decades=float(d.max()),
        bias=bias,
        runs=runs,
        points=int(e.size),
    )
