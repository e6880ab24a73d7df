"""The chinchilla law: formula, Epoch AI grid, compute-optimal allocation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws.base import Design

HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def test_formula_at_a_known_point() -> None:
    law = laws.get("chinchilla")
    theta = np.array([[HOFFMANN[n] for n in law.param_names]])
    design = law.design_at(params=70e9, tokens=1.4e12)
    expected = 1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28
    assert law.predict(theta, design)[0, 0] == pytest.approx(expected, rel=1e-12)


def test_default_grid_is_epoch_ais_4500_starts() -> None:
    starts = laws.get("chinchilla").starts()
    assert starts.shape == (4500, 5)
    assert sorted(set(np.round(np.log(starts[:, 1]), 9))) == [0, 5, 10, 15, 20, 25]
    assert sorted(set(starts[:, 3])) == [0, 0.5, 1, 1.5, 2]


def test_optimal_allocation_matches_hoffmann_exponents() -> None:
    law = laws.get("chinchilla")
    derived = law.derived(HOFFMANN)
    assert derived["a"] == pytest.approx(0.28 / 0.62) and derived["b"] == pytest.approx(0.34 / 0.62)
    out = law.optimal_allocation(HOFFMANN, np.array([1e21, 1e23]))
    assert np.allclose(6 * out["params"] * out["tokens"], [1e21, 1e23])
    # Brute force: the allocation minimises the loss along C = 6ND.
    n = np.logspace(8, 12, 20001)
    d = 1e23 / (6 * n)
    loss = 1.69 + 406.4 * n**-0.34 + 410.7 * d**-0.28
    assert out["params"][1] == pytest.approx(n[np.argmin(loss)], rel=1e-3)
    assert out["loss"][1] == pytest.approx(loss.min(), rel=1e-9)


def test_design_uses_the_final_point_of_each_run() -> None:
    table = pd.DataFrame(
        {"run": ["a", "a", "b"], "step": [1, 2, 5], "params": [1e8, 1e8, 2e8], "tokens": [1e9, 2e9, 4e9],
         "loss": [4.0, 3.5, 3.0]}
    )
    design = laws.get("chinchilla").design(RunSet(table))
    assert list(design.loss) == [3.5, 3.0] and list(design.inputs["tokens"]) == [2e9, 4e9]


def test_zero_tokens_is_an_input_error_naming_run_and_column() -> None:
    table = pd.DataFrame({"run": ["a", "b"], "params": [1e8, 2e8], "tokens": [1e9, 0.0], "loss": [3.0, 2.9]})
    with pytest.raises(InputError) as info:
        laws.get("chinchilla").design(RunSet(table, {"b": "runs.csv"}))
    assert info.value.location.run == "b" and info.value.location.column == "tokens"
    assert info.value.location.file == "runs.csv"


def test_scale_includes_flops() -> None:
    law = laws.get("chinchilla")
    design = Design({"params": np.array([1e9]), "tokens": np.array([2e10])}, np.array([3.0]), np.array(["x"]))
    assert law.scale(design)["flops"][0] == pytest.approx(1.2e20)
