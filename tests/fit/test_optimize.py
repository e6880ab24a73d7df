"""The batched Levenberg–Marquardt: finds the optimum, per-row weights, sum/mean invariance."""

from __future__ import annotations

import numpy as np

from scalelaw import laws
from scalelaw.fit.objective import Objective
from scalelaw.fit.optimize import Tolerances, minimise
from scalelaw.fit.parallel import minimise_parallel
from scalelaw.fit.problem import Problem
from scalelaw.laws.base import Design

TOL = Tolerances(ftol=1e-14, xtol=1e-12, max_iter=500)


def _power_problem(objective: str = "squares") -> tuple[Problem, np.ndarray]:
    x = np.logspace(17, 21, 15)
    truth = np.array([2.0, 129.0, 0.106])
    law = laws.get("power", variable="flops")
    loss = law.predict(truth[None, :], Design({"flops": x}, np.ones(15), np.arange(15).astype(str)))[0]
    return Problem(law, Design({"flops": x}, loss, np.arange(15).astype(str)), Objective(objective), {}), truth


def test_exact_data_is_recovered_from_a_poor_start() -> None:
    problem, truth = _power_problem()
    result = minimise(problem, problem.to_u(np.array([[1.0, 1000.0, 0.3]])), np.ones(15), TOL)
    assert result.converged[0]
    assert np.allclose(problem.theta(result.u)[0], truth, rtol=1e-6)


def test_rows_with_their_own_weights_are_independent() -> None:
    problem, truth = _power_problem("huber")
    start = problem.to_u(np.array([[1.5, 50.0, 0.2]] * 3))
    weights = np.ones((3, 15))
    weights[1, :5] = 0.0
    weights[2] *= 7.0
    batch = minimise(problem, start, weights, TOL)
    alone = minimise(problem, start[1:2], weights[1], TOL)
    assert np.allclose(batch.u[1], alone.u[0])
    # Scaling all weights (sum versus mean of the residuals) changes nothing.
    assert np.allclose(batch.u[0], batch.u[2], rtol=1e-9, atol=1e-9)


def test_parallel_split_gives_the_same_numbers() -> None:
    problem, _ = _power_problem("huber")
    rng = np.random.default_rng(0)
    starts = problem.to_u(np.column_stack([rng.uniform(1, 3, 9), rng.uniform(10, 1e4, 9), rng.uniform(0.05, 1, 9)]))
    one = minimise(problem, starts, np.ones(15), TOL)
    split = minimise_parallel(problem, starts, np.ones(15), TOL, workers=2)
    assert np.array_equal(one.u, split.u) and np.array_equal(one.f, split.f)


def test_steps_stay_inside_the_bounds() -> None:
    problem, _ = _power_problem()
    lower, upper = problem.bounds
    result = minimise(problem, problem.to_u(np.array([[900.0, 1e-7, 3.9]])), np.ones(15), TOL)
    assert np.all(result.u >= lower) and np.all(result.u <= upper)


def test_damping_follows_the_model_in_a_curved_valley() -> None:
    """Rosenbrock's valley as residuals (10(y − x²), 1 − x): from (−1.2, 1) the damped steps reach
    (1, 1), with few rejected steps (the damping is lowered only as far as the model earns)."""
    from scalelaw.laws.base import Law, Param

    class Valley(Law):
        name = "valley-test"
        params = (Param("x", "x", -5.0, 5.0, (0.0,)), Param("y", "y", -5.0, 5.0, (0.0,)))

        def design(self, runs: object) -> Design:
            raise NotImplementedError

        def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
            x, y = theta[:, :1], theta[:, 1:2]
            return np.exp(np.where(design.inputs["i"][None, :] == 0, 10.0 * (y - x**2), 1.0 - x))

    design = Design({"i": np.array([0, 1])}, np.ones(2), np.array(["a", "b"]))
    problem = Problem(Valley(), design, Objective("squares"), {})
    result = minimise(problem, np.array([[-1.2, 1.0]]), np.ones(2), TOL)
    assert result.converged[0]
    assert np.allclose(result.u[0], [1.0, 1.0], atol=1e-6)
    assert result.iterations[0] <= 40


def test_points_of_weight_zero_need_not_be_computed() -> None:
    """Rows of a bootstrap with runs of weight 0 end where they end when every point is computed:
    the skipped points' residuals and Jacobian rows are 0, so they add exact zeros."""
    problem, truth = _power_problem("huber")
    rng = np.random.default_rng(5)
    noisy = Design(problem.design.inputs, problem.design.loss * np.exp(rng.normal(0, 0.01, 15)), problem.design.run)
    problem = Problem(problem.law, noisy, problem.objective, {})
    problem.law.skips_points = True  # as chinchilla-curve: the fit asks only for the points of weight > 0
    weights = rng.integers(0, 3, (6, 15)).astype(float)
    weights[:, 0] = 1.0
    u0 = np.repeat(problem.to_u(truth[None, :] * 1.3), 6, axis=0)

    class AllPoints(Problem):
        def residuals_jacobian(self, u: np.ndarray, needed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
            return super().residuals_jacobian(u)

    full = minimise(AllPoints(problem.law, problem.design, problem.objective, {}), u0, weights, TOL)
    skipped = minimise(problem, u0, weights, TOL)
    np.testing.assert_array_equal(skipped.u, full.u)
    np.testing.assert_array_equal(skipped.f, full.f)
