"""The one-variable power law: variables, steps over whole curves, flops derived as 6ND."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError


def test_formula_and_options_round_trip() -> None:
    law = laws.get("power", variable="tokens")
    assert law.options() == {"variable": "tokens"} and law.inputs == ("tokens",)
    value = law.predict(np.array([[2.0, 100.0, 0.2]]), law.design_at(tokens=1e10))[0, 0]
    assert value == pytest.approx(2.0 + 100.0 * 1e10**-0.2)


def test_flops_are_derived_from_params_and_tokens_when_missing() -> None:
    table = pd.DataFrame({"run": ["a", "b"], "params": [1e8, 1e9], "tokens": [2e9, 2e10], "loss": [3.5, 3.0]})
    design = laws.get("power", variable="flops").design(RunSet(table))
    assert np.allclose(design.inputs["flops"], [1.2e18, 1.2e20])


def test_step_variable_fits_every_logged_point() -> None:
    table = pd.DataFrame(
        {"run": ["a"] * 4 + ["b"] * 3, "step": [0, 10, 20, 40, 10, 20, 30], "loss": [9, 4, 3.5, 3.2, 4.1, 3.6, 3.4]}
    )
    law = laws.get("power", variable="step")
    design = law.design(RunSet(table))
    assert design.n == 6 and law.kind == "curve"  # the step-0 point is dropped (x must be positive)
    assert list(design.run) == ["a", "a", "a", "b", "b", "b"]


def test_unknown_variable_is_an_input_error() -> None:
    with pytest.raises(InputError, match="variable"):
        laws.get("power", variable="epochs")
