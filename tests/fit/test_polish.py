"""The grid search's two-stage polish: every end point a short polish, only the best on to the tolerance."""

from __future__ import annotations

import numpy as np
from fit_synthetic import chinchilla_runs

from scalelaw import laws
from scalelaw.fit import multistart, projection
from scalelaw.fit.objective import Objective
from scalelaw.fit.optimize import minimise
from scalelaw.fit.problem import Problem


def _explored() -> tuple[Problem, np.ndarray, np.ndarray]:
    """Chinchilla on noisy synthetic runs and six distinct end points of a short exploration."""
    law = laws.get("chinchilla")
    problem = Problem(law, law.design(chinchilla_runs(n=60)), Objective(), {})
    weights = np.ones(problem.design.n)
    starts = multistart.start_points(problem)[::750][:6]
    explored = minimise(problem, starts, weights, multistart.EXPLORE)
    return problem, weights, explored.u


def test_two_stage_polish_reaches_the_optimum_of_polishing_every_point() -> None:
    problem, weights, u = _explored()
    assert u.shape[0] > projection.FULL_POLISH
    every = minimise(problem, u, weights, multistart.POLISH)
    staged = multistart._polish(problem, u, weights, multistart.POLISH)
    assert staged.f.min() <= every.f.min() * (1 + 1e-10)
    assert staged.converged[np.argmin(staged.f)]
    # only the best few went past the short stage
    assert np.sum(staged.iterations > projection.SHORT_POLISH) <= projection.FULL_POLISH
    assert np.all(staged.f >= staged.f.min())


def test_few_points_are_polished_in_one_run() -> None:
    problem, weights, u = _explored()
    few = u[: projection.FULL_POLISH]
    one_run = minimise(problem, few, weights, multistart.POLISH)
    staged = multistart._polish(problem, few, weights, multistart.POLISH)
    np.testing.assert_array_equal(staged.u, one_run.u)
    np.testing.assert_array_equal(staged.iterations, one_run.iterations)
