"""Problem: parameter transforms, fixed parameters, and Jacobians against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw import laws
from scalelaw.errors import InputError
from scalelaw.fit.objective import Objective
from scalelaw.fit.problem import Problem, check_fixed
from scalelaw.laws.base import Design


def _design(n: int = 30) -> Design:
    rng = np.random.default_rng(1)
    inputs = {
        "params": 10 ** rng.uniform(7, 10, n),
        "tokens": 10 ** rng.uniform(9, 12, n),
        "unique_tokens": 10 ** rng.uniform(8, 10, n),
    }
    return Design(inputs=inputs, loss=np.full(n, 3.0), run=np.array([f"r{i}" for i in range(n)]))


POINTS = {
    "chinchilla": [1.8, 400.0, 2000.0, 0.34, 0.28],
    "kaplan": [8.8e13, 5.4e13, 0.076, 0.095],
    "overtraining": [1.8, 30.0, 200.0, 0.15],
    "data-constrained": [1.87, 520.8, 1487.7, 0.35, 0.35, 15.4, 5.3],
}


@pytest.mark.parametrize("name", sorted(POINTS))
def test_residual_jacobian_matches_finite_differences(name: str) -> None:
    law = laws.get(name)
    problem = Problem(law, _design(), Objective(), {})
    u = problem.to_u(np.array([POINTS[name]]))
    _, analytic = problem.residuals_jacobian(u)
    numeric = problem._finite_difference(u)
    assert np.allclose(analytic, numeric, rtol=1e-4, atol=1e-6)


def test_fixed_parameters_are_filled_in_and_not_optimised() -> None:
    law = laws.get("chinchilla")
    problem = Problem(law, _design(), Objective(), {"alpha": 0.3})
    assert [problem.names[i] for i in problem.free] == ["E", "A", "B", "beta"]
    theta = problem.theta(problem.to_u(np.array([[1.8, 400.0, 2000.0, 0.28]])))
    assert theta[0, 3] == 0.3 and theta[0, 1] == pytest.approx(400.0)
    _, jac = problem.residuals_jacobian(problem.to_u(np.array([[1.8, 400.0, 2000.0, 0.28]])))
    assert jac.shape == (1, 30, 4)


@pytest.mark.parametrize("fix", [{"gamma": 1.0}, {"alpha": "x"}, {"alpha": 99.0}, {"alpha": float("nan")}])
def test_bad_fixed_parameters_are_input_errors(fix: dict) -> None:
    with pytest.raises(InputError):
        check_fixed(laws.get("chinchilla"), fix)


def test_fixing_everything_is_allowed_so_a_published_set_can_be_scored() -> None:
    assert check_fixed(laws.get("power"), {"E": 1.0, "A": 2.0, "alpha": 0.3}) == {"E": 1.0, "A": 2.0, "alpha": 0.3}
