"""``--law auto --metric``: accuracy laws chosen by backtest within a family, with their own error in the interval."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from scalelaw.errors import FitWarning, InputError, UntrustedFitError
from scalelaw.selection.metric_auto import PRIOR, candidates, accuracy_view, fit_metric_auto, lengths_vary, with_prior

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fit"))
from metric_data import HELLASWAG, family, family_truth  # noqa: E402


def test_five_sizes_are_backtested_and_the_interval_holds_the_truth() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_metric_auto(family(), HELLASWAG, bootstrap=20, ci_level=0.9)
    selection = fit.selection
    assert selection["unit"] == "accuracy" and selection["chance"] == 0.25
    assert selection["chosen"] in {"log-linear(params)", "chance-sigmoid(params)"}
    assert len(selection["folds"]) >= 2 and all(c["final_error"] is not None for c in selection["candidates"])
    assert fit.calibration is not None and fit.calibration.runs >= 2 and fit.calibration.slope > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = fit.predict(params=4.0e9, tokens=3e11)
    truth = family_truth(4.0e9)
    assert p.lo[0] <= truth <= p.hi[0] and abs(p.loss[0] - truth) < 0.03


def test_compute_and_tokens_laws_are_left_out_when_tokens_do_not_vary_apart_from_size() -> None:
    usable, skipped = candidates(accuracy_view(family(), HELLASWAG))
    assert [label for label, _ in usable] == ["log-linear(params)", "chance-sigmoid(params)"]
    assert "compute says what size says" in skipped["log-linear(flops)"]
    assert lengths_vary(np.array([1e8, 1e8, 1e9]), np.array([2e9, 4e10, 2e10]))
    assert not lengths_vary(np.array([1e8, 1e9, 1e10]), np.array([2e9, 2e10, 2e11]))  # 20 tokens per parameter


def test_three_sizes_fall_back_to_the_line_with_the_prior_and_say_so() -> None:
    runs = family(sizes=(1.6e8, 4.1e8, 1.0e9))
    with pytest.warns(FitWarning, match="too little data for a backtest"):
        fit = fit_metric_auto(runs, HELLASWAG, bootstrap=0)
    assert fit.law.name == "log-linear" and fit.calibration == PRIOR
    with pytest.warns(FitWarning, match="a guess, not a measurement"):
        p = fit.predict(params=1.2e10, tokens=3e11)
    assert p.hi[0] - p.lo[0] > 0.05  # 1.08 decades out: the prior's 5 points per decade, both sides
    with pytest.raises(UntrustedFitError, match="too little data"):
        fit_metric_auto(runs, HELLASWAG, bootstrap=0, strict=True)


def test_forecasts_far_beyond_the_backtests_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_metric_auto(family(), HELLASWAG, bootstrap=0)
    with pytest.warns(FitWarning, match="backtests tested the law only up to"):
        fit.predict(params=6.6e10, tokens=3e11)  # 24x beyond the largest size


def test_a_task_still_at_chance_is_refused_not_extrapolated() -> None:
    runs = family(slope=0.0, midpoint=9.6, noise=0.01, seed=3)  # flat at 0.625 plus noise: no rising trend
    runs.table[HELLASWAG] = [0.27, 0.25, 0.26, 0.24, 0.25]
    with pytest.raises(InputError, match="does not rise with scale"):
        fit_metric_auto(runs, HELLASWAG)


def test_the_prior_counts_as_one_held_out_run() -> None:
    measured = PRIOR.__class__(slope=0.01, dof=5, tested_decades=0.3, bias=0.0, runs=3, points=3, folds=2, floor=0.0)
    blended = with_prior(measured)
    assert blended.slope == pytest.approx(np.sqrt((0.05**2 + 3 * 0.01**2) / 4))
    assert blended.tested_decades == 0.3 and blended.dof == 5 and with_prior(None) == PRIOR


def test_calibrated_step_1_carries_its_backtested_error_into_the_two_step_interval() -> None:
    from metric_data import ACC, BPB, ladder

    from scalelaw.fit.two_step import fit_two_step
    from scalelaw.selection.metric_auto import calibrate_two_step

    runs = ladder(checkpoints=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = fit_two_step(runs, ACC, BPB, bootstrap=10)
        calibrated = calibrate_two_step(plain, runs, bootstrap=10)
        a, b = plain.predict(params=6.4e9, tokens=1.3e11), calibrated.predict(params=6.4e9, tokens=1.3e11)
    assert plain.step1.calibration is None and calibrated.step1.calibration is not None
    assert calibrated.step1.options["metric"] == BPB and calibrated.step2 is plain.step2
    assert b.via_hi[0] - b.via_lo[0] > a.via_hi[0] - a.via_lo[0]
    assert b.value[0] == pytest.approx(a.value[0], abs=0.01)
