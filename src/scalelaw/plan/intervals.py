"""Point estimates with intervals from bootstrap parameter draws, shared by every planning answer.

A fitted law enters the planning code as anything with ``law``, ``params`` (name ->
value) and ``bootstrap_params`` (K × p draws, or None): the engine's ``FitResult`` and
the step-by-step :class:`~scalelaw.plan.unraveling.StepwiseFit` both qualify. An answer
is computed once at the point estimate and once per draw; the interval is the
percentile interval of the draws (NaN bounds when there are no draws).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from scalelaw.laws.base import Law


class Fitted(Protocol):
    """What planning needs from a fit: the law, its parameters and bootstrap draws."""

    @property
    def law(self) -> Law: ...

    @property
    def params(self) -> Mapping[str, float]: ...

    @property
    def bootstrap_params(self) -> np.ndarray | None: ...


@dataclass(frozen=True)
class Estimate:
    """A value with a percentile interval from bootstrap draws (NaN bounds when there are none)."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        """``{"value", "low", "high"}`` for JSON output."""
        return {"value": self.value, "low": self.low, "high": self.high}


def theta_of(fitted: Fitted) -> np.ndarray:
    """The point estimate as a (1, p) parameter batch in the law's order."""
    return np.array([[float(fitted.params[name]) for name in fitted.law.param_names]])


def draws_of(fitted: Fitted) -> np.ndarray:
    """The bootstrap draws as a (K, p) batch; (0, p) when the fit has none."""
    draws = fitted.bootstrap_params
    p = len(fitted.law.param_names)
    if draws is None:
        return np.empty((0, p))
    draws = np.asarray(draws, dtype=float)
    return draws[np.isfinite(draws).all(axis=1)]


def estimates(
    fitted: Fitted, answer: Callable[[np.ndarray], np.ndarray], *, level: float = 0.95
) -> list[Estimate]:
    """Evaluate ``answer`` (theta (B, p) -> values (B, m)) at the fit and its draws."""
    point = np.asarray(answer(theta_of(fitted)), dtype=float)[0]
    draws = draws_of(fitted)
    if draws.shape[0] == 0:
        return [Estimate(float(v), float("nan"), float("nan")) for v in point]
    values = np.asarray(answer(draws), dtype=float)
    tail = 100 * (1 - level) / 2
    with np.errstate(invalid="ignore"):
        low, high = np.nanpercentile(values, [tail, 100 - tail], axis=0)
    return [Estimate(float(v), float(lo), float(hi)) for v, lo, hi in zip(point, low, high)]


def interval_notes(fitted: Fitted) -> list[str]:
    """A note when the fit carries no bootstrap draws, so the answers have no intervals."""
    if draws_of(fitted).shape[0] == 0:
        return ["the fit has no bootstrap draws, so there are no intervals (refit with --bootstrap K)"]
    return []
