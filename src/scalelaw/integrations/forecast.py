"""A live forecast of a run's final loss from a fitted curve law (a FIT.json) and the run's lr schedule."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scalelaw.data.schedules import Schedule, parse_schedule
from scalelaw.errors import InputError
from scalelaw.fit import FitResult, load_fit


@dataclass(frozen=True)
class Forecast:
    """The law's loss at the current step and at the schedule's last step, each with its interval."""

    step: int
    loss: float
    lo: float
    hi: float
    final_step: int
    final_loss: float
    final_lo: float
    final_hi: float
    extrapolates: bool

    def message(self, observed: float | None = None) -> str:
        seen = "" if observed is None or not math.isfinite(observed) else f"loss {observed:.4g} "
        note = " (extrapolating beyond the fitted range)" if self.extrapolates else ""
        return (f"scalelaw forecast: step {self.step}: {seen}(law {self.loss:.4g} [{self.lo:.4g}, {self.hi:.4g}]); "
                f"final loss at step {self.final_step}: {self.final_loss:.4g} [{self.final_lo:.4g}, {self.final_hi:.4g}]{note}")


class LiveForecast:
    """Predictions of a fitted curve law for one run: ``schedule`` is its full lr schedule (a spec
    like ``cosine:peak=3e-4,warmup=500,total=20000,final=3e-5`` or a Schedule), ``params`` its size
    when the law uses it."""

    def __init__(self, fit: str | Path | FitResult, schedule: str | Schedule, *, params: float | None = None) -> None:
        self.fit = fit if isinstance(fit, FitResult) else load_fit(fit)
        if self.fit.law.kind != "curve":
            raise InputError(f"a live forecast needs a loss-curve law (multi-power, lr-annealing, ...), "
                             f"not {self.fit.law.name!r}", file=None if isinstance(fit, FitResult) else str(fit))
        self.schedule = parse_schedule(schedule) if isinstance(schedule, str) else schedule
        self.params = params
        self.final_step = int(self.schedule.total_steps)

    def at(self, step: int) -> Forecast:
        """The forecast seen from ``step`` (clipped to the schedule's steps)."""
        current = int(min(max(step, 1), self.final_step))
        steps = np.array([current, self.final_step]) if current < self.final_step else np.array([self.final_step])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            prediction = self.fit.predict(schedule=self.schedule, steps=steps, params=self.params)
        extrapolates = any("extrapolat" in str(w.message) for w in caught)
        return Forecast(current, float(prediction.loss[0]), float(prediction.lo[0]), float(prediction.hi[0]),
                        self.final_step, float(prediction.loss[-1]), float(prediction.lo[-1]), float(prediction.hi[-1]),
                        extrapolates)
