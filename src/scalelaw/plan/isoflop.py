"""Compute-optimal scaling from isoFLOP profiles (Chinchilla's approach 2).

For each FLOP budget, the loss of models of several sizes is interpolated in
(log N, log loss), its minimum gives N*(C) (and, on the same points against tokens,
D*(C)); then log N* = a·log C + b is fitted by least squares. The default
interpolation reproduces Porian et al. (2024): an Akima spline on a fine log grid, the
argmin over 1,000 noisy copies of the losses (seed noise), the median of the argmins
as the optimum, and budgets whose optimum sits on the edge of the sampled sizes
dropped. ``method="parabola"`` is Chinchilla's quadratic in log N.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.interpolate import Akima1DInterpolator

from scalelaw.errors import InputError

Method = Literal["akima", "parabola"]

#: Porian et al.'s grid density: 25 interpolation points per gap between sampled sizes.
GRID_POINTS_PER_GAP = 25


@dataclass(frozen=True)
class BudgetOptimum:
    """The loss-minimising size and token count at one FLOP budget.

    ``params_draws``/``tokens_draws`` hold the optimum under each noisy copy (NaN where
    that copy's minimum sat on the edge); ``reason`` says why a budget was not used.
    """

    flops: float
    params: float
    tokens: float
    loss: float
    n_models: int
    params_draws: np.ndarray
    tokens_draws: np.ndarray
    reason: str | None = None

    @property
    def used(self) -> bool:
        """True when the budget has an interior optimum and enters the power-law fit."""
        return self.reason is None


@dataclass(frozen=True)
class PowerLaw:
    """y = coef · C^exponent, with a bootstrap interval on the exponent."""

    exponent: float
    coef: float
    exponent_low: float
    exponent_high: float

    def __call__(self, flops: np.ndarray | float) -> np.ndarray:
        return self.coef * np.asarray(flops, dtype=float) ** self.exponent


@dataclass(frozen=True)
class IsoflopFit:
    """Approach-2 result: N*(C) and D*(C) as power laws, plus the per-budget optima."""

    params: PowerLaw
    tokens: PowerLaw
    budgets: tuple[BudgetOptimum, ...]
    method: Method
    level: float

    @property
    def used_budgets(self) -> tuple[BudgetOptimum, ...]:
        """The budgets that enter the fit."""
        return tuple(b for b in self.budgets if b.used)

    @property
    def max_flops(self) -> float:
        """The largest budget used, the edge beyond which N*(C) extrapolates."""
        return max(b.flops for b in self.used_budgets)


def isoflop_fit(
    flops: np.ndarray,
    params: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    *,
    method: Method = "akima",
    bootstrap: int = 1000,
    noise: float = 0.002,
    level: float = 0.95,
    seed: int = 0,
) -> IsoflopFit:
    """Fit N*(C) and D*(C) from isoFLOP points (one row per model per budget).

    ``noise`` is the standard deviation of the seed-to-seed loss noise added to each
    copy (Porian et al. use 0.002 on RefinedWeb, 0.01 on OpenWebText2); with
    ``bootstrap=0`` the optimum is the plain argmin of the interpolated profile.
    """
    flops, params, tokens, loss = _validated(flops, params, tokens, loss)
    rng = np.random.default_rng(seed)
    budgets = tuple(
        _budget_optimum(c, params[flops == c], tokens[flops == c], loss[flops == c], method, bootstrap, noise, rng)
        for c in np.unique(flops)
    )
    used = [b for b in budgets if b.used]
    if len(used) < 2:
        raise InputError(
            f"approach 2 needs an interior loss minimum at two or more FLOP budgets; found {len(used)} "
            f"({'; '.join(f'{b.flops:.3g}: {b.reason}' for b in budgets if not b.used)})"
        )
    return IsoflopFit(
        params=_fit_power_law(used, "params", level),
        tokens=_fit_power_law(used, "tokens", level),
        budgets=budgets,
        method=method,
        level=level,
    )


def _validated(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    names = ("flops", "params", "tokens", "loss")
    arrays = tuple(np.asarray(c, dtype=float) for c in columns)
    n = arrays[0].shape[0]
    for name, values in zip(names, arrays):
        if values.shape != (n,):
            raise InputError(f"isoFLOP column {name!r} has {values.shape[0]} values, expected {n}", column=name)
        bad = np.flatnonzero(~np.isfinite(values) | (values <= 0))
        if bad.size:
            raise InputError(
                f"isoFLOP analysis needs positive finite values, got {values[bad[0]]!r}", row=int(bad[0]) + 1, column=name
            )
    return arrays


def _budget_optimum(
    flops: float,
    params: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    method: Method,
    bootstrap: int,
    noise: float,
    rng: np.random.Generator,
) -> BudgetOptimum:
    """Best size at one budget; the best loss per size is kept when a size repeats."""
    order = np.lexsort((loss, params))
    params, tokens, loss = params[order], tokens[order], loss[order]
    first = np.r_[True, np.diff(params) > 0]
    params, tokens, loss = params[first], tokens[first], loss[first]
    if params.size < 3:
        empty = np.full(max(bootstrap, 1), np.nan)
        return BudgetOptimum(flops, np.nan, np.nan, np.nan, int(params.size), empty, empty, "fewer than 3 model sizes")
    copies = loss[:, None] + noise * rng.standard_normal((loss.size, bootstrap)) if bootstrap else loss[:, None]
    copies = np.maximum(copies, np.finfo(float).tiny)
    n_draws, best_loss = _profile_minima(params, copies, method)
    t_draws, _ = _profile_minima(tokens, copies, method)
    # Porian et al. keep a budget when at least half of the copies have an interior minimum.
    enough = min(np.isfinite(n_draws).sum(), np.isfinite(t_draws).sum()) >= max(copies.shape[1] / 2, 1)
    return BudgetOptimum(
        flops=float(flops),
        params=float(np.nanmedian(n_draws)) if enough else np.nan,
        tokens=float(np.nanmedian(t_draws)) if enough else np.nan,
        loss=best_loss,
        n_models=int(params.size),
        params_draws=n_draws,
        tokens_draws=t_draws,
        reason=None if enough else "minimum on the edge of the sampled sizes",
    )


def _profile_minima(x: np.ndarray, losses: np.ndarray, method: Method) -> tuple[np.ndarray, float]:
    """Minimiser of each column of ``losses`` (k, K) against ``x`` (k,), NaN on the edge.

    Also returns the smallest interpolated loss of the median profile.
    """
    order = np.argsort(x)
    log_x, log_l = np.log(x[order]), np.log(losses[order])
    grid = np.linspace(log_x[0], log_x[-1], (x.size - 1) * GRID_POINTS_PER_GAP)
    if method == "akima":
        profiles = Akima1DInterpolator(log_x, log_l, axis=0)(grid)  # (G, K)
    elif method == "parabola":
        coefs = np.polynomial.polynomial.polyfit(log_x, log_l, 2)  # (3, K)
        profiles = coefs[0] + coefs[1] * grid[:, None] + coefs[2] * grid[:, None] ** 2
    else:
        raise InputError(f"unknown isoFLOP method {method!r}; use 'akima' or 'parabola'")
    best = np.argmin(profiles, axis=0)
    on_edge = (best == 0) | (best == grid.size - 1)
    minimisers = np.where(on_edge, np.nan, np.exp(grid[best]))
    return minimisers, float(np.exp(np.median(profiles, axis=1).min()))


def _fit_power_law(budgets: list[BudgetOptimum], which: Literal["params", "tokens"], level: float) -> PowerLaw:
    """Least squares of log optimum on log C; interval from refits on each noisy copy."""
    log_c = np.log([b.flops for b in budgets])
    point = np.log([getattr(b, which) for b in budgets])
    slope, intercept = np.polyfit(log_c, point, 1)
    draws = np.log(np.stack([getattr(b, f"{which}_draws") for b in budgets]))  # (budgets, K)
    slopes = []
    for column in draws.T:
        keep = np.isfinite(column)
        if keep.sum() >= 2:
            slopes.append(np.polyfit(log_c[keep], column[keep], 1)[0])
    tail = (1 - level) / 2
    low, high = (np.quantile(slopes, [tail, 1 - tail]) if slopes else (np.nan, np.nan))
    return PowerLaw(float(slope), float(np.exp(intercept)), float(low), float(high))
