"""Multi-start search: every start of the law's grid explored in one batch, the best polished.

Exploration runs Levenberg–Marquardt from all starts at a loose tolerance and a fixed
iteration budget, on at most ``EXPLORE_POINTS`` points spread over the range of the
observed loss (the cost is starts × points × iterations); the best few distinct end
points, ranked on all the data, are then polished on all the data to a tight
tolerance. A start "reached the best basin" when its explored objective is within
``BASIN_RTOL`` (relative) or ``BASIN_ATOL`` (absolute, for exact data) of the best
explored objective.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from scalelaw.errors import InputError
from scalelaw.fit import projection
from scalelaw.fit.optimize import BatchResult, Tolerances, batch_rows, minimise, objective_value
from scalelaw.fit.parallel import minimise_parallel
from scalelaw.fit.problem import Problem
from scalelaw.laws.base import Design

EXPLORE = Tolerances(ftol=1e-6, xtol=1e-6, max_iter=30)
POLISH = Tolerances(ftol=1e-13, xtol=1e-12, max_iter=500)
EXPLORE_POINTS = 64
#: Points the variable-projection grid is solved and ranked on (all of them are used to polish).
PROJECT_POINTS = 256
BASIN_RTOL = 1e-3
#: Absolute slack of the basin test: the objective of uniform 1e-5 log residuals.
BASIN_ATOL = 0.5e-10


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
    return np.unique(problem.start_grid, axis=0)


def explore_subset(problem: Problem, weights: np.ndarray, size: int) -> tuple[Problem, np.ndarray]:
    """The problem restricted to ``size`` points evenly spread over the sorted observed loss.

    Designs whose inputs are not plain per-point arrays (some curve laws) are kept whole.
    """
    design = problem.design
    arrays = all(isinstance(v, np.ndarray) and v.shape == (design.n,) for v in design.inputs.values())
    if design.n <= size or not arrays or design.extra:
        return problem, weights
    used = np.flatnonzero(weights > 0)
    order = used[np.argsort(design.loss[used], kind="stable")]
    pick = np.sort(order[np.unique(np.linspace(0, order.size - 1, size).round().astype(int))])
    subset = Design(
        inputs={k: v[pick] for k, v in design.inputs.items()}, loss=design.loss[pick], run=design.run[pick],
        anchor=None if design.anchor is None else design.anchor[pick],
    )
    return problem.with_design(subset), weights[pick]


def search(problem: Problem, weights: np.ndarray, *, method: str = "auto", n_polish: int = 8) -> SearchResult:
    """The best fit: by variable projection when the law has a linear part (``auto``), else the grid.

    ``method`` is ``auto``, ``projection`` (an error for a law without a linear part) or
    ``grid`` (Epoch AI's multi-start over every start of the law's grid).
    """
    linear = projection.linear_indices(problem) if method in ("auto", "projection") else None
    if linear is None and method == "projection":
        raise ValueError(f"law {problem.law.name} has no free linear parameters to project out")
    if linear is None:
        return search_grid(problem, weights, n_polish=n_polish)
    return search_projected(problem, weights, linear, n_polish=n_polish)


def search_projected(
    problem: Problem, weights: np.ndarray, linear: np.ndarray, *, n_polish: int = 8, polish: Tolerances = POLISH
) -> SearchResult:
    """Variable projection over the nonlinear parameters, then polish the best ``n_polish`` grid points.

    The grid is solved and ranked, and its best points polished for a few iterations, on at
    most ``PROJECT_POINTS`` points spread over the observed loss (as the grid search
    explores); the best of them are polished to the tolerance on all points.
    ``starts`` counts the polished points and ``starts_in_best_basin`` those that end
    within the basin tolerance of the best.
    """
    small, small_weights = explore_subset(problem, weights, PROJECT_POINTS)
    u, f = projection.project_grid(small, linear, small_weights)
    if not np.isfinite(f).any():
        return SearchResult(u[0], float("inf"), False, 0, 0, 0)
    polished, f_polished, converged, iterations, _ = projection.polish_best(
        problem, u, f, weights, n_polish, polish, short=(small, small_weights))
    return _best_of(polished, f_polished, converged, iterations)


def search_projected_masks(
    problem: Problem, masks: np.ndarray, linear: np.ndarray, *, n_polish: int = 8, polish: Tolerances = POLISH
) -> list[SearchResult]:
    """:func:`search_projected` on the points of each row of ``masks`` (F, n), as one batch.

    Each subset's grid is solved and ranked on its own points, and the best ``n_polish`` distinct
    points of every subset are polished in one optimiser batch, each row weighing only its subset's
    points: the arithmetic of F single searches, with one optimiser loop instead of F. For at most
    ``PROJECT_POINTS`` points (the single search then ranks and polishes on all of them too).
    """
    if problem.design.n > PROJECT_POINTS:
        raise ValueError(f"a batch of searches takes at most {PROJECT_POINTS} points, got {problem.design.n}")
    weights = masks.astype(float)
    parts = projection.grid_parts(problem, linear)  # the same points for every subset: built once
    grids = [projection.project_grid(problem, linear, w, parts) for w in weights]
    u, f = np.concatenate([g[0] for g in grids]), np.concatenate([g[1] for g in grids])
    group = np.repeat(np.arange(len(grids)), [g[1].size for g in grids])
    out = [SearchResult(grids[g][0][0], float("inf"), False, 0, 0, 0) for g in range(len(grids))]
    searchable = np.isin(group, [g for g in range(len(grids)) if np.isfinite(grids[g][1]).any()])
    if searchable.any():
        polished, f_polished, converged, iterations, of = projection.polish_best(
            problem, u[searchable], f[searchable], weights[group[searchable]], n_polish, polish, group=group[searchable])
        for g in np.unique(of):
            mine = of == g
            out[g] = _best_of(polished[mine], f_polished[mine], converged[mine], iterations[mine])
    return out


def _best_of(polished: np.ndarray, f_polished: np.ndarray, converged: np.ndarray, iterations: np.ndarray) -> SearchResult:
    """The best polished point, with the count of polished points and of those in its basin."""
    best = int(np.argmin(f_polished))
    f_best = float(f_polished[best])
    in_basin = int(np.sum(f_polished <= f_best + BASIN_RTOL * abs(f_best) + BASIN_ATOL))
    return SearchResult(
        u=polished[best],
        f=f_best,
        converged=bool(converged[best]),
        iterations=int(iterations[best]),
        starts=int(polished.shape[0]),
        starts_in_best_basin=in_basin,
    )


def search_from(problem: Problem, weights: np.ndarray, start: Mapping[str, float], *,
                polish: Tolerances = POLISH) -> SearchResult:
    """One descent from ``start`` (natural parameter values by name, e.g. another fit's optimum).

    Every free parameter needs a finite value; one outside its bounds is moved onto the bound.
    """
    done = minimise(problem, start_row(problem, start), weights, polish)
    return SearchResult(u=done.u[0], f=float(done.f[0]), converged=bool(done.converged[0]),
                        iterations=int(done.iterations[0]), starts=1, starts_in_best_basin=1)


def start_row(problem: Problem, start: Mapping[str, float]) -> np.ndarray:
    """``start`` (natural values by name) as one row of ``u``, moved onto the bounds where outside."""
    free_names = [problem.names[i] for i in problem.free]
    missing = [name for name in free_names if name not in start]
    if missing:
        raise InputError(f"the warm start of law {problem.law.name} lacks {', '.join(missing)}")
    theta = np.array([[float(start[name]) for name in free_names]])
    if not np.all(np.isfinite(theta)):
        raise InputError(f"the warm start of law {problem.law.name} holds a value that is not a finite number")
    lower, upper = problem.bounds
    return np.clip(problem.to_u(theta), lower, upper)


def search_grid(
    problem: Problem,
    weights: np.ndarray,
    *,
    n_polish: int = 8,
    explore: Tolerances = EXPLORE,
    polish: Tolerances = POLISH,
) -> SearchResult:
    """Explore from every start, polish the ``n_polish`` best distinct end points, return the best."""
    starts = start_points(problem)
    small, small_weights = explore_subset(problem, weights, EXPLORE_POINTS)
    explored = minimise_parallel(small, starts, small_weights, explore)
    finite = np.isfinite(explored.f)
    if not finite.any():
        return SearchResult(starts[0], float("inf"), False, 0, len(starts), 0)
    rows = batch_rows(problem.design.n)  # ranking every start on all points, in bounded chunks
    full_f = np.concatenate([objective_value(problem, problem.residuals(explored.u[i : i + rows]), weights / weights.sum())
                             for i in range(0, len(explored.u), rows)])
    order = np.flatnonzero(finite)[np.argsort(full_f[finite], kind="stable")]
    _, first = np.unique(np.round(explored.u[order], 4), axis=0, return_index=True)
    candidates = order[np.sort(first)[:n_polish]]
    polished = _polish(problem, explored.u[candidates], weights, polish)
    best = int(np.argmin(polished.f))
    f_best = float(polished.f[best])
    f_explored = float(np.min(explored.f))
    in_basin = int(np.sum(explored.f <= f_explored + BASIN_RTOL * abs(f_explored) + BASIN_ATOL))
    return SearchResult(
        u=polished.u[best],
        f=f_best,
        converged=bool(polished.converged[best]),
        iterations=int(explored.iterations[candidates[best]] + polished.iterations[best]),
        starts=len(starts),
        starts_in_best_basin=in_basin,
    )


def _polish(problem: Problem, u: np.ndarray, weights: np.ndarray, tol: Tolerances) -> BatchResult:
    """Polish the rows of ``u`` as the projected search does (:func:`projection.polish_best`): every
    row ``SHORT_POLISH`` iterations, then only the ``FULL_POLISH`` best on to ``tol`` (in a flat
    valley the last digits take hundreds of iterations per row, and only the winner needs them).
    Rows left at the short stage keep its end point; ``iterations`` counts both stages."""
    if u.shape[0] <= projection.FULL_POLISH:
        return minimise_parallel(problem, u, weights, tol)
    short = minimise_parallel(problem, u, weights, replace(tol, max_iter=projection.SHORT_POLISH))
    best = np.argsort(np.where(np.isfinite(short.f), short.f, np.inf), kind="stable")[: projection.FULL_POLISH]
    rest = best[~short.converged[best]]
    if rest.size == 0:
        return short
    full = minimise_parallel(problem, short.u[rest], weights, tol)
    u_out, f_out, converged = short.u.copy(), short.f.copy(), short.converged.copy()
    iterations = short.iterations.copy()
    u_out[rest], f_out[rest], converged[rest] = full.u, full.f, full.converged
    iterations[rest] += full.iterations
    return BatchResult(u=u_out, f=f_out, converged=converged, iterations=iterations)
