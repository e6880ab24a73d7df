"""Simulated ladders: draw the small runs' losses from a stated noise model, refit, predict the target.

The planner's expected interval for a ladder design is measured, not assumed: the losses
of the design's runs are drawn around a prior law (each run off the law by its own
scatter), the law is refitted to every draw at once (a batched Levenberg–Marquardt in the
law's optimiser space, started at the prior, under the same weak prior the linearised
search uses), the target is predicted, and the law's own error at the target's distance
beyond the largest run is drawn in. The spread of the forecast errors is the interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.laws.base import Design, Law

#: Prior sd, in the optimiser's units, of a parameter fitted in log space (a factor e) and of one fitted as is.
PRIOR_SD_LOG = 1.0
PRIOR_SD_LINEAR = 0.5
#: Levenberg–Marquardt iterations per batched refit.
ITERATIONS = 40


@dataclass(frozen=True)
class NoiseModel:
    """What the planner assumes about the data: ``run_noise`` is the relative sd of a run's final loss around
    the law (seed noise plus the law's misfit at sizes it was fitted to); ``law_error`` is the law's own error
    beyond the largest run, growing with the distance in decades (None: no such error)."""

    run_noise: float
    law_error: ExtrapolationError | None

    def law_sd(self, decades: np.ndarray | float) -> np.ndarray:
        """Relative sd of the law's own error at each distance beyond the fitted runs."""
        decades = np.atleast_1d(np.asarray(decades, dtype=float))
        return np.zeros_like(decades) if self.law_error is None else self.law_error.sd(decades)

    def describe(self) -> str:
        """One sentence for the output."""
        law = "no error of the law's own" if self.law_error is None else self.law_error.describe()
        return f"each run off the law by {self.run_noise:.2%} (sd, relative); {law}"


def to_free(law: Law, theta: np.ndarray) -> np.ndarray:
    """Parameters (B, p) in the optimiser's space: log for the law's log parameters."""
    logs = np.array([p.log for p in law.params])
    return np.where(logs, np.log(np.maximum(theta, 1e-300)), theta)


def from_free(law: Law, u: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_free`, clipped to each parameter's bounds."""
    logs = np.array([p.log for p in law.params])
    lower = np.array([p.lower for p in law.params])
    upper = np.array([p.upper for p in law.params])
    with np.errstate(over="ignore"):
        theta = np.where(logs, np.exp(np.clip(u, -700, 700)), u)
    return np.clip(theta, lower, upper)


def prior_precision(law: Law) -> np.ndarray:
    """Diagonal precision (p,) of the weak Gaussian prior around the prior law, in the optimiser's space."""
    return np.array([1 / PRIOR_SD_LOG**2 if p.log else 1 / PRIOR_SD_LINEAR**2 for p in law.params])


def log_predict(law: Law, u: np.ndarray, design: Design) -> np.ndarray:
    """Log loss (B, n) at optimiser-space parameters ``u`` (B, p)."""
    with np.errstate(all="ignore"):
        return np.log(law.predict(from_free(law, u), design))


def log_jacobian(law: Law, u: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Log loss (B, n) and its derivative (B, n, p) in the optimiser's space, by central differences."""
    base = log_predict(law, u, design)
    step = 1e-5 * (1.0 + np.abs(u))
    columns = []
    for j in range(u.shape[1]):
        up, down = u.copy(), u.copy()
        up[:, j] += step[:, j]
        down[:, j] -= step[:, j]
        columns.append((log_predict(law, up, design) - log_predict(law, down, design)) / (2 * step[:, j : j + 1]))
    return base, np.stack(columns, axis=-1)


def refit(law: Law, design: Design, observed: np.ndarray, start: np.ndarray, noise: float) -> np.ndarray:
    """MAP parameters (B, p), optimiser space, of each row of ``observed`` log losses (B, n): least squares
    weighted by 1/noise² plus the weak prior centred at ``start`` (p,)."""
    batch = observed.shape[0]
    precision = prior_precision(law)
    u = np.tile(start, (batch, 1))
    damping = np.full(batch, 1e-3)

    def objective(values: np.ndarray) -> np.ndarray:
        residual = log_predict(law, values, design) - observed
        cost = np.sum(residual**2, axis=1) / noise**2 + np.sum(precision * (values - start) ** 2, axis=1)
        return np.where(np.isfinite(cost), cost, np.inf)

    current = objective(u)
    for _ in range(ITERATIONS):
        predicted, jac = log_jacobian(law, u, design)
        residual = predicted - observed
        gradient = np.einsum("bnp,bn->bp", jac, residual) / noise**2 + precision * (u - start)
        hessian = np.einsum("bnp,bnq->bpq", jac, jac) / noise**2 + np.diag(precision)
        scaled = hessian + damping[:, None, None] * np.eye(u.shape[1]) * np.diagonal(hessian, axis1=1, axis2=2)[:, :, None]
        step = np.linalg.solve(scaled, -gradient[:, :, None])[:, :, 0]
        trial = u + step
        cost = objective(trial)
        better = cost < current
        u = np.where(better[:, None], trial, u)
        current = np.where(better, cost, current)
        damping = np.where(better, damping / 3, damping * 4)
    return u


def forecast_errors(
    law: Law, truth: np.ndarray, runs: Design, target: Design, decades: float, noise: NoiseModel, *, draws: int,
    seed: int,
) -> np.ndarray:
    """Relative errors (draws,) of the target forecast, log(forecast / observed target), over simulated ladders.

    ``truth`` (p,) are the prior law's parameters; ``decades`` the target's distance beyond the design's runs.
    """
    rng = np.random.default_rng(seed)
    # The target's own draws come first, so designs compared under one seed share them (common random numbers).
    target_noise = noise.run_noise * rng.standard_normal(draws)
    dof = noise.law_error.dof if noise.law_error is not None else 30
    drift = float(noise.law_sd(decades)[0]) * rng.standard_t(dof, size=draws)
    start = to_free(law, truth[None, :])[0]
    clean = log_predict(law, start[None, :], runs)[0]
    observed = clean[None, :] + noise.run_noise * rng.standard_normal((draws, clean.size))
    fitted = refit(law, runs, observed, start, noise.run_noise)
    truth_at_target = log_predict(law, start[None, :], target)[0, 0]
    forecast = log_predict(law, fitted, target)[:, 0]
    errors = forecast - (truth_at_target + target_noise + drift)
    return errors[np.isfinite(errors)]


def interval(errors: np.ndarray, level: float) -> tuple[float, float]:
    """Relative (low, high) bounds of the observed target around the forecast: quantiles of ``-errors``."""
    if errors.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    low, high = np.quantile(-errors, [tail, 1 - tail])
    return float(np.expm1(low)), float(np.expm1(high))
