"""--law auto and calibrated intervals: backtests choose the law and size its extrapolation error."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError, UntrustedFitError
from scalelaw.fit import fit_law, load_fit
from scalelaw.selection.auto import fit_auto, fit_calibrated
from scalelaw.selection.calibration import estimate
from scalelaw.selection.folds import plan
from scalelaw.selection.targets import predict_targets

from selection_data import FAST, size_ladder


def test_auto_records_candidates_and_chooses_the_lowest_backtest_error(tmp_path) -> None:
    fit = fit_auto(size_ladder(), candidates=FAST, bootstrap=20)
    sel = fit.selection
    assert sel["axis"] == "params" and len(sel["folds"]) == 9
    # size (one level, then far: the largest from two and three levels below), length, then single runs inside the
    # others' range (never the longest run)
    assert [f.split()[0] for f in sel["folds"]] == ["params"] * 4 + ["tokens", "tokens", "run", "run", "run"]
    assert [f.endswith("(far)") for f in sel["folds"][:4]] == [False, False, True, True]
    assert not any("n1e+09-d40" in f for f in sel["folds"][6:])
    assert {c["label"] for c in sel["candidates"]} == set(FAST)
    scores = {c["label"]: c["decided_error"] for c in sel["candidates"] if c.get("decided_error") is not None}
    assert sel["chosen"] == min(scores, key=scores.get)  # the same number of parameters: the lowest error wins
    for c in sel["candidates"]:  # left out: blind to size or length (power in flops reads both), or screened
        assert c["label"] in scores or c["failure"].startswith(("blind to", "not backtested: its in-sample error"))
    assert sel["chosen"] == "power(variable=flops)"
    assert fit.law.name == "power" and fit.calibration is not None
    fit.save(tmp_path / "fit.json")
    again = load_fit(tmp_path / "fit.json")
    assert again.selection["chosen"] == sel["chosen"] and again.calibration == fit.calibration


def test_interval_level_orders_widths_and_extrapolation_widens() -> None:
    fit = fit_auto(size_ladder(), candidates=FAST, bootstrap=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        narrow = fit.predict(params=3e9, tokens=6e10, flops=6 * 3e9 * 6e10, level=0.5)
        wide = fit.predict(params=3e9, tokens=6e10, flops=6 * 3e9 * 6e10, level=0.9)
        far = fit.predict(params=3e10, tokens=6e11, flops=6 * 3e10 * 6e11, level=0.9)
    assert (narrow.hi - narrow.lo)[0] < (wide.hi - wide.lo)[0] < (far.hi - far.lo)[0]
    assert wide.lo[0] < wide.loss[0] < wide.hi[0]


def test_error_model_grows_with_decades_and_counts_runs() -> None:
    rng = np.random.default_rng(1)
    decades = np.repeat([0.5, 1.0], 200)
    errors = 0.02 * np.sqrt(decades) * rng.standard_normal(decades.size)
    model = estimate(errors, decades, np.arange(decades.size) % 7, np.zeros(decades.size))
    assert model is not None and 0.015 < model.slope < 0.025
    assert model.runs == 7 and model.tested_decades == 1.0 and model.folds == 1
    assert estimate(np.full(3, np.nan), decades[:3], np.zeros(3), np.zeros(3)) is None


def test_held_out_runs_inside_the_fitted_range_set_the_floor() -> None:
    rng = np.random.default_rng(3)
    runs = np.arange(400) % 20
    decades = np.where(runs < 10, 0.0, 0.4)
    errors = np.where(decades == 0, 0.01, np.sqrt(0.01**2 + 0.02**2 * 0.4 * 0.4)) * rng.standard_normal(400)
    model = estimate(errors, decades, runs, np.zeros(400))
    assert 0.007 < model.floor < 0.013 and 0.012 < model.slope < 0.03
    only_inside = estimate(errors[decades == 0], decades[decades == 0], runs[decades == 0], np.zeros(200))
    assert only_inside.slope == 0 and only_inside.floor > 0 and only_inside.untested(0.01)


def test_runs_that_miss_together_count_as_one_observation() -> None:
    rng = np.random.default_rng(2)
    runs = np.repeat(np.arange(12), 10)
    decades = np.full(runs.size, 0.3)
    shared = estimate(0.01 + 0.0005 * rng.standard_normal(runs.size), decades, runs, np.zeros(runs.size),
                      folds=np.zeros(runs.size))
    assert shared.dof == 1  # one fold, every held-out run off by the same 1%: one observation
    per_run = 0.01 * rng.standard_normal(12)[runs]
    independent = estimate(per_run, decades, runs, np.zeros(runs.size), folds=runs % 4)
    assert independent.dof >= 6 and independent.folds == 4


def test_single_run_fit_has_nonzero_parameter_intervals() -> None:
    steps = np.arange(100, 5001, 100, dtype=float)
    loss = (2.0 + 8.0 * steps**-0.4) * np.exp(np.random.default_rng(0).normal(0, 0.002, steps.size))
    runs = RunSet(pd.DataFrame({"run": "one", "step": steps, "loss": loss}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        fit = fit_law(runs, "power", law_options={"variable": "step"}, bootstrap=30)
    assert all(hi - lo > 0 for lo, hi in fit.ci.values())


def test_time_folds_cut_a_single_run_and_calibrate_the_forecast() -> None:
    steps = np.arange(100, 5001, 100, dtype=float)
    loss = (2.0 + 8.0 * steps**-0.4) * np.exp(np.random.default_rng(0).normal(0, 0.002, steps.size))
    table = pd.DataFrame({"run": "one", "step": np.arange(100, 20001, 100, dtype=float)})
    table["loss"] = np.nan
    table.loc[: steps.size - 1, "loss"] = loss
    runs = RunSet(table)
    axis, folds, _ = plan(runs)
    assert axis == "time" and len(folds) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        fit = fit_auto(runs, candidates=["power(variable=step)"], bootstrap=20)
        frame = predict_targets(fit, runs, level=0.9)
    last = frame.iloc[-1]
    assert last["step"] == 20000 and np.isnan(last["observed"])
    assert last["lo"] < last["loss"] < last["hi"]
    assert fit.calibration is not None and fit.calibration.tested_decades > 0


def test_final_targets_without_loss_give_one_row_per_run_with_null_step() -> None:
    fit = fit_auto(size_ladder(), candidates=FAST, bootstrap=10)
    targets = RunSet(pd.DataFrame({"run": ["big"], "params": [2e9], "tokens": [4e10], "loss": [np.nan]}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        frame = predict_targets(fit, targets, level=0.9)
    assert frame["run"].tolist() == ["big"] and np.isnan(frame["step"].iloc[0])
    assert frame["lo"].iloc[0] < frame["loss"].iloc[0] < frame["hi"].iloc[0]


def test_too_little_data_falls_back_with_a_warning_and_strict_refuses() -> None:
    runs = RunSet(pd.DataFrame({"run": list("abcd"), "params": [1e7, 1e7, 1e7, 1e7],
                                "tokens": [1e9, 2e9, 4e9, 8e9], "loss": [3.0, 2.9, 2.8, 2.75]}))
    with pytest.warns(FitWarning, match="too little data for a backtest"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "law power: only", FitWarning)
        fit = fit_auto(runs, candidates=["power(variable=tokens)"], bootstrap=5, by="params")
    assert fit.calibration is None and "fell back" in fit.selection["reason"]
    with pytest.raises(UntrustedFitError, match="too little data"):
        fit_auto(runs, candidates=["power(variable=tokens)"], bootstrap=5, by="params", strict=True)


def test_mixed_datasets_are_refused() -> None:
    table = size_ladder().table.assign(dataset=["c4"] * 8 + ["pile"] * 7)
    with pytest.raises(InputError, match="mix 2 values of 'dataset'"):
        fit_auto(RunSet(table), candidates=FAST)
    with pytest.raises(InputError, match="mix 2 values of 'dataset'"):
        fit_calibrated(RunSet(table), "chinchilla")
    with pytest.warns(FitWarning, match="fitted as asked, without a backtest calibration"):
        fit = fit_calibrated(RunSet(table), "chinchilla", required=False)  # a named law, calibrated when possible
    assert fit.calibration is None


def test_fixing_every_parameter_scores_the_given_set() -> None:
    runs = size_ladder()
    fixed = {"E": 1.8, "A": 480.0, "B": 2000.0, "alpha": 0.34, "beta": 0.36}
    fit = fit_law(runs, "chinchilla", fix=fixed)
    assert fit.params == fixed and fit.diagnostics.n_free == 0
    assert fit.diagnostics.residual_rmse < 0.01


def test_calibrating_one_law_records_its_backtest() -> None:
    from scalelaw import laws

    fit = fit_calibrated(size_ladder(), laws.get("power", variable="flops"), bootstrap=10)
    assert fit.selection["candidates"][0]["label"] == "power(variable=flops)"
    assert fit.calibration is not None and fit.calibration.runs >= 2


def test_error_scale_grows_faster_beyond_the_tested_distance() -> None:
    from scalelaw.fit.law_error import ExtrapolationError

    model = ExtrapolationError(slope=0.01, dof=5, tested_decades=0.5, bias=0.0, runs=5, points=50)
    inside, edge, beyond, none = model.sd(np.array([0.125, 0.5, 1.0, 0.0]))
    assert inside == pytest.approx(0.0025) and edge == pytest.approx(0.005) and none == 0.0  # sqrt(d*d_t) inside
    assert beyond == pytest.approx(0.01)  # linear beyond the tested distance
    floored = ExtrapolationError(slope=0.01, dof=5, tested_decades=0.5, bias=0.0, runs=5, points=50, floor=0.003)
    assert floored.sd(np.array([0.0, 0.5])) == pytest.approx([0.003, np.hypot(0.003, 0.005)])
    assert model.untested(1.01) and not model.untested(0.9)


def test_a_target_far_beyond_the_backtests_warns_and_strict_refuses() -> None:
    import dataclasses

    fit = fit_auto(size_ladder(), candidates=["power(variable=params)"], bootstrap=10)
    far = fit.calibration.tested_decades * 3 + 0.5
    size = 1e9 * 10**far
    with pytest.warns(FitWarning, match="backtests tested the law only up to"):
        fit.predict(params=size)
    strict = dataclasses.replace(fit, options={**fit.options, "strict": True})
    with pytest.raises(UntrustedFitError, match="backtests tested"):
        strict.predict(params=size)


def test_runs_of_one_planned_length_are_one_level() -> None:
    from scalelaw.selection.folds import level_floors

    assert level_floors(np.array([71_950.0, 71_900.0, 24_000.0, 23_990.0, 16_000.0])).tolist() == [16_000, 23_990,
                                                                                                     71_900]


def test_inside_folds_calibrate_the_floor_but_do_not_choose_the_law() -> None:
    fit = fit_auto(size_ladder(), candidates=FAST, bootstrap=0)
    for candidate in fit.selection["candidates"]:
        beyond = [f["final_error"] for f in candidate["folds"] if not f["inside"]]
        chosen = candidate["label"] == fit.selection["chosen"]
        if not candidate["folds"]:
            continue  # screened: not backtested
        assert len(beyond) == 6 and len(candidate["folds"]) == (9 if chosen else 6)  # inside folds: the winner's only
        assert candidate["final_error"] == pytest.approx(np.mean(beyond))
    assert fit.calibration.floor > 0 and fit.calibration.folds == 9
    from scalelaw import laws

    by_size = fit_calibrated(size_ladder(), laws.get("power", variable="params"), bootstrap=0)
    inside = [f for f in by_size.selection["candidates"][0]["folds"] if f["inside"]]
    assert len(inside) == 3 and all(f["decades"] == 0 for f in inside)  # inside the others' range: no extrapolation


def _cosine_run(seen: float) -> RunSet:
    """A cosine run drawn from the lr-annealing law, its losses after ``seen`` of the run hidden."""
    from scalelaw import laws

    spec = "cosine:peak=3e-4,warmup=200,total=6000,final=3e-5"
    steps = np.arange(100, 6001, 100)
    law = laws.get("lr-annealing")
    loss = law.predict(np.array([[2.5, 0.5, 0.5, 0.1]]), law.design_at(schedule=spec, steps=steps))[0]
    loss = loss * np.exp(3e-4 * np.random.default_rng(0).standard_normal(loss.size))
    table = pd.DataFrame({"run": "r", "step": steps.astype(float), "loss": loss, "lr_schedule": spec})
    table.loc[table["step"] > seen * steps.max(), "loss"] = np.nan
    return RunSet(table)


def test_a_decay_beyond_the_logged_losses_leaves_lr_blind_laws_out() -> None:
    from scalelaw.selection.auto import decay_ahead

    both = ["power(variable=step)", "lr-annealing"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        assert decay_ahead(_cosine_run(0.3)) and not decay_ahead(_cosine_run(1.0))
        early = fit_auto(_cosine_run(0.3), candidates=both, bootstrap=0)
        finished = fit_auto(_cosine_run(1.0), candidates=both, bootstrap=0)
        with pytest.raises(InputError, match="no law that reads the lr can be fitted"):
            fit_auto(_cosine_run(0.3), candidates=["power(variable=step)"], bootstrap=0)
    record = {c["label"]: c for c in early.selection["candidates"]}
    assert early.selection["chosen"] == "lr-annealing"
    assert record["power(variable=step)"]["failure"].startswith("blind to the learning rate, which decays beyond")
    assert all(c["failure"] is None or c["failure"].startswith("not backtested")
               for c in finished.selection["candidates"])  # both eligible once the decay was logged


def test_a_law_skips_an_optional_fold_it_cannot_be_fitted_on() -> None:
    rng = np.random.default_rng(4)
    rows = [{"run": f"n{size:.0e}-t{tokens:.0e}", "params": size, "tokens": tokens,
             "loss": (1.8 + 480 * size**-0.34 + 2000 * tokens**-0.36) * np.exp(rng.normal(0, 0.003))}
            for size in (1e7, 3e7, 1e8, 3e8, 1e9) for tokens in (1e9, 2e9, 4e9)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        fit = fit_calibrated(RunSet(pd.DataFrame(rows)), "chinchilla", bootstrap=0)
    record = fit.selection["candidates"][0]
    assert fit.calibration is not None and record["failure"] is None
    assert any(s.startswith("tokens 1e+09 -> 2e+09") for s in record["skipped_folds"])  # 5 runs left, 5 parameters
    assert {f["fold"] for f in record["folds"]} >= {"params 3e+08 -> 1e+09", "tokens 2e+09 -> 4e+09"}


def test_a_calibrated_fit_reports_the_search_that_found_its_optimum() -> None:
    """The final fit descends from the all-data optimum; its diagnostics still count that search (a report
    read "optimiser iterations: 1" and looked like a fit that never moved)."""
    from scalelaw import laws

    plain = fit_law(size_ladder(), "chinchilla")
    calibrated = fit_calibrated(size_ladder(), laws.get("chinchilla"), bootstrap=0)
    assert calibrated.diagnostics.starts == plain.diagnostics.starts
    assert calibrated.diagnostics.iterations >= plain.diagnostics.iterations
    assert calibrated.params == pytest.approx(plain.params, rel=1e-6)


def test_folds_across_compute_and_length_are_not_counted_twice_at_one_model_size() -> None:
    tokens = np.repeat([1e9, 2e9, 4e9, 8e9], 2)
    table = pd.DataFrame({"run": [f"r{i}" for i in range(tokens.size)], "params": 1e8, "tokens": tokens,
                          "loss": 2.0 + 50.0 / tokens**0.2})
    axis, folds, _ = plan(RunSet(table))
    keys = [(tuple(sorted(f.train.runs)), tuple(sorted(f.test.runs))) for f in folds]
    assert axis == "flops" and len(keys) == len(set(keys))
    # compute is 6·N·D here: the folds across length are the same backtests, so only the compute folds remain
    assert all(f.axis in ("flops", "inside") for f in folds) and any(f.axis == "flops" for f in folds)
