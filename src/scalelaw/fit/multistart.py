"""Multi-start search: every start of the law's grid explored in one batch, the best polished.

Exploration runs Levenberg–Marquardt from all starts at a loose tolerance; the best few
distinct end points are then polished to a tight one. A start "reached the best basin"
when its explored objective is within ``BASIN_RTOL`` of the polished optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scalelaw.fit.optimize import Tolerances, minimise
from scalelaw.fit.problem import Problem

EXPLORE = Tolerances(ftol=1e-6, xtol=1e-6, max_iter=60)
POLISH = Tolerances(ftol=1e-13, xtol=1e-12, max_iter=500)
BASIN_RTOL = 1e-3


@dataclass(frozen=True)
class SearchResult:
    """The best point found, in optimiser space, with how the search went."""

    u: np.ndarray
    f: float
    converged: bool
    iterations: int
    starts: int
    starts_in_best_basin: int


def start_points(problem: Problem) -> np.ndarray:
    """The law's starting grid restricted to the free parameters, in optimiser space, deduplicated."""
    grid = problem.law.starts()[:, problem.free]
    lower, upper = problem.bounds
    u = np.clip(problem.to_u(grid), lower, upper)
    return np.unique(u, axis=0)


def search(
    problem: Problem,
    weights: np.ndarray,
    *,
    n_polish: int = 8,
    explore: Tolerances = EXPLORE,
    polish: Tolerances = POLISH,
) -> SearchResult:
    """Explore from every start, polish the ``n_polish`` best distinct end points, return the best."""
    starts = start_points(problem)
    explored = minimise(problem, starts, weights, explore)
    finite = np.flatnonzero(np.isfinite(explored.f))
    if finite.size == 0:
        return SearchResult(starts[0], float("inf"), False, 0, len(starts), 0)
    order = finite[np.argsort(explored.f[finite], kind="stable")]
    _, first = np.unique(np.round(explored.u[order], 4), axis=0, return_index=True)
    candidates = order[np.sort(first)[:n_polish]]
    polished = minimise(problem, explored.u[candidates], weights, polish)
    best = int(np.argmin(polished.f))
    f_best = float(polished.f[best])
    in_basin = int(np.sum(explored.f <= f_best + BASIN_RTOL * abs(f_best)))
    return SearchResult(
        u=polished.u[best],
        f=f_best,
        converged=bool(polished.converged[best]),
        iterations=int(explored.iterations[candidates[best]] + polished.iterations[best]),
        starts=len(starts),
        starts_in_best_basin=in_basin,
    )
