"""The error of a law beyond its fitted data, measured by rolling-origin backtests.

A backtest fits a law on the smaller (or shorter, or earlier) part of the data and
predicts the rest; each held-out point gives a log error e and a distance d, in decades,
beyond the fold's fitted range (the largest over the law's scale variables, as
:meth:`FitResult.predict` measures it). The model is e ~ √(σ₀² + s²·h(d)²)·T_ν:

- σ₀, the floor, is the law's error on held-out runs that lie inside the fitted range
  (d = 0: a schedule or run never fitted, at a size and length that were): the error of
  a new run that is no extrapolation at all. Zero when no held-out point had d = 0.
- h(d) = √(d·d_t) up to the farthest backtested distance d_t, and d beyond it. A fold
  held out one level up the ladder, as the target usually is; the error a refit makes there
  does not shrink linearly to nothing for shorter steps (a misspecified law drifts like a
  random walk: its variance grows with the distance), and beyond d_t the error model is
  itself an extrapolation, so it grows faster.
- σ₀² is the mean of e² − σ² over the points with d = 0, s² that of (e² − σ² − σ₀²)/h(d)²
  over the others (σ² the fold's in-sample noise, already in every interval); each fold
  weighs the same, and each held-out run within its fold.
- ν is the effective number of independent held-out runs. Runs held out in one fold share
  one fitted law, so their errors move together: with R runs in K folds and a share r of
  the squared error explained by each fold's common shift, ν = R / (1 + (R/K − 1)·r)
  (Kish's design effect), between 1 and 30. One fold of runs that all miss the same way
  counts as one observation, and its interval has the heavy tails that deserves.
- A systematic sign: when the folds beyond the data all miss in the same direction, and by
  amounts that agree, the mean log error per decade (``correction``, c) is a measured trend,
  not noise: a forecast at distance d is moved by e^(c·d), and the spread of that trend
  across folds (``correction_sd``) adds (correction_sd·d)² to the error variance. σ₀ and s
  are then measured on the corrected errors. When the folds disagree, c = 0 and ``bias``
  only reports the trend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from scalelaw.errors import InputError
from scalelaw.fit.schema import CALIBRATION_FIELDS, MAX_CORRECTION, SchemaError, record

#: A target more than this many times the farthest backtested distance is beyond what was tested.
TESTED_REACH = 2.0
#: Largest degrees of freedom kept (beyond it the t tails are normal to the eye).
MAX_DOF = 30


@dataclass(frozen=True)
class ExtrapolationError:
    """Log-loss error sd = √(floor² + (``slope`` × h(decades beyond the fitted data))²), t-distributed with ``dof``.

    ``floor`` is the error on a new run inside the fitted range (held-out runs no farther
    than the data, such as another schedule at a fitted size and length); ``tested_decades`` is the farthest distance a backtest reached, ``bias`` the mean
    signed log error per decade (observed/predicted, informative only), ``runs``,
    ``points`` and ``folds`` what the estimate rests on.
    """

    slope: float
    dof: int
    tested_decades: float
    bias: float
    runs: int
    points: int
    folds: int = 1
    floor: float = 0.0
    #: Log error per decade the forecast is corrected by (0: no consistent trend across folds).
    correction: float = 0.0
    #: Uncertainty (sd) of ``correction``, per decade.
    correction_sd: float = 0.0

    def sd(self, decades: np.ndarray) -> np.ndarray:
        """Scale of the law's error at each distance: the floor inside the fitted range, growing beyond it."""
        d = np.maximum(np.asarray(decades, dtype=float), 0.0)
        return np.sqrt(self.floor**2 + (self.slope * shape(d, self.tested_decades)) ** 2
                       + (self.correction_sd * d) ** 2)

    def shift(self, decades: np.ndarray) -> np.ndarray:
        """The correction at each distance, in log loss (observed/predicted): c·d beyond the data, 0 inside."""
        return self.correction * np.maximum(np.asarray(decades, dtype=float), 0.0)

    def untested(self, decades: float) -> bool:
        """True when ``decades`` lies well beyond the farthest backtested distance."""
        return decades > TESTED_REACH * self.tested_decades + 1e-9

    def describe(self, scatter: float | None = None) -> str:
        """One sentence for people: the error inside the data, at the tested distance, and the tails; ``scatter``
        (the fit's log-residual RMSE) is named beside it, since the interval carries both."""
        spread = f" (RMSE {scatter:.2%})" if scatter is not None and np.isfinite(scatter) else ""
        edge = float(self.sd(np.array([self.tested_decades]))[0])
        trend = (f"; forecasts corrected by {np.expm1(self.correction):+.2%} per decade beyond the data (the backtests "
                 f"all missed the same way, ±{self.correction_sd:.2%})" if self.correction else "")
        if edge == 0:
            return (f"the backtest errors were within the fit's own residual scatter{spread} ({self.runs} held-out run(s) in "
                    f"{self.folds} fold(s), up to {self.tested_decades:.2f} decades beyond the data), so the interval "
                    "adds no error of the law's own up to that distance" + trend)
        return (
            f"the law's own error, on top of the fit's residual scatter{spread} that the interval also carries (sd, "
            f"relative): {self.floor:.2%} on a new run inside the fitted range, "
            f"{edge:.2%} at {self.tested_decades:.2f} decades beyond it (the farthest backtest), growing beyond; "
            f"t tails with {self.dof} degrees of freedom ({self.runs} held-out run(s) in {self.folds} fold(s))" + trend
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, *, source: str) -> ExtrapolationError | None:
        """Rebuild from FIT.json; None when the field is null; an InputError when malformed.

        Checked by the FIT.json schema's own ``calibration`` record, the one definition of its fields.
        """
        if data is None:
            return None
        try:
            return cls(**record(CALIBRATION_FIELDS)(data, "calibration"))
        except SchemaError as exc:
            raise InputError(str(exc), file=source) from None


def shape(decades: np.ndarray, tested: float) -> np.ndarray:
    """h(d): √(d·d_t) up to the tested distance d_t, d beyond it, 0 inside the fitted range."""
    d = np.maximum(np.asarray(decades, dtype=float), 0.0)
    if not tested > 0:
        return d
    return np.where(d <= tested, np.sqrt(d * tested), d)
