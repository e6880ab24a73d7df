"""fit_law end to end: recovery, bootstrap over runs, determinism, fixed parameters, strictness."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scalelaw
from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError, UntrustedFitError
from scalelaw.fit import FitResult, fit_law
from scalelaw.fit.bootstrap import run_weights

from fit_synthetic import CHINCHILLA_TRUE, chinchilla_runs


def _power_runs(n: int = 12, noise: float = 0.0, seed: int = 0) -> RunSet:
    rng = np.random.default_rng(seed)
    x = np.logspace(17, 21, n)
    loss = (2.0 + 129.0 * x**-0.106) * np.exp(rng.normal(0, noise, n))
    return RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(n)], "flops": x, "loss": loss}))


def test_callable_module_is_fit_law(monkeypatch: pytest.MonkeyPatch) -> None:
    import scalelaw.fit.engine

    seen = {}
    monkeypatch.setattr(scalelaw.fit, "fit_law", lambda *a, **k: seen.update(args=a, kwargs=k) or "done")
    assert scalelaw.fit("runs", law="power", bootstrap=3) == "done"
    assert seen == {"args": ("runs",), "kwargs": {"law": "power", "bootstrap": 3}}
    assert scalelaw.load_fit is scalelaw.fit.load_fit and scalelaw.fit.engine.fit_law is not None


def test_chinchilla_recovers_known_parameters(chinchilla_fit: FitResult) -> None:
    fit = chinchilla_fit
    for name in ("E", "alpha", "beta"):
        assert fit.params[name] == pytest.approx(CHINCHILLA_TRUE[name], rel=0.08)
    d = fit.diagnostics
    assert d.converged and d.starts == 8 and 0 < d.starts_in_best_basin <= 8  # variable projection polishes 8
    assert d.residual_rmse == pytest.approx(0.01, rel=0.3)
    assert fit.derived["a"] == pytest.approx(fit.params["beta"] / (fit.params["alpha"] + fit.params["beta"]))


def test_sum_and_mean_reductions_reach_the_same_optimum() -> None:
    runs = _power_runs(n=40, noise=0.01, seed=5)
    total = fit_law(runs, "power", law_options={"variable": "flops"}, reduction="sum")
    mean = fit_law(runs, "power", law_options={"variable": "flops"}, reduction="mean")
    for name in total.params:
        assert total.params[name] == pytest.approx(mean.params[name], rel=1e-6)
    assert total.diagnostics.objective == pytest.approx(mean.diagnostics.objective * 40, rel=1e-9)


def test_bootstrap_is_seeded_and_covers_the_truth() -> None:
    runs = _power_runs(noise=0.003, n=20)
    a = fit_law(runs, "power", law_options={"variable": "flops"}, bootstrap=60, seed=3, progress=False)
    b = fit_law(runs, "power", law_options={"variable": "flops"}, bootstrap=60, seed=3, progress=False)
    c = fit_law(runs, "power", law_options={"variable": "flops"}, bootstrap=60, seed=4, progress=False)
    assert np.array_equal(a.bootstrap_params, b.bootstrap_params)
    assert not np.array_equal(a.bootstrap_params, c.bootstrap_params)
    assert a.bootstrap_params.shape == (60, 3)
    lo, hi = a.ci["alpha"]
    assert lo < a.params["alpha"] < hi
    assert set(a.derived_ci) == set(a.derived)


def test_bootstrap_resamples_runs_not_points() -> None:
    run_ids = np.array(["a", "a", "a", "b", "c", "c"])
    weights = run_weights(run_ids, 50, np.random.default_rng(0))
    assert weights.shape == (50, 6)
    # All points of a run share its multiplicity, and every replicate draws 3 runs.
    assert np.all(weights[:, 0] == weights[:, 2]) and np.all(weights[:, 4] == weights[:, 5])
    assert np.all(weights[:, [0, 3, 4]].sum(axis=1) == 3)


def test_fixed_parameter_is_held() -> None:
    fit = fit_law(chinchilla_runs(n=60, seed=2), "chinchilla", fix={"alpha": 0.3})
    assert fit.params["alpha"] == 0.3
    assert fit.options["fix"] == {"alpha": 0.3}
    assert fit.diagnostics.n_free == 4


def test_too_few_points_is_an_input_error() -> None:
    with pytest.raises(InputError, match="only 3 points"):
        fit_law(_power_runs(n=3), "power", law_options={"variable": "flops"})


def test_non_positive_loss_names_the_run() -> None:
    runs = _power_runs()
    runs.table.loc[4, "loss"] = -1.0
    with pytest.raises(InputError) as info:
        fit_law(runs, "power", law_options={"variable": "flops"})
    assert info.value.location.run == "r4" and info.value.location.column == "loss"


def test_missing_column_is_an_input_error() -> None:
    with pytest.raises(InputError, match="params"):
        fit_law(_power_runs(), "chinchilla")


def test_strict_refuses_a_fit_on_a_bound_and_plain_mode_warns() -> None:
    runs = _power_runs(noise=0.0)
    runs.table["loss"] = 2.0 + 0.01 * np.log10(runs.table["flops"])  # rises with compute: no power law fits
    with pytest.raises(UntrustedFitError, match="law power"):
        fit_law(runs, "power", law_options={"variable": "flops"}, strict=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_law(runs, "power", law_options={"variable": "flops"})
    assert fit.diagnostics.warnings
    assert any(issubclass(w.category, FitWarning) for w in caught)


def test_structured_residuals_are_reported() -> None:
    # A pure power law without offset fitted to data with a strong offset leaves a trend.
    runs = _power_runs(n=30)
    with pytest.warns(FitWarning):
        fit = fit_law(runs, "power", law_options={"variable": "flops"}, fix={"E": 1e-3})
    assert any("structured" in w or "correlate" in w or "bound" in w for w in fit.diagnostics.warnings)


def test_unknown_law_and_bad_options_are_input_errors(chinchilla_data: RunSet) -> None:
    with pytest.raises(InputError):
        fit_law(chinchilla_data, "no-such-law")
    with pytest.raises(InputError):
        fit_law(chinchilla_data, "chinchilla", reduction="median")
    with pytest.raises(InputError):
        fit_law(chinchilla_data, "chinchilla", ci_level=1.5)
