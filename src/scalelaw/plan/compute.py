"""Compute-optimal allocation from a fitted law (approach 3) and the cheapest compute for a target loss.

For laws that define ``optimal_allocation`` (the Chinchilla form has it in closed form,
N*(C) = G·(C/6)^(β/(α+β))), the answer is evaluated at the fit and at every bootstrap
draw, so N*, D* and the loss at the optimum come with intervals. The cheapest compute
that reaches a target loss inverts the optimal loss L*(C), which falls with C.
"""

from __future__ import annotations

import numpy as np

from scalelaw.errors import InputError
from scalelaw.plan.answers import Answer
from scalelaw.plan.extrapolation import beyond, ranges_of
from scalelaw.plan.intervals import Fitted, estimates, interval_notes

#: FLOP range searched for the cheapest compute reaching a target loss, and its resolution.
SEARCH_FLOPS = np.geomspace(1e10, 1e35, 2501)
KEYS = ("params", "tokens", "tokens_per_param", "loss")


def _allocation(fitted: Fitted, theta: np.ndarray, flops: np.ndarray) -> dict[str, np.ndarray]:
    best = fitted.law.optimal_allocation(dict(zip(fitted.law.param_names, map(float, theta))), flops)
    if best is None:
        raise InputError(
            f"law {fitted.law.name} defines no compute-optimal allocation; fit a law of N and D "
            "(e.g. chinchilla), or use `scalelaw plan isoflop` on isoFLOP data"
        )
    return best


def compute_optimal(fitted: Fitted, *, flops: float, level: float = 0.95) -> Answer:
    """N*, D*, D*/N* and the predicted loss at the compute-optimal point for ``flops``."""
    c = np.array([float(flops)])

    def answer(thetas: np.ndarray) -> np.ndarray:
        return np.array([[float(_allocation(fitted, t, c)[k][0]) for k in KEYS] for t in thetas])

    values = dict(zip(KEYS, estimates(fitted, answer, level=level)))
    warnings = beyond(ranges_of(fitted), flops=flops, params=values["params"].value, tokens=values["tokens"].value)
    return Answer(values, tuple(warnings + interval_notes(fitted)))


def cheapest_compute(fitted: Fitted, *, loss: float, level: float = 0.95) -> Answer:
    """The smallest compute C whose optimal allocation reaches ``loss``, with N*, D* there."""

    def answer(thetas: np.ndarray) -> np.ndarray:
        rows = []
        for theta in thetas:
            curve = _allocation(fitted, theta, SEARCH_FLOPS)["loss"]
            reached = np.flatnonzero(curve <= loss)
            if reached.size == 0 or reached[0] == 0:
                rows.append([np.inf if reached.size == 0 else SEARCH_FLOPS[0], np.nan, np.nan])
                continue
            i = reached[0]
            w = (curve[i - 1] - loss) / (curve[i - 1] - curve[i])
            c = float(np.exp((1 - w) * np.log(SEARCH_FLOPS[i - 1]) + w * np.log(SEARCH_FLOPS[i])))
            best = _allocation(fitted, theta, np.array([c]))
            rows.append([c, float(best["params"][0]), float(best["tokens"][0])])
        return np.array(rows)

    flops, params, tokens = estimates(fitted, answer, level=level)
    warnings = beyond(ranges_of(fitted), flops=flops.value, params=params.value, tokens=tokens.value)
    if not np.isfinite(flops.value):
        warnings.append(f"loss {loss} is below what any compute up to {SEARCH_FLOPS[-1]:.0e} FLOPs reaches")
    return Answer({"flops": flops, "params": params, "tokens": tokens}, tuple(warnings + interval_notes(fitted)))
