"""Variable projection: search only the nonlinear parameters, solve the linear ones exactly.

For a law that is linear in some parameters once the others are fixed (Chinchilla is
E + A·N^−α + B·D^−β: linear in E, A, B for fixed α, β), the multi-start search reduces
to a grid over the nonlinear parameters. At each grid point the linear coefficients
come from a non-negative least-squares solve on relative residuals (loss^p − fit)/loss^p,
the first-order form of the log-loss residual the engine minimises (plain residuals for
laws fitted on linear residuals); every grid point is
then scored on the true objective (Huber on log residuals), and the best few distinct
points are polished by Levenberg–Marquardt on all parameters and the true objective.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from scalelaw.fit.optimize import Tolerances, batch_rows, minimise, objective_value
from scalelaw.fit.problem import Problem
from scalelaw.laws.base import LinearPart

#: Most grid points over the nonlinear parameters (the law's start values, refined evenly),
#: and at most ``AXIS_BUDGET`` per nonlinear parameter.
GRID_BUDGET = 1024
AXIS_BUDGET = 64
#: Levenberg–Marquardt iterations every polished candidate gets, and how many candidates
#: are then polished to the full tolerance.
SHORT_POLISH = 40
FULL_POLISH = 2


def linear_indices(problem: Problem) -> np.ndarray | None:
    """Positions (within the free parameters) of the free parameters the law solves linearly, or None."""
    first = np.array([[axis[0] for axis in problem.start_axes]])
    part = problem.law.linear_part(problem.theta(first), problem.design)
    if part is None:
        return None
    free_names = [problem.names[i] for i in problem.free]
    linear = [free_names.index(name) for name in part.names if name in free_names]
    if not linear or len(linear) == len(free_names):
        return None
    return np.array(linear, dtype=int)


def nonlinear_grid(problem: Problem, linear: np.ndarray) -> np.ndarray:
    """Rows of ``u`` spanning the nonlinear free parameters' start values, refined evenly.

    Each nonlinear parameter takes its distinct start values (in optimiser space, so
    log-parameters are refined geometrically) with ``r − 1`` evenly spaced values
    inserted between neighbours, ``r`` the largest refinement within ``GRID_BUDGET`` and
    ``AXIS_BUDGET`` per parameter.
    Linear entries hold the middle of their start values until they are solved.
    """
    columns = problem.start_axes
    nonlinear = [j for j in range(len(columns)) if j not in set(linear.tolist())]
    budget = min(GRID_BUDGET, AXIS_BUDGET ** len(nonlinear))
    refine = 1
    spread = any(columns[j].size > 1 for j in nonlinear)  # one start value each: nothing to refine
    while spread and np.prod([(columns[j].size - 1) * (refine + 1) + 1 for j in nonlinear]) <= budget:
        refine += 1
    axes = []
    for j in range(len(columns)):
        values = columns[j]
        if j in nonlinear and values.size > 1:
            steps = np.linspace(0.0, 1.0, refine + 1)[:-1]
            values = np.concatenate([a + steps * (b - a) for a, b in zip(values[:-1], values[1:])] + [values[-1:]])
        elif j not in nonlinear:
            values = np.array([np.median(values)])
        axes.append(values)
    return np.array(list(itertools.product(*axes)), dtype=float)


def solve_linear(problem: Problem, u: np.ndarray, linear: np.ndarray, weights: np.ndarray,
                 part: LinearPart | None = None) -> np.ndarray:
    """``u`` with its linear entries replaced by the weighted non-negative least-squares solution
    (``part``: the law's linear part at ``u``, when already built)."""
    part = part or problem.law.linear_part(problem.theta(u), problem.design)
    assert part is not None
    free_names = [problem.names[i] for i in problem.free]
    solved = [part.names.index(free_names[j]) for j in linear]
    held = [i for i, name in enumerate(part.names) if name not in free_names]
    power = np.asarray(part.loss_power, dtype=float).reshape(-1, 1)
    coef_power = np.broadcast_to(part.coef_power, (u.shape[0], len(part.names)))
    with np.errstate(all="ignore"):
        loss = problem.design.loss[None, :]
        target = loss if np.all(power == 1.0) else loss ** power  # loss^p, (1 or B, n)
        # Log residuals weigh each row by 1/loss^p (relative errors); linear residuals do not.
        row_weight = np.sqrt(weights)[None, :] / (1.0 if problem.linear else target)
        target = np.broadcast_to(target, (u.shape[0], problem.design.n))
        for i in held:  # a held-fixed linear parameter moves to the left-hand side
            value = problem.fixed[part.names[i]] ** (1.0 / coef_power[:, i : i + 1])
            target = target - part.basis[:, :, i] * value
        basis = part.basis if solved == list(range(len(part.names))) else part.basis[:, :, solved]
        coef = nnls_batch(basis * row_weight[:, :, None], target * row_weight)
        params = coef ** coef_power[:, solved]
    declared = [problem.law.params[problem.free[j]] for j in linear]
    natural = np.clip(params, [p.lower for p in declared], [p.upper for p in declared])
    out = u.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, linear] = np.where(problem.is_log[linear], np.log(natural), natural)
    return out


def nnls_batch(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """argmin_{c ≥ 0} ‖x c − y‖ for every row of a batch: x (B, n, k), y (B, n) -> (B, k).

    Exact for small k: the solution is the unconstrained least-squares fit on its own
    support, so every support (2^k − 1 of them) is solved and the best feasible one kept.
    The normal equations are formed once (contiguous (B, k, n) products) and scaled to a
    unit diagonal, and a 1e-12 ridge keeps singular supports solvable.
    """
    b, _, k = x.shape
    xt = np.ascontiguousarray(np.transpose(x, (0, 2, 1)))
    gram = np.matmul(xt, np.transpose(xt, (0, 2, 1)))
    rhs = np.matmul(xt, y[:, :, None])[:, :, 0]
    scale = np.sqrt(np.einsum("bkk->bk", gram))
    scale = np.where(scale > 0, scale, 1.0)
    gram = gram / (scale[:, :, None] * scale[:, None, :])
    rhs = rhs / scale
    yy = np.einsum("bn,bn->b", y, y)
    best = np.zeros((b, k))
    best_rss = np.where(np.isfinite(yy), yy, np.inf)
    for size in range(1, k + 1):
        for support in itertools.combinations(range(k), size):
            idx = np.array(support)
            g = gram[:, idx[:, None], idx[None, :]]
            c = np.linalg.solve(g + 1e-12 * np.eye(size), rhs[:, idx, None])[:, :, 0]
            rss = yy - 2.0 * np.einsum("bk,bk->b", c, rhs[:, idx]) + np.einsum("bi,bij,bj->b", c, g, c)
            better = np.all(c >= 0.0, axis=1) & (rss < best_rss)
            best_rss = np.where(better, rss, best_rss)
            best[np.ix_(better, idx)] = c[better]
            best[np.ix_(better, np.setdiff1d(np.arange(k), idx))] = 0.0
    return best / scale


def project_grid(problem: Problem, linear: np.ndarray, weights: np.ndarray,
                 parts: list[LinearPart] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every grid point with its linear parameters solved, and its true objective (normalised weights).

    ``parts`` (from :func:`grid_parts`) are the law's linear parts at the grid's chunks, when one
    grid is solved under several weightings (a backtest's folds): they depend on the points only.
    """
    normalised = weights / weights.sum()
    us, fs = [], []
    for i, chunk in enumerate(_grid_chunks(problem, linear)):
        u = solve_linear(problem, chunk, linear, weights, None if parts is None else parts[i])
        us.append(u)
        fs.append(objective_value(problem, problem.residuals(u), normalised))
    return np.concatenate(us), np.concatenate(fs)


def grid_parts(problem: Problem, linear: np.ndarray) -> list[LinearPart]:
    """The law's linear part at each chunk of the grid (what :func:`project_grid` would build for each)."""
    return [problem.law.linear_part(problem.theta(chunk), problem.design) for chunk in _grid_chunks(problem, linear)]


def _grid_chunks(problem: Problem, linear: np.ndarray) -> list[np.ndarray]:
    """The grid in chunks small enough to bound the (batch, n, k) bases."""
    grid = nonlinear_grid(problem, linear)
    rows = batch_rows(problem.design.n * (linear.size + 2))
    return [grid[start : start + rows] for start in range(0, grid.shape[0], rows)]


def polish_best(
    problem: Problem, u: np.ndarray, f: np.ndarray, weights: np.ndarray, n_polish: int, tol: Tolerances,
    short: tuple[Problem, np.ndarray] | None = None, group: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Levenberg–Marquardt on all parameters from the ``n_polish`` best distinct rows of ``u`` (of each
    ``group``, when rows belong to several searches, each with its own row of ``weights``).

    All candidates get ``SHORT_POLISH`` iterations (on ``short``, a (problem, weights) on a
    subset of the points, when given: their cost no longer grows with the data); the
    ``FULL_POLISH`` best of each group continue to ``tol`` on all points (in flat valleys such as
    Chinchilla's A–α the last digits take hundreds of iterations, and only the winner
    needs them). Every returned objective is on all points. Returns the candidates' end points,
    objectives, convergence flags, iterations and groups.
    """
    group = np.zeros(u.shape[0], dtype=int) if group is None else group
    per_row = np.ndim(weights) == 2
    candidates = np.concatenate([_distinct_best(u, f, np.flatnonzero(group == g), n_polish)
                                 for g in np.unique(group)])
    row_weights = weights[candidates] if per_row else weights
    short_problem, short_weights = short if short is not None else (problem, row_weights)
    explored = minimise(short_problem, u[candidates], short_weights, replace(tol, max_iter=SHORT_POLISH))
    f_out = explored.f.copy()
    if short_problem is not problem:
        normalised = row_weights / row_weights.sum(axis=-1, keepdims=True)
        f_out = objective_value(problem, problem.residuals(explored.u), normalised)
    ranked = np.where(np.isfinite(f_out), f_out, np.inf)
    best = np.concatenate([rows[np.argsort(ranked[rows], kind="stable")[:FULL_POLISH]]
                           for rows in (np.flatnonzero(group[candidates] == g) for g in np.unique(group))])
    full = minimise(problem, explored.u[best], row_weights[best] if per_row else weights, tol)
    u_out = explored.u.copy()
    converged, iterations = explored.converged.copy(), explored.iterations.copy()
    f_out[best], u_out[best], converged[best] = full.f, full.u, full.converged
    iterations[best] += full.iterations
    return u_out, f_out, converged, iterations, group[candidates]


def _distinct_best(u: np.ndarray, f: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` rows (of ``rows``) with the lowest finite ``f`` whose ``u`` differ in the third decimal."""
    finite = rows[np.isfinite(f[rows])]
    order = finite[np.argsort(f[finite], kind="stable")]
    _, first = np.unique(np.round(u[order], 3), axis=0, return_index=True)
    return order[np.sort(first)[:n]]
