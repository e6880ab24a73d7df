"""Schedule optimisation: the learning-rate schedule with the lowest predicted final loss.

Given a fitted loss-curve law, search a family under the same peak lr, warmup and total
steps: ``wsd`` (decay start × decay shape, to ``final``) and ``free`` (a monotone
piecewise-linear decay with ``knots`` free values, optimised with L-BFGS-B from the
best WSD). Every candidate is scored by the law's predicted loss at the last step, and
the answer is reported beside a cosine to ``final`` with the same peak, warmup and length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from scalelaw.data.schedules import WSD_SHAPES, Cosine, Custom, Schedule, WarmupStableDecay
from scalelaw.errors import InputError
from scalelaw.laws.base import Law

FAMILIES: tuple[str, ...] = ("wsd", "free")
#: Decay fractions (of the steps after warmup) tried by the WSD search.
DECAY_FRACTIONS: tuple[float, ...] = tuple(np.round(np.arange(0.05, 1.0001, 0.05), 2))


@dataclass(frozen=True)
class ScheduleOptimum:
    """The best schedule found, its predicted final loss, and cosine's for comparison."""

    schedule: Schedule
    final_loss: float
    cosine: Schedule
    cosine_loss: float
    evaluated: int

    @property
    def gain(self) -> float:
        """Predicted final-loss improvement over the cosine (positive is better)."""
        return self.cosine_loss - self.final_loss


def final_loss(law: Law, params: Mapping[str, float], schedule: Schedule, *, size: float | None = None) -> float:
    """The law's predicted loss after the schedule's last step."""
    theta = np.array([[params[name] for name in law.param_names]])
    design = law.design_at(schedule=schedule, steps=np.array([schedule.total_steps]), params=size)
    return float(law.predict(theta, design)[0, 0])


def optimize_schedule(
    law: Law,
    params: Mapping[str, float],
    *,
    total: int,
    peak: float,
    warmup: int = 0,
    final: float | None = None,
    family: str = "wsd",
    knots: int = 8,
    size: float | None = None,
) -> ScheduleOptimum:
    """The schedule of ``family`` with the lowest predicted final loss (``final`` defaults to peak/10)."""
    if law.kind != "curve":
        raise InputError(f"schedule optimisation needs a loss-curve law; {law.name} is a {law.kind} law")
    if family not in FAMILIES:
        raise InputError(f"unknown schedule family {family!r}; choose one of {', '.join(FAMILIES)}")
    final = peak / 10.0 if final is None else float(final)
    cosine = Cosine(peak=peak, total=total, warmup=warmup, final=final)
    score = lambda s: final_loss(law, params, s, size=size)  # noqa: E731
    candidates = [
        WarmupStableDecay(peak=peak, total=total, warmup=warmup, final=final, shape=shape,
                          decay_start=min(total - 1, warmup + int(round((1 - f) * (total - warmup)))))
        for f in DECAY_FRACTIONS
        for shape in WSD_SHAPES
        if final > 0 or shape != "geometric"
    ]
    losses = [score(s) for s in candidates]
    best = int(np.nanargmin(losses))
    schedule, loss, evaluated = candidates[best], losses[best], len(candidates)
    if family == "free":
        schedule, loss, extra = _free_form(score, schedule, knots=knots, final=final)
        evaluated += extra
    return ScheduleOptimum(schedule=schedule, final_loss=loss, cosine=cosine, cosine_loss=score(cosine),
                           evaluated=evaluated)


def _free_form(score, start: WarmupStableDecay, *, knots: int, final: float) -> tuple[Schedule, float, int]:  # noqa: ANN001
    """A monotone decay through ``knots`` points after warmup (denser towards the end, where the
    decay happens), optimised from ``start``.

    The lr at knot i is peak − (peak − final)·(z_1 + … + z_i)/(z_1 + … + z_K) with z >= 0,
    so every schedule is monotone, starts at peak after warmup and ends at ``final``.
    """
    peak, warmup, total = start.peak, start.warmup, start.total
    where = warmup + (total - warmup) * (1.0 - np.geomspace(1.0, 0.01, knots + 1) + 0.01 * np.linspace(0, 1, knots + 1))
    target = (peak - start.lr(where[1:])) / (peak - final)
    z0 = np.sqrt(np.maximum(np.diff(np.concatenate([[0.0], target])), 1e-3))
    calls = 0

    def build(z: np.ndarray) -> Custom:
        share = np.cumsum(z**2) / np.sum(z**2)
        values = np.concatenate([[0.0] if warmup else [], [peak], peak - (peak - final) * share])
        steps = np.concatenate([[0] if warmup else [], np.round(where)]).astype(int)
        steps, index = np.unique(steps, return_index=True)
        return Custom(steps=tuple(int(s) for s in steps), values=tuple(float(v) for v in values[index]))

    def objective(z: np.ndarray) -> float:
        nonlocal calls
        calls += 1
        return score(build(z)) if np.sum(z**2) > 0 else np.inf

    result = minimize(objective, z0, method="L-BFGS-B", options={"maxiter": 30, "eps": 1e-3})
    best = build(result.x)
    loss = objective(result.x)
    start_loss = score(start)
    if not loss < start_loss:
        return start, start_loss, calls
    return best, loss, calls
