"""Fitting any metric: direction-aware laws, RunSet.target, and two-step forecasts with intervals."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from scalelaw.errors import InputError
from scalelaw.fit import load_fit
from scalelaw.fit.metric_fit import fit_metric, metric_rises
from scalelaw.fit.two_step import TwoStepFit, fit_two_step
from metric_data import ACC, BPB, ladder, true_accuracy, true_bpb


@pytest.fixture(scope="module")
def runs():
    return ladder()


def test_target_moves_the_metric_into_the_loss_slot_and_keeps_the_loss(runs) -> None:
    view = runs.target(ACC)
    assert np.allclose(view.table["loss"], runs.table[ACC])
    assert np.allclose(view.table["orig_loss"], runs.table["loss"])
    smooth = runs.target(ACC, window=3).curve(runs.runs[0])["loss"].to_numpy()
    raw = runs.curve(runs.runs[0])[ACC].to_numpy()
    assert smooth[-1] == pytest.approx(raw[-3:].mean()) and smooth[0] == pytest.approx(raw[0])


def test_target_refuses_unknown_and_text_columns(runs) -> None:
    with pytest.raises(InputError, match="no column 'nope'"):
        runs.target("nope")
    with pytest.raises(InputError, match="not numeric"):
        runs.target("run")


def test_direction_is_read_from_the_data(runs) -> None:
    assert metric_rises(runs.target(ACC)) is True
    assert metric_rises(runs.target(BPB)) is False


def test_a_loss_law_is_refused_for_a_rising_metric(runs) -> None:
    with pytest.raises(InputError, match="rises with scale"):
        fit_metric(runs, ACC, law="chinchilla")


def test_two_step_forecast_recovers_the_truth_and_carries_both_steps(runs) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_two_step(runs, ACC, BPB, bootstrap=30, seed=1, ci_level=0.9)
        one_step = fit_two_step(runs, ACC, BPB, bootstrap=0, ci_level=0.9)
        point = dict(params=1.3e9, tokens=2.6e10)
        wide = fit.predict(level=0.9, **point)
        narrow = one_step.predict(level=0.9, **point)
    truth = true_accuracy(true_bpb(np.array([1.3e9]), np.array([2.6e10])))[0]
    assert abs(wide.value[0] - truth) < 0.01
    assert wide.lo[0] < wide.value[0] < wide.hi[0]
    # the bootstrap adds parameter uncertainty of both steps to the residual noise
    assert wide.hi[0] - wide.lo[0] > narrow.hi[0] - narrow.lo[0]
    assert fit.step2.law.name == "sigmoid" and fit.step1.options["metric"] == BPB


def test_two_step_says_when_step_two_extrapolates(runs) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_two_step(runs, ACC, BPB)
    with pytest.warns(Warning, match="step 2 extrapolates"):
        far = fit.predict(params=1e11, tokens=2e12)
    assert far.beyond_seen[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inside = fit.predict(params=4e8, tokens=8e9)
    assert not inside.beyond_seen[0]


def test_two_step_fit_round_trips_through_fit_json(runs, tmp_path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_two_step(runs, ACC, BPB, bootstrap=10)
        path = tmp_path / "fit.json"
        fit.save(path)
        again = load_fit(path)
        assert isinstance(again, TwoStepFit) and again.metric == ACC and again.via == BPB
        a, b = fit.predict(params=8e8, tokens=1.6e10), again.predict(params=8e8, tokens=1.6e10)
    assert a.value == pytest.approx(b.value) and a.lo == pytest.approx(b.lo) and a.hi == pytest.approx(b.hi)
    data = json.loads(path.read_text())
    data["via_range"] = [2.0, 1.0]
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="via_range"):
        load_fit(path)


def test_one_step_accuracy_fit_uses_the_law_for_rising_metrics(runs) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_metric(runs, ACC)
    assert fit.law.name == "sigmoid-chinchilla" and fit.options["metric"] == ACC and fit.options["window"] == 5
    truth = true_accuracy(true_bpb(np.array([8e8]), np.array([1.6e10])))[0]
    assert abs(fit.predict(params=8e8, tokens=1.6e10).loss[0] - truth) < 0.01
