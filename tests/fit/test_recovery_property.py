"""Property: on exact or nearly exact data the engine recovers any reasonable parameter set."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelaw.data.runs import RunSet
from scalelaw.fit import fit_law


def _runs(columns: dict[str, np.ndarray], loss: np.ndarray) -> RunSet:
    n = loss.size
    return RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(n)], **columns, "loss": loss}))


@settings(max_examples=12, deadline=None)
@given(
    e=st.floats(1.0, 3.0),
    ratio=st.floats(0.3, 5.0),
    alpha=st.floats(0.05, 0.5),
    noise=st.sampled_from([0.0, 1e-4]),
)
def test_power_law_parameters_are_recovered(e: float, ratio: float, alpha: float, noise: float) -> None:
    # ratio = the power-law term over E at the smallest x, so that both are visible in the data.
    x = np.logspace(17, 22, 16)
    a = ratio * e * x[0] ** alpha
    rng = np.random.default_rng(0)
    loss = (e + a * x**-alpha) * np.exp(rng.normal(0, noise, x.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_law(_runs({"flops": x}, loss), "power", law_options={"variable": "flops"})
    tolerance = 1e-5 if noise == 0 else 0.05
    assert fit.params["E"] == pytest.approx(e, rel=tolerance)
    assert fit.params["alpha"] == pytest.approx(alpha, rel=tolerance * 2)


@settings(max_examples=5, deadline=None)
@given(
    alpha_n=st.floats(0.05, 0.3),
    alpha_d=st.floats(0.05, 0.3),
    log_dc=st.floats(22.0, 30.0),
    balance=st.floats(0.3, 3.0),
)
def test_kaplan_parameters_are_recovered_on_exact_data(alpha_n: float, alpha_d: float, log_dc: float, balance: float) -> None:
    # N_c is chosen so that the two terms are within a factor `balance` of each other mid-range:
    # otherwise one term is invisible and its constants are not identifiable.
    rng = np.random.default_rng(1)
    n, d = 10 ** rng.uniform(7, 10, 40), 10 ** rng.uniform(9, 12, 40)
    y_mid = np.exp(log_dc) / np.median(d)
    log_nc = np.log(np.median(n)) + alpha_d / alpha_n * np.log(balance * y_mid)
    loss = ((np.exp(log_nc) / n) ** (alpha_n / alpha_d) + np.exp(log_dc) / d) ** alpha_d
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_law(_runs({"params": n, "tokens": d}, loss), "kaplan")
    assert fit.params["alpha_N"] == pytest.approx(alpha_n, rel=1e-3)
    assert fit.params["alpha_D"] == pytest.approx(alpha_d, rel=1e-3)
    assert np.log(fit.params["N_c"]) == pytest.approx(log_nc, rel=1e-3)
    assert np.log(fit.params["D_c"]) == pytest.approx(log_dc, rel=1e-3)
