"""Step-by-step estimation recovers known constants; answers 1-4 agree with the law; refits with fixed exponents."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scalelaw
from scalelaw.errors import InputError
from scalelaw.laws import kaplan_steps as ks
from scalelaw.plan import answers
from scalelaw.plan.unraveling import StepwiseFit, fit_stepwise, simulate_runs

TRUTH = ks.KAPLAN_2020
THETA = np.array([[TRUTH[p] for p in TRUTH]])
SIZES = np.geomspace(1e6, 6e7, 4)
BATCHES = 2.0 ** np.arange(16, 25, 2)
STEPS = np.unique(np.geomspace(10, 1e5, 30).round())


@pytest.fixture(scope="module")
def stepwise() -> StepwiseFit:
    runs = simulate_runs(TRUTH, sizes=SIZES, batches=BATCHES, steps=STEPS, noise=0.003, seed=1)
    return fit_stepwise(runs, bootstrap=5, seed=0)


def test_stepwise_recovers_the_constants(stepwise: StepwiseFit) -> None:
    p = stepwise.params
    assert p["alpha_N"] == pytest.approx(0.076, rel=0.03)
    assert p["alpha_S"] == pytest.approx(0.76, rel=0.01)
    assert p["S_c"] == pytest.approx(2.1e3, rel=0.03)
    assert p["alpha_B"] == pytest.approx(0.21, rel=0.1)
    # B* is B_crit extrapolated to loss 1; check B_crit where the runs are instead.
    fitted = np.array([[p[k] for k in TRUTH]])
    assert ks.critical_batch(fitted, np.array([3.5]))[0, 0] == pytest.approx(ks.critical_batch(THETA, np.array([3.5]))[0, 0], rel=0.25)
    assert stepwise.bootstrap_params.shape == (5, 6)
    # B_crit from the fixed-loss regressions follows the true B*/L^(1/α_B).
    truth = ks.critical_batch(THETA, stepwise.critical["loss"].to_numpy())[0]
    assert np.median(np.abs(np.log(stepwise.critical["B_crit"].to_numpy() / truth))) < 0.2


def test_stepwise_is_deterministic_and_round_trips(stepwise: StepwiseFit) -> None:
    runs = simulate_runs(TRUTH, sizes=SIZES, batches=BATCHES, steps=STEPS, noise=0.003, seed=1)
    again = fit_stepwise(runs, bootstrap=5, seed=0)
    assert again.params == stepwise.params
    np.testing.assert_array_equal(again.bootstrap_params, stepwise.bootstrap_params)
    loaded = StepwiseFit.from_dict(stepwise.to_dict(), source="x.json")
    assert loaded.params == stepwise.params and loaded.fitted_range == stepwise.fitted_range


def test_answers_match_the_law_at_the_point_estimate(stepwise: StepwiseFit) -> None:
    theta = np.array([[stepwise.params[p] for p in TRUTH]])
    low_loss = answers.minimum_loss(stepwise, params=1e9)
    assert low_loss.values["min_loss"].value == pytest.approx(ks.converged_loss(theta, np.array([1e9]))[0, 0])
    assert low_loss.warnings and "1.2 decades" in low_loss.warnings[0]
    reach = answers.minimum_steps_and_tokens(stepwise, params=1e8, loss=3.0).values
    b_crit = answers.critical_batch_size(stepwise, loss=3.0).values["B_crit"]
    assert reach["E_min"].value == pytest.approx(reach["S_min"].value * b_crit.value)
    # Training at B for S_min·(1 + B_crit/B) steps lands on the target loss (answer 3 and 4 agree).
    row = answers.batch_tradeoff(stepwise, params=1e8, loss=3.0, batches=np.array([2.0**20]))[0]
    curve, _ = answers.trajectory(stepwise, params=1e8, batch_size=2.0**20, steps=np.array([row["steps"].value]))
    assert curve[0].value == pytest.approx(3.0, rel=1e-9)
    smallest = answers.smallest_model(stepwise, loss=3.0).values["min_params"].value
    assert answers.minimum_loss(stepwise, params=smallest).values["min_loss"].value == pytest.approx(3.0)
    for estimate in (*reach.values(), b_crit, curve[0]):
        assert estimate.low <= estimate.value * 1.05 and estimate.high >= estimate.value * 0.95


def test_unreachable_target_warns(stepwise: StepwiseFit) -> None:
    answer = answers.minimum_steps_and_tokens(stepwise, params=1e6, loss=2.0)
    assert np.isinf(answer.values["S_min"].value) and any("unreachable" in w for w in answer.warnings)


def test_stepwise_needs_several_batch_sizes() -> None:
    runs = simulate_runs(TRUTH, sizes=SIZES, batches=BATCHES[:2], steps=STEPS, noise=0.003, seed=1)
    with pytest.raises(InputError, match="three or more batch sizes"):
        fit_stepwise(runs, bootstrap=0)


def test_engine_refits_coefficients_with_exponents_held() -> None:
    # A new setup: same exponents, different coefficients (Su et al.'s finding).
    new = dict(TRUTH, N_c=3e13, S_c=5e3, B_star=5e8)
    runs = simulate_runs(new, sizes=SIZES[:3], batches=BATCHES[::2], steps=STEPS[::2], noise=0.002, seed=2)
    held = {k: TRUTH[k] for k in ("alpha_N", "alpha_S", "alpha_B")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = scalelaw.fit(runs, law="kaplan-steps", fix=held, objective="squares")
    for name in ("N_c", "S_c", "B_star"):
        assert fit.params[name] == pytest.approx(new[name], rel=0.15), name
    assert all(fit.params[k] == v for k, v in held.items())
