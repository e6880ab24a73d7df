"""The few-parameter accuracy laws: chance-sigmoid (floor at chance, ceiling held) and log-linear."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.fit import fit_law
from scalelaw.laws._chance import chance_level


def runs_of(params, tokens, accuracy) -> RunSet:
    return RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(len(params))], "params": params, "tokens": tokens,
                                "loss": accuracy}))


@pytest.mark.parametrize("name,variable", [("chance-sigmoid", v) for v in ("params", "flops", "params+tokens")]
                         + [("log-linear", v) for v in ("params", "flops", "params+tokens")])
def test_jacobian_matches_finite_differences(name: str, variable: str) -> None:
    law = laws.get(name, variable=variable, **({"chance": 0.25} if name == "chance-sigmoid" else {}))
    design = law.design_at(params=np.array([1e8, 1e9, 7e9]), tokens=np.array([2e9, 4e10, 1e12]))
    theta = np.array([1.3, 9.5, 0.4][: len(law.params)]) if name == "chance-sigmoid" else np.array([0.5, 0.1, 0.02][: len(law.params)])
    value, grad = law.jacobian(theta[None, :], design)
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = 1e-6
        numeric = (law.predict((theta + step)[None, :], design) - law.predict((theta - step)[None, :], design)) / 2e-6
        assert grad[0, :, j] == pytest.approx(numeric[0], rel=1e-5, abs=1e-9)


def test_chance_sigmoid_lies_between_chance_and_ceiling_and_recovers_its_parameters() -> None:
    law = laws.get("chance-sigmoid", chance=0.25)
    n = np.array([1.6e8, 4.1e8, 1e9, 1.4e9, 2.8e9, 6.9e9])
    truth = 0.25 + 0.75 / (1 + np.exp(-2.0 * (np.log10(n) - 9.6)))
    fit = fit_law(runs_of(n, 3e11, truth), law)
    assert fit.params["s"] == pytest.approx(2.0, rel=1e-4) and fit.params["m"] == pytest.approx(9.6, rel=1e-5)
    far = law.predict(fit.theta[None, :], law.design_at(params=np.array([1e3, 1e20])))[0]
    assert far[0] == pytest.approx(0.25, abs=1e-5) and far[1] == pytest.approx(1.0, abs=1e-5)


def test_flops_laws_take_compute_from_params_and_tokens() -> None:
    law = laws.get("log-linear", variable="flops")
    design = law.design_at(params=1e9, tokens=2e10)
    assert design.inputs["flops"][0] == pytest.approx(6 * 1e9 * 2e10)
    with pytest.raises(ValueError, match="params and tokens"):
        law.design_at(params=1e9)


def test_a_percentage_is_refused_naming_the_run() -> None:
    law = laws.get("log-linear")
    with pytest.raises(InputError, match="a percentage") as caught:
        law.design(runs_of([1e8, 1e9, 1e10], 1e10, [30.0, 40.0, 50.0]))
    assert caught.value.location.run == "r0"


def test_bad_options_are_input_errors() -> None:
    with pytest.raises(InputError, match="chance < ceiling"):
        laws.get("chance-sigmoid", chance=0.6, ceiling=0.5)
    with pytest.raises(InputError, match="variable"):
        laws.get("log-linear", variable="steps")


@pytest.mark.parametrize("metric,level", [
    ("eval/downstream/hellaswag_val_rc_5shot_len_norm", 0.25), ("arc_challenge", 0.25), ("ARC-C", 0.25),
    ("mmlu_pro", 0.1), ("MMLU", 0.25), ("csqa_val", 0.2), ("socialiqa_val", 1 / 3), ("piqa", 0.5),
    ("winogrande", 0.5), ("boolq_val_rc_5shot_acc", 0.5), ("trace_acc", None),
])
def test_chance_levels_of_common_benchmarks(metric: str, level: float | None) -> None:
    found = chance_level(metric)
    assert (found is None) if level is None else found[0] == pytest.approx(level)
