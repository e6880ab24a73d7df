"""A vectorised, box-constrained Levenberg–Marquardt for robust objectives (IRLS).

All starts (or bootstrap replicates) are one batch: each row of ``u`` is its own
problem with its own weights, damping and convergence state, and finished rows leave
the batch. The damping follows Nielsen (1999), as in levmar and Ceres: after a step it is
multiplied by max(1/10, 1 − (2ρ − 1)³), ρ the actual over the predicted decrease, so it
is lowered only as far as the quadratic model earns (and raised after a poor step); after
a rejected step it grows by a factor that doubles with each rejection in a row. (Nielsen's
floor is 1/3; 1/10, the old fixed shrink, kept fits in long valleys converging.) Steps are clipped to the box, and a coordinate on a bound whose descent
direction points outside is held for the step (a projected method), so a parameter at
its bound does not stall the others. The objective is normalised by the total weight, and the stopping rule is
relative (objective change and step size), so summing or averaging residuals cannot
stop the search early.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalelaw.fit.problem import Problem

#: Largest batch of per-point values (starts or replicates x points x parameters) built at once;
#: bigger batches are cut into chunks, so each array stays near MAX_BATCH_CELLS x 8 bytes (64 MB).
MAX_BATCH_CELLS = 8_000_000


def batch_rows(cells_per_row: int, most: int | None = None) -> int:
    """How many rows (starts, replicates) of ``cells_per_row`` values fit in one bounded batch."""
    rows = max(1, MAX_BATCH_CELLS // max(cells_per_row, 1))
    return rows if most is None else min(rows, most)


_LAMBDA_START = 1e-2
_LAMBDA_MAX = 1e12
#: Largest shrink of the damping after one step (the model predicted the decrease well).
_SHRINK_MOST = 0.1


@dataclass(frozen=True)
class Tolerances:
    """Stopping rule: relative objective decrease ``ftol``, step size ``xtol``, ``max_iter``."""

    ftol: float = 1e-12
    xtol: float = 1e-10
    max_iter: int = 400


@dataclass(frozen=True)
class BatchResult:
    """End points of a batch: ``u`` (B, q), normalised objective ``f`` (B,), flags."""

    u: np.ndarray
    f: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray


def objective_value(problem: Problem, r: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ w·ρ(r) / Σ w per row (weights already normalised; a point of weight 0 does not count, even
    where it has no finite residual); +inf where it is not finite."""
    with np.errstate(invalid="ignore", over="ignore"):
        value = (np.where(weights > 0, problem.objective.rho(r), 0.0) * weights).sum(axis=1)
    return np.where(np.isfinite(value), value, np.inf)


def _evaluate(problem: Problem, u: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Objective (B,), gradient (B, q) and IRLS Gauss–Newton Hessian (B, q, q) at ``u``.

    Points of weight 0 (runs a bootstrap replicate did not draw) add nothing, so a law that can skip
    points (:attr:`~scalelaw.laws.base.Law.skips_points`) need not compute them.
    """
    counted = weights > 0
    skip = problem.law.skips_points and not counted.all()
    needed = np.broadcast_to(counted, (u.shape[0], counted.shape[-1])) if skip else None
    r, jac = problem.residuals_jacobian(u, needed)
    f = objective_value(problem, r, weights)
    with np.errstate(invalid="ignore", over="ignore"):
        jac_t = np.transpose(jac, (0, 2, 1))
        grad = np.matmul(jac_t, (problem.objective.psi(r) * weights)[:, :, None])[:, :, 0]
        hess = np.matmul(jac_t * (problem.objective.curvature(r) * weights)[:, None, :], jac)
    return f, grad, hess


def minimise(problem: Problem, u0: np.ndarray, weights: np.ndarray, tol: Tolerances) -> BatchResult:
    """Run Levenberg–Marquardt from every row of ``u0`` with the matching row of ``weights``.

    ``weights`` is (n,) shared by all rows, or (B, n). A trial point's gradient and
    Hessian are computed with its residuals (most steps are accepted), and rows leave
    the batch as soon as they stop.
    """
    lower, upper = problem.bounds
    u_all = np.clip(np.atleast_2d(np.asarray(u0, dtype=float)), lower, upper)
    b, q = u_all.shape
    w_all = np.asarray(weights, dtype=float)
    w_all = w_all / w_all.sum(axis=-1, keepdims=True)
    shared = w_all.ndim == 1
    f_all, grad, hess = _evaluate(problem, u_all, w_all)
    converged = np.zeros(b, dtype=bool)
    iterations = np.zeros(b, dtype=int)

    rows = np.flatnonzero(np.isfinite(f_all))
    u, f, grad, hess = u_all[rows], f_all[rows], grad[rows], hess[rows]
    w = w_all if shared else w_all[rows]
    lam = np.full(rows.size, _LAMBDA_START)
    grow = np.full(rows.size, 2.0)
    eye = np.eye(q)
    for _ in range(tol.max_iter):
        if rows.size == 0:
            break
        iterations[rows] += 1
        # Coordinates on a bound whose descent direction points outside are held this step.
        blocked = ((u <= lower) & (grad > 0)) | ((u >= upper) & (grad < 0))
        free = ~blocked
        g = np.where(blocked, 0.0, grad)
        h = hess * (free[:, :, None] & free[:, None, :]) + blocked[:, :, None] * eye
        diag = np.einsum("bqq->bq", h)
        diag = np.maximum(diag, 1e-12 * diag.sum(axis=1, keepdims=True) + 1e-300)
        step = -np.linalg.solve(h + lam[:, None, None] * diag[:, :, None] * eye, g[:, :, None])[:, :, 0]
        trial = np.clip(u + step, lower, upper)
        taken = trial - u
        predicted = -np.einsum("bq,bq->b", g, taken) - 0.5 * np.einsum("bi,bij,bj->b", taken, h, taken)
        f_new, g_new, h_new = _evaluate(problem, trial, w)
        accept = f_new < f
        small_step = np.abs(trial - u).max(axis=1) <= tol.xtol * (1.0 + np.abs(u).max(axis=1))
        small_gain = accept & (f - f_new <= tol.ftol * f)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.nan_to_num(np.clip((f - f_new) / predicted, 0.0, 1.0))
        u[accept], f[accept], grad[accept], hess[accept] = trial[accept], f_new[accept], g_new[accept], h_new[accept]
        lam = np.where(accept, np.maximum(lam * np.maximum(_SHRINK_MOST, 1.0 - (2.0 * ratio - 1.0) ** 3), 1e-12), lam * grow)
        grow = np.where(accept, 2.0, grow * 2.0)
        done = small_step | small_gain | (lam > _LAMBDA_MAX)
        u_all[rows], f_all[rows] = u, f
        converged[rows[done]] = True
        if done.any():
            keep = ~done
            rows, u, f, lam, grad, hess = rows[keep], u[keep], f[keep], lam[keep], grad[keep], hess[keep]
            grow = grow[keep]
            w = w if shared else w[keep]
    return BatchResult(u=u_all, f=f_all, converged=converged, iterations=iterations)


def one_blas_thread() -> AbstractContextManager[object]:
    """A context in which BLAS runs on one thread. The fits' products are small (a dozen
    parameters by a few thousand points): BLAS's own threads only spin on them, and beside the
    fits' two threads they take the cores those need (on the OLMo curves' bootstrap, 1.5x the
    CPU time for the same numbers)."""
    global _CONTROLLER
    if _CONTROLLER is None:  # finding the loaded BLAS libraries takes milliseconds: once per process
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


_CONTROLLER: Any = None
