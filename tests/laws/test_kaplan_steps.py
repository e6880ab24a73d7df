"""The kaplan-steps law: the implicit equation is solved exactly, with the right limits and gradient."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws.base import Design
from scalelaw.laws.kaplan_steps import KAPLAN_2020, KaplanSteps, critical_batch, min_steps, min_tokens, solve_loss

LAW = KaplanSteps()
THETA = np.array([[KAPLAN_2020[p] for p in LAW.param_names]])


def _residual(theta: np.ndarray, n: np.ndarray, s: np.ndarray, b: np.ndarray, loss: np.ndarray) -> np.ndarray:
    alpha_n, n_c, alpha_s, s_c, alpha_b, b_star = theta.T[:, :, None]
    s_min = s / (1 + b_star / (b * loss ** (1 / alpha_b)))
    return loss - (n_c / n) ** alpha_n - (s_c / s_min) ** alpha_s


def _design(n: object, s: object, b: object) -> Design:
    return LAW.design_at(params=n, step=s, batch_size=b)


@settings(max_examples=60, deadline=None)
@given(
    alpha_n=st.floats(0.01, 1.0), log_nc=st.floats(5, 25), alpha_s=st.floats(0.1, 3.0), log_sc=st.floats(-2, 8),
    alpha_b=st.floats(0.05, 2.0), log_bstar=st.floats(2, 14), log_n=st.floats(5, 11), log_s=st.floats(0, 7),
    log_b=st.floats(2, 8),
)
def test_solution_is_the_unique_root(
    alpha_n: float, log_nc: float, alpha_s: float, log_sc: float, alpha_b: float, log_bstar: float,
    log_n: float, log_s: float, log_b: float,
) -> None:
    theta = np.array([[alpha_n, 10**log_nc, alpha_s, 10**log_sc, alpha_b, 10**log_bstar]])
    n, s, b = np.array([10**log_n]), np.array([10**log_s]), np.array([10**log_b])
    loss = solve_loss(theta, n, s, b)
    assert np.isfinite(loss).all() and (loss > 0).all()
    # f is increasing, so a sign change around the solution proves it is the root.
    assert _residual(theta, n, s, b, loss * (1 - 1e-9)) <= 0 <= _residual(theta, n, s, b, loss * (1 + 1e-9))


def test_limits_and_monotonicity() -> None:
    n = np.full(5, 1e7)
    floor = (KAPLAN_2020["N_c"] / 1e7) ** KAPLAN_2020["alpha_N"]
    converged = LAW.predict(THETA, _design(1e7, np.inf, 2**20))
    assert converged[0, 0] == pytest.approx(floor)
    steps = np.array([1e2, 1e3, 1e4, 1e5, 1e6])
    curve = LAW.predict(THETA, _design(n, steps, 2**20))[0]
    assert np.all(np.diff(curve) < 0) and curve[-1] > floor
    # A huge batch leaves S_min = S: L = L(N) + (S_c/S)^α_S.
    huge = LAW.predict(THETA, _design(n, steps, 1e30))[0]
    np.testing.assert_allclose(huge, floor + (KAPLAN_2020["S_c"] / steps) ** KAPLAN_2020["alpha_S"], rtol=1e-10)
    by_batch = LAW.predict(THETA, _design(1e7, 1e4, [2**14, 2**17, 2**20, 2**23]))[0]
    assert np.all(np.diff(by_batch) < 0)


def test_min_steps_and_tokens_invert_the_law() -> None:
    target = np.array([3.5])
    s_min = min_steps(THETA, np.array([1e7]), target)
    b_crit = critical_batch(THETA, target)
    assert min_tokens(THETA, np.array([1e7]), target)[0, 0] == pytest.approx(b_crit[0, 0] * s_min[0, 0])
    # At batch B the steps needed are S_min·(1 + B_crit/B): the law must give the target loss there.
    batch = 2.0**19
    steps = s_min[0, 0] * (1 + b_crit[0, 0] / batch)
    assert LAW.predict(THETA, _design(1e7, steps, batch))[0, 0] == pytest.approx(3.5, rel=1e-10)
    assert np.isinf(min_steps(THETA, np.array([1e7]), np.array([1.0]))).all()  # below L(N)


def test_analytic_jacobian_matches_finite_differences() -> None:
    design = _design([1e6, 1e7, 6e7, 1e9], [1e2, 1e4, 1e5, np.inf], [2**16, 2**19, 2**22, 2**20])
    loss, grad = LAW.jacobian(THETA, design)
    for j in range(6):
        step = THETA.copy()
        step[0, j] *= 1 + 1e-6
        numeric = (LAW.predict(step, design) - loss) / (THETA[0, j] * 1e-6)
        np.testing.assert_allclose(grad[..., j], numeric, rtol=1e-4, atol=1e-12)


def test_batched_parameters_match_one_at_a_time() -> None:
    rng = np.random.default_rng(0)
    thetas = THETA * rng.uniform(0.7, 1.4, (5, 6))
    design = _design(rng.uniform(1e6, 6e7, 50), rng.uniform(10, 1e5, 50), 2.0 ** rng.integers(14, 24, 50))
    batched = LAW.predict(thetas, design)
    for i in range(5):
        np.testing.assert_allclose(batched[i], LAW.predict(thetas[i], design)[0], rtol=1e-12)


def test_design_from_runs_skips_step_zero_and_names_bad_values() -> None:
    table = pd.DataFrame(
        {
            "run": ["a"] * 3 + ["b"] * 2,
            "step": [0.0, 10.0, 20.0, 10.0, 20.0],
            "loss": [9.0, 5.0, 4.5, 5.2, 4.6],
            "params": [1e6] * 3 + [2e6] * 2,
            "batch_size": [65536.0] * 5,
        }
    )
    design = laws.get("kaplan-steps").design(RunSet(table, {"a": "a.csv", "b": "b.csv"}))
    assert design.n == 4 and list(design.run) == ["a", "a", "b", "b"]
    table.loc[4, "batch_size"] = -1.0
    with pytest.raises(InputError, match="file b.csv, run 'b', column 'batch_size'"):
        LAW.design(RunSet(table, {"a": "a.csv", "b": "b.csv"}))
    with pytest.raises(InputError, match="batch_size"):
        LAW.design(RunSet(table.drop(columns="batch_size")))
