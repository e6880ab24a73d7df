"""The law's error against distance that `plan next` credits a nearer run with (scalelaw.plan.drift)."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

import scalelaw
from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.fit.result import FitResult
from scalelaw.plan.drift import estimate, fold_points, from_error
from scalelaw.plan.ladder_design import Target
from scalelaw.plan.next_run import Candidate, rank_candidates
from scalelaw.selection.calibration import LOSS_PRIOR

PRIOR_PER_DECADE = from_error(LOSS_PRIOR).per_decade
NOISE = 0.004
#: Held-out runs per fold: 16 at each of three distances tell a slope of 4.5e-4 per decade from none (a squared
#: error is a noisy measure: a few runs leave the slope to the prior).
RUNS = 16
#: Backtest log errors by distance (decades): growing from the runs' scatter to 1.7% at 0.6 decades, or flat at 1%.
GROWING = {0.0: [0.004, -0.004] * (RUNS // 2), 0.3: [0.012, -0.012] * (RUNS // 2), 0.6: [0.017, -0.017] * (RUNS // 2)}
FLAT = {0.0: [0.01, -0.01] * (RUNS // 2), 0.3: [0.01, -0.01] * (RUNS // 2), 0.6: [-0.01, 0.01] * (RUNS // 2)}


def _folds(errors_at: dict[float, list[float]]) -> list[tuple[float, list[float]]]:
    return [(d, e) for d, e in errors_at.items()]


def test_growing_errors_give_a_slope_flat_errors_none_one_distance_the_prior() -> None:
    growing, flat = (estimate(_folds(e), NOISE, LOSS_PRIOR) for e in (GROWING, FLAT))
    single = estimate(_folds({0.3: [0.01, -0.01, 0.01, -0.01]}), NOISE, LOSS_PRIOR)
    # (1.7%² - 0.4%²) - (0.4%² - 0.4%²) over 0.6 decades: 4.5e-4 per decade; the prior (1e-4, one run) pulls it down
    assert 2 * PRIOR_PER_DECADE < growing.per_decade < 4.5e-4 and growing.distances == 3
    assert flat.per_decade < 0.5 * PRIOR_PER_DECADE  # several distances, no growth: little credit, the prior's rest
    assert flat.floor_var == pytest.approx(0.01**2 - NOISE**2, rel=0.3)
    assert single.per_decade == pytest.approx(PRIOR_PER_DECADE)  # one distance cannot tell the slope
    assert float(single.sd(np.array([0.3]))[0]) == pytest.approx(math.sqrt(0.01**2 - NOISE**2), rel=1e-6)
    assert estimate([], NOISE, LOSS_PRIOR).per_decade == PRIOR_PER_DECADE


def test_malformed_fold_records_give_no_points() -> None:
    good = {"label": "chinchilla", "folds": [{"decades": 0.3, "final_errors": [0.01, -0.02]}]}
    assert fold_points({"chosen": "chinchilla", "candidates": [good]}) == [
        (0.3, pytest.approx([-math.log1p(0.01), -math.log1p(-0.02)]))]
    hostile = [None, "x", {"chosen": "chinchilla", "candidates": "x"},
               {"chosen": "chinchilla", "candidates": [{"label": "chinchilla", "folds": [
                   {"decades": "0.3", "final_errors": [0.01]}, {"decades": float("nan"), "final_errors": [0.01]},
                   {"decades": -1.0, "final_errors": [0.01]}, {"decades": True, "final_errors": [0.01]},
                   {"decades": 0.3, "final_errors": [float("inf"), 5.0, "a", None]}, {"decades": 0.3}, 7]}]},
               {"chosen": "other", "candidates": [good]}]
    assert all(fold_points(s) == [] for s in hostile)


@pytest.fixture(scope="module")
def fit() -> FitResult:
    rng = np.random.default_rng(0)
    n = np.repeat(np.geomspace(1e7, 3e8, 4), 3)
    d = n * np.tile([10.0, 20.0, 40.0], 4)
    loss = 1.7 + 400.0 / n**0.34 + 410.0 / d**0.28
    runs = pd.DataFrame({"run": [f"r{i}" for i in range(n.size)], "params": n, "tokens": d,
                         "loss": loss * np.exp(NOISE * rng.standard_normal(n.size))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scalelaw.fit(runs, law="chinchilla", bootstrap=30, seed=0)


def _with_folds(fit: FitResult, errors_at: dict[float, list[float]], stretch: float) -> FitResult:
    """``fit`` with a calibration and backtest folds at ``stretch`` times the distances of ``errors_at``."""
    folds = [{"fold": f"f{i}", "inside": d == 0, "decades": stretch * d,
              "final_errors": [math.expm1(-e) for e in errors]} for i, (d, errors) in enumerate(errors_at.items())]
    calibration = ExtrapolationError(slope=0.01, dof=8, tested_decades=0.6, bias=0.0, runs=9, points=9, folds=3,
                                     floor=0.004)
    return replace(fit, calibration=calibration,
                   selection={"chosen": "chinchilla", "candidates": [{"label": "chinchilla", "folds": folds}]})


def test_a_nearer_candidate_gets_credit_only_when_backtests_show_growth(fit: FitResult) -> None:
    target = Target(3e9, 6e10)
    near = Candidate("near", 1e9, 2e10, 6 * 1e9 * 2e10, 1)  # brings the data from 1.7 to 0.95 decades (in compute)
    inside = Candidate("inside", 1e8, 2e9, 6 * 1e8 * 2e9, 2)  # inside the fitted range: no nearer
    # folds out to 1.8 decades: the target (1.7 decades beyond the runs) lies within the tested distance
    growing, flat = (rank_candidates(_with_folds(fit, e, 3.0), target, [near, inside], noise=NOISE)
                     for e in (GROWING, FLAT))
    g, f = ({r.candidate.label: r for r in a.ranked} for a in (growing, flat))
    assert g["near"].decades == pytest.approx(math.log10(target.flops / near.flops))
    assert g["near"].law_sd < 0.8 * growing.law_sd  # nearness shrinks the law's error ...
    assert g["inside"].law_sd == pytest.approx(growing.law_sd)  # ... a run inside the range does not
    # flat backtests: the credit for nearness is what is left of the prior slope, well under half the growing one
    assert 1 - f["near"].law_sd / flat.law_sd < 0.5 * (1 - g["near"].law_sd / growing.law_sd)
    assert g["near"].shrink - g["inside"].shrink > f["near"].shrink - f["inside"].shrink + 0.05
    z = NormalDist().inv_cdf(0.975)
    for answer in (growing, flat):  # the interval is its parts, now and after every candidate
        assert answer.half_width == pytest.approx(z * math.hypot(answer.parameter_sd, NOISE, answer.law_sd))
        for r in answer.ranked:
            assert r.half_width == pytest.approx(z * math.hypot(r.parameter_sd, NOISE, r.law_sd))
            assert r.parameter_sd <= answer.parameter_sd + 1e-12


def test_an_error_model_without_folds_keeps_its_own_shape() -> None:
    measured = ExtrapolationError(slope=0.0146, dof=9, tested_decades=0.62, bias=0.0, runs=17, points=17, floor=0.003)
    d = np.array([0.0, 0.3, 0.62, 1.0, 2.0])
    for error in (measured, LOSS_PRIOR):  # inside and beyond the tested distance, and with none tested
        assert from_error(error).sd(d) == pytest.approx(error.sd(d), rel=1e-12)
    beyond = estimate(_folds(GROWING), NOISE, LOSS_PRIOR)
    assert beyond.tested == 0.6  # beyond the farthest fold the variance grows with d², as the calibrated forecast's
    linear = beyond.floor_var + beyond.per_decade * 1.2
    assert float(beyond.sd(np.array([1.2]))[0]) ** 2 == pytest.approx(linear + beyond.per_decade * 1.2)


def test_a_candidate_beyond_the_data_extends_the_tested_reach(fit: FitResult) -> None:
    target = Target(3e9, 6e10)
    near = Candidate("near", 1e9, 2e10, 6 * 1e9 * 2e10, 1)
    answer = rank_candidates(_with_folds(fit, GROWING, 1.0), target, [near], noise=NOISE)  # folds reach 0.6 decades
    after, drift = answer.ranked[0], answer.drift
    own = math.log10(near.flops / (6 * 3e8 * 1.2e10))  # 0.74 decades beyond the largest fitted compute
    # refitted, the backtests hold the candidate out 0.74 decades beyond the rest: the error is measured that far
    assert drift is not None and drift.tested == pytest.approx(0.6)
    assert after.law_sd == pytest.approx(float(replace(drift, tested=own).sd(np.array([after.decades]))[0]))
    assert after.law_sd < float(drift.sd(np.array([after.decades]))[0])
