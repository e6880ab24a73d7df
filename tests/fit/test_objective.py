"""The penalties: ψ is the derivative of ρ, and the IRLS curvature is ψ(r)/r."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw.errors import InputError
from scalelaw.fit.objective import Objective

R = np.linspace(-0.05, 0.05, 41) + 1e-4


@pytest.mark.parametrize("name", ["huber", "squares", "asymmetric"])
def test_psi_is_the_derivative_of_rho(name: str) -> None:
    objective = Objective(name, delta=1e-2, asymmetry=3.0)
    h = 1e-7
    numeric = (objective.rho(R + h) - objective.rho(R - h)) / (2 * h)
    assert np.allclose(objective.psi(R), numeric, atol=1e-6)
    assert np.allclose(objective.curvature(R) * R, objective.psi(R))


def test_huber_is_linear_beyond_delta() -> None:
    objective = Objective("huber", delta=1e-3)
    assert objective.rho(np.array([0.1]))[0] == pytest.approx(1e-3 * (0.1 - 0.5e-3))
    assert objective.rho(np.array([5e-4]))[0] == pytest.approx(0.5 * 5e-4**2)


def test_asymmetric_weights_over_prediction() -> None:
    objective = Objective("asymmetric", asymmetry=4.0)
    assert objective.rho(np.array([0.1]))[0] == pytest.approx(4 * objective.rho(np.array([-0.1]))[0])


@pytest.mark.parametrize("kwargs", [{"name": "l1"}, {"delta": 0.0}, {"delta": float("nan")}, {"asymmetry": -1.0}])
def test_bad_objective_options_are_input_errors(kwargs: dict) -> None:
    with pytest.raises(InputError):
        Objective(**kwargs)
