"""The Unraveling answers for a fitted kaplan-steps law, each with a bootstrap interval.

1. the minimum possible loss of a model of N parameters, L(N);
2. the minimum steps S_min and tokens E_min to reach a target loss with N parameters;
3. the critical batch size B_crit(L), and the steps-versus-tokens trade-off around it
   (S = S_min·(1 + B_crit/B), E = E_min·(1 + B/B_crit));
4. the loss trajectory L(N, S, B) of a model of N parameters at batch size B.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scalelaw.errors import InputError
from scalelaw.laws import kaplan_steps as ks
from scalelaw.plan.extrapolation import beyond, ranges_of
from scalelaw.plan.intervals import Estimate, Fitted, estimates, interval_notes


@dataclass(frozen=True)
class Answer:
    """Named estimates with intervals, plus warnings (extrapolation, unreachable targets)."""

    values: dict[str, Estimate]
    warnings: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        """JSON form: each value with its interval, and the warnings."""
        return {"values": {k: v.as_dict() for k, v in self.values.items()}, "warnings": list(self.warnings)}


def _require_kaplan(fitted: Fitted) -> None:
    if fitted.law.name != "kaplan-steps":
        raise InputError(f"this question needs a kaplan-steps fit, got a {fitted.law.name} fit")


def minimum_loss(fitted: Fitted, *, params: float, level: float = 0.95) -> Answer:
    """Answer 1: the converged loss L(N) = (N_c/N)^α_N."""
    _require_kaplan(fitted)
    (loss,) = estimates(fitted, lambda t: ks.converged_loss(t, np.array([params])), level=level)
    return Answer({"min_loss": loss}, tuple(beyond(ranges_of(fitted), params=params) + interval_notes(fitted)))


def smallest_model(fitted: Fitted, *, loss: float, level: float = 0.95) -> Answer:
    """The fewest parameters that can reach ``loss`` at all: L(N) = loss gives N = N_c/loss^(1/α_N)."""
    _require_kaplan(fitted)
    (params,) = estimates(fitted, lambda t: t[:, 1:2] / loss ** (1.0 / t[:, 0:1]), level=level)
    return Answer({"min_params": params}, tuple(beyond(ranges_of(fitted), params=params.value) + interval_notes(fitted)))


def minimum_steps_and_tokens(fitted: Fitted, *, params: float, loss: float, level: float = 0.95) -> Answer:
    """Answer 2: S_min and E_min to reach ``loss`` with ``params`` parameters (infinite if below L(N))."""
    _require_kaplan(fitted)
    n, target = np.array([params]), np.array([loss])
    s_min, e_min = estimates(
        fitted, lambda t: np.hstack([ks.min_steps(t, n, target), ks.min_tokens(t, n, target)]), level=level
    )
    warnings = beyond(ranges_of(fitted), params=params, steps=s_min.value, tokens=e_min.value)
    if not np.isfinite(s_min.value):
        warnings.append(f"loss {loss} is below the converged loss of a {params:.3g}-parameter model: unreachable")
    return Answer({"S_min": s_min, "E_min": e_min}, tuple(warnings + interval_notes(fitted)))


def critical_batch_size(fitted: Fitted, *, loss: float, level: float = 0.95) -> Answer:
    """Answer 3a: B_crit(L) = B*/L^(1/α_B), in tokens per step."""
    _require_kaplan(fitted)
    (b_crit,) = estimates(fitted, lambda t: ks.critical_batch(t, np.array([loss])), level=level)
    return Answer({"B_crit": b_crit}, tuple(interval_notes(fitted)))


def batch_tradeoff(
    fitted: Fitted, *, params: float, loss: float, batches: np.ndarray, level: float = 0.95
) -> list[dict[str, object]]:
    """Answer 3b: steps and tokens to reach ``loss`` at each batch size, with intervals."""
    _require_kaplan(fitted)
    n, target = np.array([params]), np.array([loss])
    batches = np.asarray(batches, dtype=float)

    def table(theta: np.ndarray) -> np.ndarray:
        s_min, b_crit = ks.min_steps(theta, n, target), ks.critical_batch(theta, target)
        return np.hstack([s_min * (1 + b_crit / batches), s_min * (batches + b_crit)])  # steps | tokens

    values = estimates(fitted, table, level=level)
    k = batches.size
    return [{"batch_size": float(b), "steps": values[i], "tokens": values[k + i]} for i, b in enumerate(batches)]


def relative_tradeoff(ratios: np.ndarray) -> list[dict[str, float]]:
    """S/S_min = 1 + B_crit/B and E/E_min = 1 + B/B_crit at batch sizes B = ratio·B_crit (law-free)."""
    return [{"B/B_crit": float(r), "S/S_min": 1.0 + 1.0 / float(r), "E/E_min": 1.0 + float(r)} for r in ratios]


def trajectory(
    fitted: Fitted, *, params: float, batch_size: float, steps: np.ndarray, level: float = 0.95
) -> tuple[list[Estimate], tuple[str, ...]]:
    """Answer 4: the loss after each of ``steps`` for a model of ``params`` at ``batch_size``."""
    _require_kaplan(fitted)
    steps = np.asarray(steps, dtype=float)
    n, b = np.full(steps.size, float(params)), np.full(steps.size, float(batch_size))
    values = estimates(fitted, lambda t: ks.solve_loss(t, n, steps, b), level=level)
    warnings = beyond(ranges_of(fitted), params=params, steps=float(steps.max()), tokens=float(steps.max() * batch_size))
    return values, tuple(warnings + interval_notes(fitted))
