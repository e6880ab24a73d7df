"""Compute-optimal allocation from a fitted law (approach 3) and the cheapest compute for a target loss.

With the standard accounting C = 6·N·D, laws that define ``optimal_allocation`` (the
Chinchilla form, in closed form N*(C) = G·(C/6)^(β/(α+β))) answer directly. A curve law of model
size (chinchilla-curve) answers for runs trained to completion under its fitted recipe (see
:mod:`scalelaw.plan.curve_optimum`). With any
other FLOP accounting (last layer, attention, embedding: see :mod:`scalelaw.plan.flops`),
or for a final-loss law of N and D without a closed form, N*(C) is found numerically:
the loss along the isoFLOP line D = C/flops_per_token(N) is evaluated on a fine log grid
of N (300 points per decade) and its minimum refined by a parabola in log N. Every answer
is evaluated at the fit and at each bootstrap draw, so it comes with an interval.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scalelaw.errors import InputError
from scalelaw.plan.answers import Answer
from scalelaw.plan.curve_optimum import curve_cheapest, curve_optimum
from scalelaw.plan.extrapolation import beyond, ranges_of
from scalelaw.plan.flops import STANDARD, FlopAccounting
from scalelaw.plan.intervals import Fitted, estimates, interval_notes

#: Model sizes searched along an isoFLOP line when there is no closed form (300 per decade),
#: and the coarser grid (30 per decade) used to trace L*(C) before inverting it.
SEARCH_PARAMS = np.geomspace(1e3, 1e15, 3601)
COARSE_PARAMS = np.geomspace(1e3, 1e15, 361)
#: FLOP grid on which the optimal loss L*(C) is inverted for a target loss.
SEARCH_FLOPS = np.geomspace(1e10, 1e35, 501)
KEYS = ("params", "tokens", "tokens_per_param", "loss")


def optimal_points(
    fitted: Fitted, thetas: np.ndarray, flops: np.ndarray, accounting: FlopAccounting, grid: np.ndarray = SEARCH_PARAMS
) -> np.ndarray:
    """(B, len(flops), 4) array of N*, D*, D*/N* and L* for each parameter vector and budget."""
    law = fitted.law
    closed = accounting.is_standard and law.optimal_allocation(dict(zip(law.param_names, thetas[0])), flops[:1]) is not None
    if closed:
        out = []
        for theta in thetas:
            best = law.optimal_allocation(dict(zip(law.param_names, map(float, theta))), flops)
            out.append(np.stack([np.asarray(best[k], dtype=float) for k in KEYS], axis=-1))
        return np.array(out)
    if law.kind == "curve" and "params" in law.inputs:
        return np.stack([curve_optimum(fitted, thetas, float(c), accounting) for c in flops], axis=1)
    if law.kind != "final" or set(law.inputs) != {"params", "tokens"}:
        raise InputError(
            f"law {law.name} gives no compute-optimal allocation (it needs a law of params and tokens: a final-loss "
            "law, or a curve law of model size such as chinchilla-curve); fit one with --law chinchilla, or use "
            "`scalelaw plan isoflop` on isoFLOP data"
        )
    return np.stack([_numeric_optimum(fitted, thetas, float(c), accounting, grid) for c in flops], axis=1)


def _numeric_optimum(
    fitted: Fitted, thetas: np.ndarray, flops: float, accounting: FlopAccounting, grid: np.ndarray
) -> np.ndarray:
    """Minimum of the loss along D = C/flops_per_token(N) over the N grid, refined by a parabola."""
    tokens = flops / accounting.per_token(grid)
    with np.errstate(all="ignore"):
        loss = fitted.law.predict(thetas, fitted.law.design_at(params=grid, tokens=tokens))
    loss = np.where(np.isfinite(loss), loss, np.inf)
    i = np.clip(np.argmin(loss, axis=1), 1, grid.size - 2)
    rows = np.arange(thetas.shape[0])
    y0, y1, y2 = loss[rows, i - 1], loss[rows, i], loss[rows, i + 1]
    step = np.log(grid[1] / grid[0])
    with np.errstate(all="ignore"):
        shift = np.clip(0.5 * (y0 - y2) / (y0 - 2 * y1 + y2), -1.0, 1.0)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    params = np.exp(np.log(grid[i]) + shift * step)
    on_edge = (np.argmin(loss, axis=1) == 0) | (np.argmin(loss, axis=1) == grid.size - 1)
    params = np.where(on_edge, np.nan, params)
    safe = np.where(on_edge, 1.0, params)
    best_tokens = flops / accounting.per_token(safe)
    with np.errstate(all="ignore"):  # every draw at its own optimum: the diagonal of (draws × optima)
        best_loss = np.diagonal(fitted.law.predict(thetas, fitted.law.design_at(params=safe, tokens=best_tokens))).copy()
    best_tokens, best_loss = np.where(on_edge, np.nan, best_tokens), np.where(on_edge, np.nan, best_loss)
    return np.column_stack([params, best_tokens, best_tokens / params, best_loss])


def refuse_without_optimum(fitted: Fitted, source: str | None = None) -> None:
    """An InputError (naming the fit file ``source``) when the fitted parameters give no compute-optimal
    allocation, say for a loss that rises with scale."""
    problem = fitted.law.allocation_problem(dict(fitted.params))
    if problem:
        raise InputError(f"no compute-optimal allocation from this {fitted.law.name} fit: {problem}", file=source)


def compute_optimal(
    fitted: Fitted, *, flops: float, accounting: FlopAccounting = STANDARD, level: float = 0.95
) -> Answer:
    """N*, D*, D*/N* and the predicted loss at the compute-optimal point for ``flops``."""
    refuse_without_optimum(fitted)
    c = np.array([float(flops)])
    values = dict(zip(KEYS, estimates(fitted, lambda t: optimal_points(fitted, t, c, accounting)[:, 0, :], level=level)))
    warnings = beyond(ranges_of(fitted), flops=flops, params=values["params"].value, tokens=values["tokens"].value)
    if not np.isfinite(values["params"].value):
        warnings.append(f"the optimum lies outside the searched sizes {SEARCH_PARAMS[0]:.0e}-{SEARCH_PARAMS[-1]:.0e}")
    return Answer(values, tuple(warnings + interval_notes(fitted)))


def cheapest_compute(
    fitted: Fitted, *, loss: float, accounting: FlopAccounting = STANDARD, level: float = 0.95
) -> Answer:
    """The smallest compute C whose optimal allocation reaches ``loss``, with N*, D* there."""
    refuse_without_optimum(fitted)
    if fitted.law.kind == "curve":  # complete runs are costly: L*(C) is traced a quarter decade apart from the data
        start = _largest_fitted_compute(fitted)
        answer = lambda thetas: curve_cheapest(fitted, thetas, loss, accounting, start)  # noqa: E731
    else:
        answer = _cheapest_on_grid(fitted, loss, accounting)
    flops, params, tokens = estimates(fitted, answer, level=level)
    warnings = beyond(ranges_of(fitted), flops=flops.value, params=params.value, tokens=tokens.value)
    if not np.isfinite(flops.value):
        warnings.append(f"loss {loss} is below what any compute up to {SEARCH_FLOPS[-1]:.0e} FLOPs reaches")
    return Answer({"flops": flops, "params": params, "tokens": tokens}, tuple(warnings + interval_notes(fitted)))


def _largest_fitted_compute(fitted: Fitted) -> float:
    """The fitted runs' largest compute (6·N·D at the largest N and D when the fit records no flops), within the
    searched budgets; 1e18 when the fit records neither."""
    ranges = ranges_of(fitted)
    if "flops" in ranges:
        top = ranges["flops"][1]
    elif "params" in ranges and "tokens" in ranges:
        top = 6.0 * ranges["params"][1] * ranges["tokens"][1]
    else:
        top = 1e18
    return float(np.clip(top, SEARCH_FLOPS[0], SEARCH_FLOPS[-1]))


def _cheapest_on_grid(fitted: Fitted, loss: float, accounting: FlopAccounting) -> Callable[[np.ndarray], np.ndarray]:
    """The cheapest-compute answer (theta (B, p) -> (B, 3)) of a final-loss law, L*(C) traced on ``SEARCH_FLOPS``."""

    def answer(thetas: np.ndarray) -> np.ndarray:
        curves = optimal_points(fitted, thetas, SEARCH_FLOPS, accounting, COARSE_PARAMS)  # (B, G, 4)
        rows = []
        for theta, curve in zip(thetas, curves):
            reached = np.flatnonzero(curve[:, 3] <= loss)
            if reached.size == 0 or reached[0] == 0:
                rows.append([np.inf if reached.size == 0 else SEARCH_FLOPS[0], np.nan, np.nan])
                continue
            i = reached[0]
            w = (curve[i - 1, 3] - loss) / (curve[i - 1, 3] - curve[i, 3])
            c = float(np.exp((1 - w) * np.log(SEARCH_FLOPS[i - 1]) + w * np.log(SEARCH_FLOPS[i])))
            best = optimal_points(fitted, theta[None, :], np.array([c]), accounting)[0, 0]
            rows.append([c, best[0], best[1]])
        return np.array(rows)

    return answer
