"""--law auto's choice: converged fits only, no law blind to an axis the runs vary on, scored at the target's
distance with a one-standard-error rule, and a consistent backtest trend corrected."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelaw import laws
from scalelaw.cli.main import run
from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError
from scalelaw.fit import load_fit
from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.selection import auto, candidates
from scalelaw.selection.auto import Candidate, fit_auto, one_standard_error
from scalelaw.selection.scoring import decided, target_distance
from scalelaw.selection.calibration import estimate, trend
from scalelaw.selection.rolling import Backtest

from selection_data import FAST, FIVE_LENGTHS, size_ladder


def three_sizes() -> RunSet:
    """Three tiny models trained like the HF Trainer's default (linear warmup and decay), 60 logged steps each."""
    rng = np.random.default_rng(0)
    rows = []
    for size in (4e3, 1.2e4, 3.6e4):
        for step in range(1, 61):
            lr = 1e-3 * min(step / 6, (60 - step) / 54)
            loss = (1.5 + 40 * size**-0.35 + 3.0 * step**-0.45) * np.exp(rng.normal(0, 0.01))
            rows.append({"run": f"gpt2-{int(size)}", "step": step, "lr": lr, "params": size, "loss": loss})
    return RunSet(pd.DataFrame(rows))


def test_a_law_blind_to_model_size_is_dropped_when_one_that_reads_it_converges() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        fit = fit_auto(three_sizes(), candidates=["power(variable=step)", "chinchilla-curve"], bootstrap=0)
    assert fit.selection["chosen"] == "chinchilla-curve" and "params" in fit.law.inputs
    assert fit.diagnostics.converged
    record = {c["label"]: c for c in fit.selection["candidates"]}
    assert record["power(variable=step)"]["failure"].startswith("blind to model size, which the runs vary on (3 sizes)")
    assert "power(variable=step): blind to model size" in fit.selection["reason"]


def _not_converging(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every fit of law ``name`` (a name, a label or ``*``) report an optimiser that did not converge."""
    real = candidates.fit_law

    def fit_law(runs, law, **options):  # type: ignore[no-untyped-def]
        fit = real(runs, law, **options)
        if name in ("*", law.name, label_name(law)):
            fit = dataclasses.replace(fit, diagnostics=dataclasses.replace(fit.diagnostics, converged=False))
        return fit

    monkeypatch.setattr(candidates, "fit_law", fit_law)


def label_name(law: laws.Law) -> str:
    return auto.label_of(law.name, law.options() if law.name == "power" else {})


def test_a_fit_that_did_not_converge_is_never_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    clean = fit_auto(size_ladder(), candidates=FAST, bootstrap=0)
    _not_converging(clean.selection["chosen"], monkeypatch)
    fit = fit_auto(size_ladder(), candidates=FAST, bootstrap=0)
    assert fit.selection["chosen"] != clean.selection["chosen"] and fit.diagnostics.converged
    record = {c["label"]: c for c in fit.selection["candidates"]}
    assert record[clean.selection["chosen"]]["failure"] == "did not converge on all the data"
    assert record[clean.selection["chosen"]]["converged"] is False


def test_nothing_eligible_is_an_input_error_with_every_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _not_converging("power", monkeypatch)
    with pytest.raises(InputError, match="no candidate law can be trusted on this data") as caught:
        fit_auto(size_ladder(), candidates=FAST, bootstrap=0)
    assert all(f"{label}: did not converge on all the data" in str(caught.value) for label in FAST)
    _not_converging("*", monkeypatch)
    path = tmp_path / "runs.csv"
    size_ladder().table.to_csv(path, index=False)
    assert run(["fit", str(path), "--law", "auto", "--bootstrap", "0"]) == 2
    assert "no candidate law can be trusted on this data" in capsys.readouterr().err


def test_fold_distances_are_recorded_and_the_target_picks_the_deciding_folds() -> None:
    ladder = size_ladder(ratios=FIVE_LENGTHS)  # five runs per size: one level's runs are enough to decide
    far = fit_auto(ladder, candidates=FAST, bootstrap=0)
    near = fit_auto(ladder, candidates=FAST, bootstrap=0, target={"params": 2e9, "tokens": 4e10})
    decade = fit_auto(ladder, candidates=FAST, bootstrap=0, target={"params": 1e10})
    assert far.selection["deciding_folds"] == ["params 3e+07 -> 1e+09 (far)"]  # the farthest the data reach
    assert far.selection["target_decades"] == pytest.approx(np.log10(1e9 / 3e7))
    assert near.selection["deciding_folds"] == ["params 3e+08 -> 1e+09", "params 1e+08 -> 3e+08"]
    assert near.selection["target_decades"] == pytest.approx(np.log10(2))
    assert decade.selection["deciding_folds"] == ["params 1e+08 -> 1e+09 (far)"]
    for candidate in far.selection["candidates"]:
        distances = {f["fold"]: f["distance"] for f in candidate["folds"]}
        if candidate["decided_error"] is not None:  # backtested: the errors that decided are the deciding folds'
            assert distances["params 3e+07 -> 1e+09 (far)"] == pytest.approx(np.log10(1e9 / 3e7))
            deciding = [f for f in candidate["folds"] if f["fold"] in far.selection["deciding_folds"]]
            assert candidate["decided_error"] == pytest.approx(np.mean([f["final_error"] for f in deciding]))
            assert candidate["decided_runs"] == 5


def test_folds_holding_out_too_few_runs_are_joined_by_the_nearest_fold_holding_out_others() -> None:
    # Three runs per size: the fold nearest the target holds out only the three largest runs, so the nearest fold
    # that holds out other runs (the next size down) joins it; folds holding out the same three runs do not.
    far = fit_auto(size_ladder(), candidates=FAST, bootstrap=0)
    assert far.selection["deciding_folds"] == ["params 1e+08 -> 3e+08", "params 3e+07 -> 1e+09 (far)"]
    assert far.selection["target_decades"] == pytest.approx(np.log10(1e9 / 3e7))
    decade = fit_auto(size_ladder(), candidates=FAST, bootstrap=0, target={"params": 1e10})
    assert decade.selection["deciding_folds"] == ["params 1e+08 -> 3e+08", "params 1e+08 -> 1e+09 (far)"]
    near = fit_auto(size_ladder(), candidates=FAST, bootstrap=0, target={"params": 2e9})
    assert near.selection["deciding_folds"] == ["params 3e+08 -> 1e+09", "params 1e+08 -> 3e+08"]  # six runs already
    for candidate in far.selection["candidates"]:
        if candidate["decided_error"] is not None:
            assert candidate["decided_runs"] == 6


def _backtest(label: str, law: laws.Law, errors: list[float]) -> Candidate:
    """A candidate whose one deciding fold held out runs r0, r1, ... missed by ``errors`` (relative, signed)."""
    fold = {"fold": "f", "inside": False, "final_error": float(np.mean(np.abs(errors))), "final_errors": errors,
            "held_out_runs": [f"r{i}" for i in range(len(errors))]}
    empty = np.empty(0)
    return Candidate(label, law, test=Backtest(label, law, [fold], empty, empty, empty, empty, empty))


def test_the_simplest_law_within_one_standard_error_of_the_difference_is_chosen() -> None:
    """Within one standard error of the two candidates' difference over the same held-out runs."""
    rich = _backtest("chinchilla", laws.get("chinchilla"), [0.010, 0.012, 0.008, 0.010])
    close = _backtest("power", laws.get("power", variable="params"), [0.012, 0.010, 0.009, 0.012])
    far = _backtest("power", laws.get("power", variable="params"), [0.020, 0.025, 0.030, 0.022])
    chosen, lowest = one_standard_error([rich, close], ["f"])
    assert lowest is rich and chosen is close  # 0.075% worse, runs differing by -0.2..+0.2% (se 0.095%)
    chosen, lowest = one_standard_error([rich, far], ["f"])
    assert chosen is rich and lowest is rich


def test_a_law_worse_on_every_held_out_run_is_not_within_the_noise() -> None:
    """Runs that are hard for every law make one law's standard error large; the comparison is run by run.
    The old rule (the lowest's own standard error, 0.55% here) would have taken the 3-parameter law."""
    spread = [0.010, 0.030, 0.005, 0.020]
    rich = _backtest("chinchilla", laws.get("chinchilla"), spread)
    missed = [e + 0.003 + 0.0001 * i for i, e in enumerate(spread)]
    worse = _backtest("power", laws.get("power", variable="params"), missed)
    assert decided(worse.test, ["f"])[0] - decided(rich.test, ["f"])[0] < decided(rich.test, ["f"])[1]
    chosen, lowest = one_standard_error([rich, worse], ["f"])
    assert chosen is rich and lowest is rich


def _fold_points(slopes: list[float], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Backtest points of one fold per slope: 4 runs of its own, errors = slope * decades plus 0.1% noise."""
    e, d, g, f = [], [], [], []
    for k, slope in enumerate(slopes):
        for r in range(4):
            dist = np.linspace(0.1, 0.4 + 0.1 * k, 5)
            e.append(slope * dist + 0.001 * rng.standard_normal(5))
            d.append(dist)
            g.append(np.full(5, f"{k}|run{k}-{r}"))  # each fold holds out its own runs (another level)
            f.append(np.full(5, str(k)))
    return tuple(np.concatenate(x) for x in (e, d, g, f))


def test_folds_that_all_miss_the_same_way_correct_the_forecast_and_narrow_the_spread() -> None:
    rng = np.random.default_rng(0)
    e, d, g, f = _fold_points([0.020, 0.025, 0.022], rng)
    correction, sd, verdict = trend(e, d, g, f)
    assert 0.019 < correction < 0.026 and 0 < sd < 0.004 and verdict.startswith("corrected by +2.")
    model = estimate(e, d, g, np.zeros(e.size), f)
    uncorrected = estimate(e - correction * d, d, g, np.zeros(e.size), f)
    assert model.correction == pytest.approx(correction) and model.correction_sd == pytest.approx(sd)
    assert model.slope < 0.01 and model.slope == pytest.approx(uncorrected.slope, rel=0.2)
    disagree = trend(*_fold_points([0.02, -0.02, 0.02], rng))
    assert disagree[:2] == (0.0, 0.0) and "different directions" in disagree[2]
    one = trend(*(x[:20] for x in _fold_points([0.02], rng)))
    assert one[0] == 0.0 and "1 fold(s)" in one[2]


def test_folds_that_miss_the_same_way_within_the_runs_scatter_are_not_a_trend() -> None:
    # Three single-run folds a tenth of a decade out, each point as noisy as one logged batch (5% sd): errors of
    # +4%, +5% and +2% agree in sign and size, which four batches of noise give by chance; 40% per decade is no
    # trend to move a forecast by.
    e = np.array([0.04, 0.05, 0.02])
    d = np.array([0.10, 0.12, 0.22])
    g = np.array(["a|r1", "b|r2", "c|r1"])
    f = np.array(["a", "b", "c"])
    assert trend(e, d, g, f)[0] > 0.15  # the folds' spread alone would call it a trend
    correction, sd, verdict = trend(e, d, g, f, np.full(3, 0.05**2))
    assert (correction, sd) == (0.0, 0.0) and "runs' own scatter" in verdict
    assert estimate(e, d, g, np.full(3, 0.05**2), f).correction == 0.0
    # The same misses from runs scattered by 0.1% are a trend.
    assert trend(e, d, g, f, np.full(3, 0.001**2))[0] > 0.15


def _set_points(folds: list[tuple[str, float, float]], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Final-point backtest errors: per fold (held-out set, distance, log error), 4 held-out runs of that set."""
    e, d, g, f = [], [], [], []
    for k, (held, distance, error) in enumerate(folds):
        e.append(error + 0.0002 * rng.standard_normal(4))
        d.append(np.full(4, distance))
        g.append(np.array([f"fold{k}|{held}-{r}" for r in range(4)]))
        f.append(np.full(4, f"fold{k}"))
    return tuple(np.concatenate(x) for x in (e, d, g, f))


def test_a_trend_that_does_not_transfer_between_sets_of_held_out_runs_is_not_applied() -> None:
    rng = np.random.default_rng(1)
    # The largest level, held out from 0.2 and 0.4 decades, misses by 5% per decade; the next level, 1 decade out,
    # by 1%: all agree in sign and size, but 5% per decade moves the next level's forecast four times too far.
    overshoot = _set_points([("top", 0.2, 0.01), ("top", 0.4, 0.02), ("next", 1.0, 0.01)], rng)
    correction, sd, verdict = trend(*overshoot)
    assert (correction, sd) == (0.0, 0.0) and "did not shrink that set's errors" in verdict
    assert estimate(*overshoot[:3], np.zeros(12), overshoot[3]).correction == 0.0
    # The same two sets missing by 5% and 4% per decade: estimated from one, the trend shrinks the other's errors.
    transfers = _set_points([("top", 0.2, 0.01), ("top", 0.4, 0.02), ("next", 1.0, 0.04)], rng)
    correction, sd, verdict = trend(*transfers)
    assert 0.04 < correction < 0.05 and sd > 0 and "shrank that set's errors" in verdict


def test_folds_that_all_hold_out_the_same_runs_check_the_trend_on_each_other() -> None:
    # Two cuts of the same runs' curves (the rest of those runs is the forecast): each fold checks the other.
    rng = np.random.default_rng(2)
    grows = _set_points([("all", 0.2, 0.01), ("all", 0.5, 0.025)], rng)
    correction, _, verdict = trend(*grows)
    assert 0.045 < correction < 0.055 and "shrank that set's errors" in verdict
    overshoots = _set_points([("all", 0.2, 0.01), ("all", 0.4, 0.02), ("all", 1.0, 0.01)], rng)
    correction, _, verdict = trend(*overshoots)
    assert correction == 0.0 and "did not shrink" in verdict


def test_the_correction_moves_the_point_and_the_interval_and_survives_fit_json(tmp_path: Path) -> None:
    fit = fit_auto(size_ladder(), candidates=["power(variable=params)"], bootstrap=0)
    base = dataclasses.replace(fit.calibration, correction=0.0, correction_sd=0.0)
    shifted = dataclasses.replace(fit.calibration, correction=0.02, correction_sd=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        plain = dataclasses.replace(fit, calibration=base).predict(params=1e10, level=0.9)
        moved = dataclasses.replace(fit, calibration=shifted).predict(params=1e10, level=0.9)
    assert moved.extrapolation[0] == pytest.approx(1.0)  # one decade beyond 1e9
    assert moved.loss[0] == pytest.approx(plain.loss[0] * np.exp(0.02))
    assert moved.lo[0] == pytest.approx(plain.lo[0] * np.exp(0.02), rel=1e-9)
    assert moved.hi[0] == pytest.approx(plain.hi[0] * np.exp(0.02), rel=1e-9)
    path = tmp_path / "fit.json"
    dataclasses.replace(fit, calibration=dataclasses.replace(shifted, correction_sd=0.004)).save(path)
    again = load_fit(path)
    assert again.calibration.correction == 0.02 and again.calibration.correction_sd == 0.004
    data = json.loads(path.read_text())
    data["calibration"]["correction"] = 3.0
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="correction"):
        load_fit(path)


def test_an_unknown_correction_field_reads_as_none_from_an_old_fit_file() -> None:
    old = {"slope": 0.01, "dof": 5, "tested_decades": 0.5, "bias": -0.01, "runs": 5, "points": 50}
    model = ExtrapolationError.from_dict(old, source="old.json")
    assert model.correction == 0.0 and model.correction_sd == 0.0


@pytest.fixture(scope="module")
def ladder_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "ladder.csv"
    size_ladder(ratios=FIVE_LENGTHS).table.to_csv(path, index=False)
    return path


def test_cli_target_chooses_the_deciding_folds_and_bad_targets_exit_2(
    ladder_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fit.json"
    assert run(["fit", str(ladder_csv), "--law", "auto", "--target", "params=1e10", "--bootstrap", "0",
                "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    selection = load_fit(out).selection
    assert selection["target"] == {"params": 1e10} and selection["deciding_folds"] == ["params 1e+08 -> 1e+09 (far)"]
    assert run(["fit", str(ladder_csv), "--law", "auto", "--target", "param=1e10"]) == 2
    assert "--target names 'param'" in capsys.readouterr().err
    assert run(["fit", str(ladder_csv), "--law", "auto", "--target", "params=-5"]) == 2
    assert run(["fit", str(ladder_csv), "--law", "chinchilla", "--target", "params=1e10"]) == 2
    assert "needs --law auto" in capsys.readouterr().err


def test_a_target_in_tokens_is_converted_to_steps_when_every_run_takes_the_same_tokens_per_step() -> None:
    """Curve folds run along steps; a target named in tokens is that many steps at the runs' common batch."""
    steps = np.arange(1, 1001, dtype=float)
    table = pd.DataFrame({"run": np.repeat(["a", "b"], steps.size), "step": np.tile(steps, 2),
                          "tokens": np.tile(steps, 2) * 4096.0, "loss": 3.0})
    decades, said = target_distance(RunSet(table), "steps", {"tokens": 4096.0 * 10_000})
    assert decades == pytest.approx(1.0) and "4,096 tokens per step" in said
    assert target_distance(RunSet(table), "steps", {"steps": 10_000})[0] == pytest.approx(1.0)
    table.loc[table["run"] == "b", "tokens"] *= 2  # run b: twice the batch
    decades, said = target_distance(RunSet(table), "steps", {"tokens": 4096.0 * 10_000})
    assert decades is None and "4,096 to 8,192 tokens per step" in said
