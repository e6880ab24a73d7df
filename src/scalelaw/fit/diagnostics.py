"""Checks run on every fit: convergence, bounds, degeneracy, residual structure, data size.

Each failed check adds a sentence to ``Diagnostics.warnings``; ``strict`` fits turn
them into an :class:`~scalelaw.errors.UntrustedFitError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import math

import numpy as np

from scalelaw.fit.problem import Problem

#: A pair of parameters is called degenerate above this absolute correlation.
DEGENERATE_CORRELATION = 0.9999
#: Residuals are called structured below this p-value (runs test or rank correlation).
STRUCTURE_P_VALUE = 1e-3
#: Log-residual RMSE below which a fit is exact and residual structure is not tested.
EXACT_FIT_RMSE = 1e-9
#: Fewer points than this many per free parameter draws a warning.
POINTS_PER_PARAMETER = 2


@dataclass(frozen=True)
class Diagnostics:
    """What the engine found out about one fit; ``warnings`` lists everything suspicious."""

    converged: bool
    iterations: int
    starts: int
    starts_in_best_basin: int
    objective: float
    n_points: int
    n_runs: int
    n_free: int
    on_bound: list[str]
    condition_number: float
    most_correlated: list[str]
    correlation: float
    residual_rmse: float
    residual_mean: float
    residual_max_abs: float
    runs_test_z: float
    scale_correlation: dict[str, float]
    bootstrap_converged: float | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Diagnostics:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def on_bound(problem: Problem, u: np.ndarray) -> list[str]:
    """Free parameters within a relative 1e-6 of a bound (in optimiser space)."""
    lower, upper = problem.bounds
    span = upper - lower
    near = (u - lower <= 1e-6 * span) | (upper - u <= 1e-6 * span)
    return [problem.names[i] for i, hit in zip(problem.free, near) if hit]


def degeneracy(problem: Problem, u: np.ndarray) -> tuple[float, list[str], float]:
    """Condition number of the scaled Gauss–Newton Hessian and the most correlated parameter pair."""
    _, jac = problem.residuals_jacobian(u[None, :])
    hess = jac[0].T @ jac[0]
    scale = np.sqrt(np.maximum(np.diag(hess), 1e-300))
    scaled = hess / np.outer(scale, scale)
    eig = np.linalg.eigvalsh(scaled)
    condition = float(eig[-1] / eig[0]) if eig[0] > 0 else float("inf")
    if len(scale) < 2:
        return condition, [], 0.0
    try:
        cov = np.linalg.inv(scaled)
    except np.linalg.LinAlgError:
        return condition, [], 1.0
    sd = np.sqrt(np.abs(np.diag(cov)))
    corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)  # rounding of a near-singular inverse can pass ±1
    np.fill_diagonal(corr, 0.0)
    i, j = np.unravel_index(np.argmax(np.abs(corr)), corr.shape)
    names = [problem.names[problem.free[i]], problem.names[problem.free[j]]]
    # An ill-conditioned inverse is no valid covariance (|corr| came out as 1.42): the pair is degenerate, |r| = 1.
    return condition, names, float(np.clip(corr[i, j], -1.0, 1.0))


def runs_test(residuals: np.ndarray, order_by: np.ndarray) -> float:
    """Wald–Wolfowitz z-score of the residual signs sorted by ``order_by`` (0 when undefined)."""
    signs = np.sign(residuals[np.argsort(order_by, kind="stable")])
    signs = signs[signs != 0]
    pos, neg = int(np.sum(signs > 0)), int(np.sum(signs < 0))
    n = pos + neg
    if pos == 0 or neg == 0 or n < 3:
        return 0.0
    runs = 1 + int(np.sum(signs[1:] != signs[:-1]))
    mean = 2.0 * pos * neg / n + 1.0
    var = (mean - 1.0) * (mean - 2.0) / (n - 1.0)
    return float((runs - mean) / np.sqrt(var)) if var > 0 else 0.0


def scale_correlations(residuals: np.ndarray, scales: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Spearman correlation (ties averaged) and its two-sided p-value (t approximation) per scale variable."""
    out: dict[str, tuple[float, float]] = {}
    n = residuals.size
    for name, values in scales.items():
        values = np.asarray(values, dtype=float)
        if values.shape != residuals.shape or n < 4 or np.ptp(values) == 0 or np.ptp(residuals) == 0:
            continue
        rho = float(np.clip(np.corrcoef(average_ranks(values), average_ranks(residuals))[0, 1], -1.0, 1.0))
        t = abs(rho) * np.sqrt((n - 2) / max(1.0 - rho * rho, 1e-300))
        out[name] = (rho, two_sided_t_p(t, n - 2))
    return out


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank, NaN where the value is NaN (pandas' ``rank()``)."""
    values = np.asarray(values, dtype=float)
    finite = ~np.isnan(values)
    ranks = np.full(values.size, np.nan)
    order = np.argsort(values[finite], kind="stable")
    ordered = values[finite][order]
    first = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    size = np.diff(np.concatenate([first, [ordered.size]]))
    rank = np.empty(ordered.size)
    rank[order] = np.repeat(first + (size + 1) / 2.0, size)
    ranks[finite] = rank
    return ranks


def two_sided_normal_p(z: float) -> float:
    """P(|Z| > |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def two_sided_t_p(t: float, dof: float) -> float:
    """P(|T| > |t|) for Student's t with ``dof`` degrees of freedom: I_x(dof/2, 1/2), x = dof/(dof + t²).

    Computed here (regularized incomplete beta by its continued fraction) because
    importing scipy.special costs about a fifth of the ``fit`` command's start-up.
    """
    return _incomplete_beta(0.5 * dof, 0.5, dof / (dof + t * t))


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), continued fraction (modified Lentz)."""
    if x <= 0.0 or x >= 1.0:
        return 0.0 if x <= 0.0 else 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _incomplete_beta(b, a, 1.0 - x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    value = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            value *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return front * value / a
