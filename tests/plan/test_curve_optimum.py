"""The compute-optimal size of a curve law: the lowest complete run along an isoFLOP line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from scalelaw import laws
from scalelaw.cli.main import run
from scalelaw.laws.base import Law
from scalelaw.plan.compute import compute_optimal
from scalelaw.plan.curve_optimum import _final_design, curve_optimum
from scalelaw.plan.flops import STANDARD

#: A chinchilla-curve law as fitted to the OLMo ladder (its recipe: batch and warmup growing with N, cosine to 0.1).
FAMILY = {"batch0": 3.63e5, "batch_exp": 0.596, "warmup0": 1e8, "warmup_exp": 1.0, "final": 0.1}
PARAMS = {"E": 1.2, "A": 28.1, "alpha": 0.14, "B": 5504.0, "beta": 0.451, "D": 0.2, "delta": -0.129,
          "kappa": 13.1, "rho": 5.0, "gamma": 1.5, "epsilon": 0.345}


@dataclass(frozen=True)
class Fitted:
    law: Law
    params: dict[str, float]
    bootstrap_params: np.ndarray | None = None


@pytest.fixture(scope="module")
def fitted() -> Fitted:
    law = laws.get("chinchilla-curve", family=FAMILY, sized_data=True)
    return Fitted(law, PARAMS)


def _theta(fitted: Fitted, **changes: float) -> np.ndarray:
    return np.array([[{**fitted.params, **changes}[name] for name in fitted.law.param_names]])


def test_the_optimum_is_the_lowest_complete_run_on_a_dense_grid(fitted: Fitted) -> None:
    flops = 1e21
    n_star, d_star, ratio, loss = curve_optimum(fitted, _theta(fitted), flops, STANDARD)[0]
    assert d_star == pytest.approx(flops / (6 * n_star)) and ratio == pytest.approx(d_star / n_star)
    dense = np.geomspace(n_star / 2, n_star * 2, 61)  # brute force: every run on the line, 0.01 decade apart
    losses = [float(fitted.law.predict(_theta(fitted), _final_design(fitted, n, flops / (6 * n)))[0, -1]) for n in dense]
    best = int(np.argmin(losses))
    assert 0 < best < dense.size - 1  # the search's answer lies inside the dense grid's basin
    assert abs(np.log10(n_star / dense[best])) <= 0.011
    assert loss == pytest.approx(min(losses), abs=2e-5)


def test_each_parameter_vector_gets_its_own_optimum(fitted: Fitted) -> None:
    """A larger size term (twice A) makes bigger models pay more: the optimum moves to larger N."""
    thetas = np.vstack([_theta(fitted), _theta(fitted, A=2 * fitted.params["A"])])
    both = curve_optimum(fitted, thetas, 1e21, STANDARD)
    alone = curve_optimum(fitted, thetas[1:], 1e21, STANDARD)
    assert both[1, 0] > 1.2 * both[0, 0]
    np.testing.assert_allclose(both[1], alone[0], rtol=1e-9)


def test_compute_optimal_has_intervals_from_the_draws(fitted: Fitted) -> None:
    draws = np.vstack([_theta(fitted, A=a)[0] for a in (22.0, 25.0, 28.1, 31.0, 34.0)])
    answer = compute_optimal(Fitted(fitted.law, fitted.params, draws), flops=1e21, level=0.9)
    params = answer.values["params"]
    assert params.low < params.value < params.high


def test_plan_compute_and_target_on_a_fit_of_curves_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`plan target` at the loss `plan compute` gives for a budget finds that budget and its size again."""
    fit = tmp_path / "fit.json"
    fit.write_text(json.dumps({"law": "chinchilla-curve", "law_options": {"family": FAMILY, "sized_data": True},
                               "params": PARAMS, "fitted_range": {"params": [1.9e8, 1.3e9], "tokens": [3.9e8, 2.6e11]}}))
    assert run(["plan", "compute", str(fit), "--flops", "3e21", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["values"]
    assert 1e9 < out["params"]["value"] < 1e10 and 10 < out["tokens_per_param"]["value"] < 100
    assert run(["plan", "target", str(fit), "--loss", str(out["loss"]["value"]), "--json"]) == 0
    back = json.loads(capsys.readouterr().out)["values"]
    assert back["flops"]["value"] == pytest.approx(3e21, rel=0.02)
    assert back["params"]["value"] == pytest.approx(out["params"]["value"], rel=0.03)
