"""The compute-optimal model size of a curve law: the lowest final loss along an isoFLOP line.

A curve law of model size (chinchilla-curve) predicts a run given only its size N and its tokens D by
the recipe it learned from the fitted runs: their schedule family (warmup, final learning rate, batch
size growing with N) run to completion. So N*(C) is the N whose complete run of D = C/flops_per_token(N)
tokens ends lowest, which is what a ladder trained with one recipe measures. Each candidate run costs a
schedule of up to millions of steps, so the line is searched in two passes rather than on a fine grid: 4
points per decade over ±1 decade around 20 tokens per parameter (widened while a minimum sits on an edge),
then 50 per decade around the minima; each parameter vector's minimum is refined by the parabola through
its lowest point and that point's neighbours, in log N.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scalelaw._lazy import lazy
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws.base import Design
from scalelaw.plan.flops import FlopAccounting
from scalelaw.plan.intervals import Fitted

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

#: log10 N searched on each side of 20 tokens per parameter, the coarse and the fine steps (decades),
#: and how many decades the coarse pass may widen on one side while a minimum sits on its edge.
HALF_SPAN, COARSE_STEP, FINE_STEP, MAX_WIDEN = 1.0, 0.25, 0.02, 5.0


def curve_optimum(fitted: Fitted, thetas: np.ndarray, flops: float, accounting: FlopAccounting) -> np.ndarray:
    """(B, 4) array of N*, D*, D*/N* and L* at ``flops`` for each row of ``thetas`` (NaN where no minimum is found)."""
    centre = 0.5 * np.log10(flops / 120.0)  # C = 6·N·D at D = 20·N
    logs = np.arange(centre - HALF_SPAN, centre + HALF_SPAN + 1e-9, COARSE_STEP)
    line = _Line(fitted, thetas, flops, accounting)
    line.add(logs)
    for _ in range(int(MAX_WIDEN / COARSE_STEP)):
        low, high = line.edges()
        if not (low or high):
            break
        line.add([line.logs[0] - COARSE_STEP] if low else [line.logs[-1] + COARSE_STEP])
    best = line.argmins()
    if not np.isfinite(line.losses[np.arange(best.size), best]).any():
        raise InputError(f"law {fitted.law.name} cannot predict a run from its size and tokens alone, so it gives no "
                         "compute-optimal allocation; fit a final-loss law (--law chinchilla)")
    lo, hi = line.logs[max(best.min() - 1, 0)], line.logs[min(best.max() + 1, line.logs.size - 1)]
    line.add(np.arange(lo + FINE_STEP, hi, FINE_STEP))
    return line.optima()


#: Budgets on which L*(C) is traced for a target loss: a quarter decade apart, at most this many decades up.
BUDGET_STEP, MAX_BUDGET_DECADES = 0.25, 12.0


def curve_cheapest(fitted: Fitted, thetas: np.ndarray, loss: float, accounting: FlopAccounting,
                   start: float) -> np.ndarray:
    """(B, 3) array of the smallest C whose optimal complete run reaches ``loss``, and N*, D* there, per row.

    L*(C) is traced for every row at once on budgets a quarter decade apart, from ``start`` (e.g. the
    largest fitted run's compute) down while some row already reaches the loss there, up until every row
    reaches it (at most ``MAX_BUDGET_DECADES`` up: inf beyond); between the two budgets that bracket a
    row's crossing, log C is interpolated linearly in the loss and N* linearly in log-log.
    """
    logs = [np.log10(start)]
    curves = [curve_optimum(fitted, thetas, start, accounting)]  # (B, 4) per budget
    while (curves[0][:, 3] <= loss).any() and logs[0] > np.log10(start) - MAX_BUDGET_DECADES:
        logs.insert(0, logs[0] - BUDGET_STEP)
        curves.insert(0, curve_optimum(fitted, thetas, 10.0 ** logs[0], accounting))
    while not (curves[-1][:, 3] <= loss).all() and logs[-1] < np.log10(start) + MAX_BUDGET_DECADES:
        logs.append(logs[-1] + BUDGET_STEP)
        curves.append(curve_optimum(fitted, thetas, 10.0 ** logs[-1], accounting))
    traced, grid = np.stack(curves, axis=1), np.array(logs)  # (B, G, 4), (G,)
    out = np.full((thetas.shape[0], 3), np.nan)
    for row, curve in enumerate(traced):
        reached = np.flatnonzero(curve[:, 3] <= loss)
        if reached.size == 0:
            out[row, 0] = np.inf
            continue
        i = int(reached[0])
        if i == 0:
            continue  # reached at the lowest budget traced: below the search, no answer
        w = (curve[i - 1, 3] - loss) / (curve[i - 1, 3] - curve[i, 3])
        log_c = (1 - w) * grid[i - 1] + w * grid[i]
        log_n = (1 - w) * np.log10(curve[i - 1, 0]) + w * np.log10(curve[i, 0])
        params = 10.0**log_n
        out[row] = [10.0**log_c, params, _tokens(10.0**log_c, params, accounting)]
    return out


class _Line:
    """Final losses of complete runs along one isoFLOP line, for every parameter vector, at the log10 N added so far."""

    def __init__(self, fitted: Fitted, thetas: np.ndarray, flops: float, accounting: FlopAccounting) -> None:
        self.fitted, self.thetas, self.flops, self.accounting = fitted, thetas, flops, accounting
        self.logs = np.empty(0)
        self.losses = np.empty((thetas.shape[0], 0))

    def add(self, logs: np.ndarray | list[float]) -> None:
        """Evaluate the line at new log10 N (those already there are skipped), keeping the points sorted."""
        new = np.array([x for x in np.asarray(logs, dtype=float) if not np.isclose(self.logs, x, atol=1e-9).any()])
        if new.size == 0:
            return
        columns = [self._losses(10.0**x) for x in new]
        logs = np.concatenate([self.logs, new])
        losses = np.concatenate([self.losses, np.stack(columns, axis=1)], axis=1)
        order = np.argsort(logs)
        self.logs, self.losses = logs[order], losses[:, order]

    def _losses(self, params: float) -> np.ndarray:
        tokens = _tokens(self.flops, params, self.accounting)
        design = _final_design(self.fitted, params, tokens)
        if design is None:
            return np.full(self.thetas.shape[0], np.inf)
        with np.errstate(all="ignore"):
            loss = np.asarray(self.fitted.law.predict(self.thetas, design), dtype=float)[:, -1]
        return np.where(np.isfinite(loss), loss, np.inf)

    def argmins(self) -> np.ndarray:
        return np.argmin(self.losses, axis=1)

    def edges(self) -> tuple[bool, bool]:
        """Whether some row's minimum sits on the low or on the high end of the points so far."""
        best = self.argmins()
        return bool((best == 0).any()), bool((best == self.logs.size - 1).any())

    def optima(self) -> np.ndarray:
        """Each row's minimum, refined by the parabola through its lowest point and neighbours (NaN on an edge)."""
        out = np.full((self.thetas.shape[0], 4), np.nan)
        for row, i in enumerate(self.argmins()):
            y = self.losses[row]
            if i == 0 or i == y.size - 1 or not np.isfinite(y[i - 1 : i + 2]).all():
                continue
            x = self.logs[i - 1 : i + 2]
            a, b, c = np.polyfit(x, y[i - 1 : i + 2], 2)
            vertex = float(np.clip(-b / (2 * a), x[0], x[2])) if a > 0 else float(x[1])
            params = 10.0**vertex
            tokens = _tokens(self.flops, params, self.accounting)
            out[row] = [params, tokens, tokens / params, float(np.polyval([a, b, c], vertex))]
        return out


def _tokens(flops: float, params: float, accounting: FlopAccounting) -> float:
    """D on the isoFLOP line of ``flops`` at size ``params``: C / flops_per_token(N)."""
    return flops / float(accounting.per_token(np.array([params]))[0])


def _final_design(fitted: Fitted, params: float, tokens: float) -> Design | None:
    """The design of one complete run of ``params`` and ``tokens`` under the law's recipe (None: the law cannot
    build it there, e.g. a schedule beyond the step limit)."""
    runs = RunSet(pd.DataFrame({"run": ["isoflop"], "params": [params], "tokens": [tokens], "loss": [np.nan]}))
    try:
        return fitted.law.design(runs)
    except (InputError, ValueError):
        return None
