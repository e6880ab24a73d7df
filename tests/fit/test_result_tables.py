"""Results that read like statsmodels (issue 21, item 7): summary(), _repr_html_, DataFrames, predict(df), a short repr."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.fit import FitResult, Prediction
from scalelaw.fit.law_error import ExtrapolationError

POINTS = pd.DataFrame({"params": [1e8, 1e9, 3e9], "tokens": [2e9, 2e10, 6e10]})


def test_predict_takes_a_dataframe_a_runset_or_keywords_and_agrees(chinchilla_fit: FitResult,
                                                                   chinchilla_data: RunSet) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_table = chinchilla_fit.predict(POINTS)
        from_keywords = chinchilla_fit.predict(params=POINTS["params"].to_numpy(), tokens=POINTS["tokens"].to_numpy())
        from_mapping = chinchilla_fit.predict({"params": [1e8, 1e9, 3e9], "tokens": [2e9, 2e10, 6e10]})
    for other in (from_keywords, from_mapping):
        np.testing.assert_array_equal(from_table.loss, other.loss)
        np.testing.assert_array_equal(from_table.lo, other.lo)
    theta = chinchilla_fit.theta
    expected = theta[0] + theta[1] * POINTS["params"] ** -theta[3] + theta[2] * POINTS["tokens"] ** -theta[4]
    np.testing.assert_allclose(from_table.loss, expected, rtol=1e-12)

    runs = chinchilla_fit.predict(chinchilla_data)
    frame = chinchilla_fit.predict_runs(chinchilla_data)
    np.testing.assert_array_equal(runs.loss, frame["loss"].to_numpy())
    np.testing.assert_array_equal(runs.run, frame["run"].to_numpy())


def test_predict_refuses_a_table_without_the_law_inputs_or_with_keywords_too(chinchilla_fit: FitResult) -> None:
    with pytest.raises(InputError, match="lacks the column.*tokens"):
        chinchilla_fit.predict(POINTS[["params"]])
    with pytest.raises(InputError, match="not both"):
        chinchilla_fit.predict(POINTS, params=1e9)
    with pytest.raises(InputError, match="DataFrame"):
        chinchilla_fit.predict([1e9, 2e10])  # type: ignore[arg-type]


def test_prediction_to_dataframe_holds_inputs_and_numbers(chinchilla_fit: FitResult) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prediction = chinchilla_fit.predict(params=[1e9, 1e13], tokens=[2e10, 1e14])
    frame = prediction.to_dataframe()
    assert list(frame["params"]) == [1e9, 1e13] and list(frame["tokens"]) == [2e10, 1e14]
    np.testing.assert_array_equal(frame["loss"], prediction.loss)
    np.testing.assert_array_equal(frame["hi"], prediction.hi)
    assert frame["decades_beyond"].iloc[0] == 0 and frame["decades_beyond_params"].iloc[1] == pytest.approx(3.0, abs=0.01)
    assert "run" not in frame


def test_to_dataframe_lists_parameters_with_intervals_once(chinchilla_fit: FitResult) -> None:
    frame = chinchilla_fit.to_dataframe()
    assert list(frame.index[:5]) == ["E", "A", "B", "alpha", "beta"] and frame.index.is_unique
    assert frame.loc["alpha", "value"] == chinchilla_fit.params["alpha"]
    assert (frame.loc["alpha", "lo"], frame.loc["alpha", "hi"]) == chinchilla_fit.ci["alpha"]
    assert frame.loc["a", "kind"] == "derived" and frame.loc["E", "kind"] == "fitted"
    assert frame.loc["E", "meaning"] == "irreducible loss"
    assert (frame["lo"] <= frame["value"]).all() and (frame["value"] <= frame["hi"]).all()


def test_summary_is_a_text_table_of_everything_that_matters(chinchilla_fit: FitResult) -> None:
    calibrated = FitResult(**{**chinchilla_fit.__dict__, "calibration": ExtrapolationError(
        slope=0.01, dof=5, tested_decades=0.5, bias=0.0, runs=6, points=60, folds=2, floor=0.002)})
    text = calibrated.summary()
    lines = text.splitlines()
    assert max(map(len, lines)) <= 78
    assert "L(N, D) = E + A/N^alpha + B/D^beta" in text and "120 points from 120 runs" in text
    alpha = next(line for line in lines if line.startswith("alpha "))
    lo, hi = chinchilla_fit.ci["alpha"]
    assert alpha.split()[1:4] == [f"{chinchilla_fit.params['alpha']:.4g}", f"{lo:.4g}", f"{hi:.4g}"]
    assert "lo [2.5%]" in text and "bootstrap of 40 replicates" in text
    assert "Diagnostics:" in text and "condition number" in text
    assert "0.20% on a new run inside the fitted range" in " ".join(text.split())  # the calibration's sentence
    assert "none: intervals leave out" in chinchilla_fit.summary()


def test_repr_is_short_and_html_is_escaped(chinchilla_fit: FitResult) -> None:
    text = repr(chinchilla_fit)
    assert text.startswith("FitResult(law='chinchilla', params={E=") and "object at 0x" not in text
    assert len(text) < 200 and "converged=True" in text and "n_points=120" in text
    from scalelaw.laws import get

    assert repr(chinchilla_fit.law) == "chinchilla" and repr(get("power", variable="flops")) == "power(variable='flops')"
    hostile = FitResult(**{**chinchilla_fit.__dict__, "selection": {"chosen": "<script>alert(1)</script>",
                                                                      "reason": "a & b"}})
    page = hostile._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page and "a &amp; b" in page
    assert "<td>alpha</td>" in page
    prediction = chinchilla_fit.predict(params=1e9, tokens=2e10)
    assert isinstance(prediction, Prediction) and repr(prediction).startswith("Prediction(n=1, loss=[")


def test_a_curve_prediction_frame_shows_runs_and_steps_not_the_law_internals() -> None:
    from law_data import curve_runs

    from scalelaw.fit import fit_law

    runs = curve_runs(0, False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_law(runs, "lr-annealing", progress=False)
        frame = fit.predict(runs).to_dataframe()
        ahead = fit.predict(schedule="cosine:peak=1e-3,warmup=20,total=800,final=1e-4", steps=[100, 800]).to_dataframe()
    assert {"run", "step", "loss", "lo", "hi", "decades_beyond"} <= set(frame.columns)
    assert set(frame.columns) - {"run", "step", "params", "loss", "lo", "hi"} == {
        c for c in frame.columns if c.startswith("decades_beyond")}
    assert len(frame) == fit.diagnostics.n_points and list(ahead["step"]) == [100.0, 800.0]  # after the warmup
    np.testing.assert_allclose(frame["loss"], fit.predict_runs(runs)["loss"])


def test_the_loss_source_is_named_only_when_it_says_something() -> None:
    from types import SimpleNamespace

    from scalelaw.fit.tables import loss_source_text

    def fit(**options: object) -> object:
        return SimpleNamespace(options=options)

    assert loss_source_text(fit(loss_source=["eval/loss"])) == "eval/loss"
    assert loss_source_text(fit(loss_source=["loss"])) is None  # a column named loss: nothing to add
    assert loss_source_text(fit(loss_source=["eval/loss"], metric="acc")) is None  # a fit of another metric
    assert loss_source_text(fit()) is None
