"""Laws of metrics other than the training loss: sigmoid (accuracy from a loss), sigmoid-chinchilla, loss-to-loss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.fit.problem import Problem
from scalelaw.fit.objective import Objective


@pytest.mark.parametrize("name", ["sigmoid", "sigmoid-chinchilla", "loss-to-loss"])
def test_analytic_jacobian_matches_finite_differences(name: str) -> None:
    law = laws.get(name, **({"x": "x"} if name != "sigmoid-chinchilla" else {}))
    inputs = {"params": [1e8, 1e9], "tokens": [1e9, 3e10]} if name == "sigmoid-chinchilla" else {"x": [2.5, 3.0, 4.0]}
    design = law.design_at(**inputs)
    theta = {"sigmoid": [-0.6, 2.8, 3.0, 0.9], "sigmoid-chinchilla": [50.0, 400.0, 0.3, 0.3, 0.1, -0.6, 0.9],
             "loss-to-loss": [1.2, 0.8, 1.5, 0.5]}[name]
    theta = np.array([theta])
    value, grad = law.jacobian(theta, design)
    for j in range(theta.shape[1]):
        step = np.zeros_like(theta)
        step[0, j] = 1e-6 * max(1.0, abs(theta[0, j]))
        numeric = (law.predict(theta + step, design) - law.predict(theta - step, design)) / (2 * step[0, j])
        assert np.allclose(grad[0, :, j], numeric[0], rtol=1e-4, atol=1e-8), (name, j)
    assert np.allclose(value, law.predict(theta, design))


def test_sigmoid_design_skips_smooths_and_anchors() -> None:
    table = pd.DataFrame({"run": ["a"] * 10, "step": np.arange(10), "loss": np.linspace(0.3, 0.6, 10),
                          "x": np.linspace(2.0, 1.1, 10)})
    design = laws.get("sigmoid", x="x", skip=0.1, window=5).design(RunSet(table))
    assert design.n == 10  # 9 checkpoints after skipping the first, plus the anchor
    assert design.anchor is not None and design.anchor.tolist() == [False] * 9 + [True]
    assert design.loss[-1] == 1.0 and design.inputs["x"][-1] == 0.0
    assert design.inputs["x"][4] == pytest.approx(np.mean(np.linspace(2.0, 1.1, 10)[1:6]))  # a full 5-point window


def test_rising_laws_say_so_and_fit_linear_residuals() -> None:
    assert laws.get("sigmoid").rises and laws.get("sigmoid").residual == "linear"
    assert laws.get("sigmoid-chinchilla").rises and not laws.get("chinchilla").rises


def test_loss_to_loss_is_fitted_on_each_runs_final_pair() -> None:
    rows = []
    for run, scale in (("a", 1.0), ("b", 2.0), ("c", 4.0)):
        for step in (1, 2, 3):
            x = 2.0 + 1.0 / (scale * step)
            rows.append({"run": run, "step": step, "x": x, "loss": 1.5 * (x - 1.0) ** 0.8 + 0.5})
    design = laws.get("loss-to-loss", x="x").design(RunSet(pd.DataFrame(rows)))
    assert design.n == 3 and list(design.run) == ["a", "b", "c"]
    every = laws.get("loss-to-loss", x="x", points="all").design(RunSet(pd.DataFrame(rows)))
    assert every.n == 9


def test_a_missing_input_column_names_it() -> None:
    table = pd.DataFrame({"run": ["a", "a"], "step": [1, 2], "loss": [0.3, 0.4]})
    with pytest.raises(InputError, match="eval/bpb"):
        laws.get("sigmoid", x="eval/bpb").design(RunSet(table))


def test_linear_residuals_in_the_problem() -> None:
    law = laws.get("sigmoid", x="x", anchor=False, skip=0.0, window=1)
    table = pd.DataFrame({"run": ["a"] * 3, "step": [1, 2, 3], "loss": [0.3, 0.4, 0.5], "x": [2.0, 1.5, 1.0]})
    problem = Problem(law, law.design(RunSet(table)), Objective("squares"), {})
    u = problem.to_u(np.array([[-0.6, 1.5, 3.0, 0.9]]))
    r = problem.residuals(u)[0]
    assert np.allclose(r, law.predict(np.array([[-0.6, 1.5, 3.0, 0.9]]), problem.design)[0] - [0.3, 0.4, 0.5])
