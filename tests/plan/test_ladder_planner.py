"""`plan ladder` and `plan next`: the proposal, its simulated interval, the ranking, and refused input."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

import scalelaw
from scalelaw import laws
from scalelaw.cli.main import run
from scalelaw.errors import InputError
from scalelaw.fit.serialize import load_fit
from scalelaw.plan.ladder_design import (BESIROGLU_2024, DEFAULT_LAW_ERROR, PlannedRun, Scorer, Target,
                                         olmo_shaped, plan_ladder)
from scalelaw.plan.next_run import Candidate, rank_candidates
from scalelaw.plan.simulate import NoiseModel, forecast_errors, from_free, interval, refit, to_free

TRUTH = {"E": 1.7, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28}


def _fit(tmp: Path, law: str = "chinchilla", bootstrap: int = 30, noise: float = 0.004) -> Path:
    rng = np.random.default_rng(0)
    n = np.repeat(np.geomspace(1e7, 3e8, 4), 3)
    d = n * np.tile([10.0, 20.0, 40.0], 4)
    loss = (TRUTH["E"] + TRUTH["A"] / n ** TRUTH["alpha"] + TRUTH["B"] / d ** TRUTH["beta"])
    runs = pd.DataFrame({"run": [f"r{i}" for i in range(n.size)], "params": n, "tokens": d,
                         "loss": loss * np.exp(noise * rng.standard_normal(n.size))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = scalelaw.fit(runs, law=law, bootstrap=bootstrap, seed=0)
    path = tmp / f"{law}-{bootstrap}.json"
    fit.save(path)
    return path


@pytest.fixture(scope="module")
def fit_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fit(tmp_path_factory.mktemp("next"))


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert run(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> str:
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    return err


# -- simulation ---------------------------------------------------------------------------------------------
def test_refit_recovers_the_law_from_noiseless_runs() -> None:
    law = laws.get("chinchilla")
    theta = np.array([TRUTH[k] for k in law.param_names])
    n = np.repeat(np.geomspace(1e7, 1e9, 4), 3)
    d = n * np.tile([10.0, 20.0, 40.0], 4)
    design = law.design_at(params=n, tokens=d)
    observed = np.log(law.predict(theta[None, :], design))  # (1, n)
    start = to_free(law, theta[None, :] * 1.3)[0]  # the prior is off by 30%: the data must pull it back
    fitted = refit(law, design, observed, start, noise=1e-4)
    assert np.log(law.predict(from_free(law, fitted), design))[0] == pytest.approx(observed[0], abs=1e-4)


def test_forecast_spread_grows_with_run_noise_and_distance() -> None:
    law = laws.get("chinchilla")
    theta = np.array([BESIROGLU_2024[k] for k in law.param_names])
    runs = [PlannedRun(n, 20 * n, 1.0) for n in np.geomspace(1e7, 1e8, 4)]
    design = law.design_at(params=[r.params for r in runs], tokens=[r.tokens for r in runs])
    target = law.design_at(params=1e9, tokens=2e10)

    def width(noise: float, decades: float) -> float:
        low, high = interval(forecast_errors(law, theta, design, target, decades, NoiseModel(noise, DEFAULT_LAW_ERROR),
                                             draws=300, seed=0), 0.9)
        return high - low

    assert width(0.002, 1.0) < width(0.01, 1.0)
    assert width(0.005, 0.5) < width(0.005, 2.0)
    assert width(0.005, 1.0) == width(0.005, 1.0)  # seeded


# -- plan ladder -------------------------------------------------------------------------------------------
def test_proposal_fits_the_budget_and_beats_olmo_shape_at_the_same_cost() -> None:
    target = Target(7e9, 1.4e11)
    plan = plan_ladder(laws.get("chinchilla"), BESIROGLU_2024, target, 0.01 * target.flops,
                       NoiseModel(0.005, DEFAULT_LAW_ERROR))
    assert plan.proposal.flops <= 0.01 * target.flops
    assert all(r.params < target.params and r.flops < target.flops for r in plan.proposal.runs)
    olmo = next(c for c in plan.comparisons if c.name.startswith("OLMo"))
    assert olmo.flops == pytest.approx(plan.proposal.flops)
    assert plan.proposal.half_width <= olmo.half_width
    assert plan.proposal.low < 0 < plan.proposal.high


def test_more_budget_gives_a_narrower_expected_interval(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    small = _json(capsys, ["plan", "ladder", "--params", "1e9", "--budget", "0.1%", "--json"])
    out = tmp_path / "plan.json"
    large = _json(capsys, ["plan", "ladder", "--params", "1e9", "--budget", "10%", "--json", "--out", str(out)])
    assert large["proposal"]["expected_half_width"] < small["proposal"]["expected_half_width"]
    assert small["proposal"]["flops"] <= 0.001 * 6 * 1e9 * 2e10 * (1 + 1e-9)
    saved = json.loads(out.read_text())
    assert saved["runs"] == large["runs"] and saved["kind"] == "ladder-plan"
    again = _json(capsys, ["plan", "ladder", "--params", "1e9", "--budget", "10%", "--json"])
    assert again["proposal"] == large["proposal"]  # deterministic


def test_gpu_hours_and_compute_optimal_target(capsys: pytest.CaptureFixture[str]) -> None:
    plan = _json(capsys, ["plan", "ladder", "--flops", "1e21", "--gpu-hours", "100", "--throughput", "4e14", "--json"])
    assert plan["budget_flops"] == pytest.approx(100 * 3600 * 4e14)
    assert plan["target"]["flops"] == pytest.approx(1e21, rel=1e-6)
    assert plan["proposal"]["flops"] <= plan["budget_flops"]


def test_plan_ladder_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    _refused(capsys, ["plan", "ladder", "--params", "1e9", "--budget", "1e10"], "smaller than the cheapest")
    _refused(capsys, ["plan", "ladder", "--params", "1e9", "--budget", "200%"], "train the target")
    _refused(capsys, ["plan", "ladder", "--params", "1e9", "--gpu-hours", "10"], "--throughput")
    _refused(capsys, ["plan", "ladder", "--params", "1e9", "--multiples", "1,x"], "--multiples")
    _refused(capsys, ["plan", "ladder", "--params", "1e9", "--max-size", "2e9"], "below the target")


# -- plan next ----------------------------------------------------------------------------------------------
def test_next_interval_now_is_the_bootstrap_variance_plus_noise(fit_path: Path) -> None:
    fit = load_fit(fit_path)
    target = Target(3e9, 6e10)
    pool = [Candidate(f"c{i}", n, 20 * n, 6 * n * 20 * n, i + 1) for i, n in enumerate((1e8, 5e8, 1e9))]
    answer = rank_candidates(fit, target, pool, noise=0.003)
    draws = np.log(fit.law.predict(fit.bootstrap_params, fit.law.design_at(params=3e9, tokens=6e10)))[:, 0]
    z = NormalDist().inv_cdf(0.975)
    assert answer.half_width == pytest.approx(z * np.sqrt(np.var(draws, ddof=1) + 0.003**2), rel=1e-9)
    gains = [r.shrink_per_percent for r in answer.ranked]
    assert gains == sorted(gains, reverse=True)
    assert all(0 <= r.shrink <= 1 and r.half_width <= answer.half_width for r in answer.ranked)
    # noisier runs tell less: every candidate is expected to shrink the interval less
    noisy = {r.candidate.label: r.shrink for r in rank_candidates(fit, target, pool, noise=0.03).ranked}
    assert all(noisy[r.candidate.label] < r.shrink for r in answer.ranked)


def test_next_cli_ranks_a_grid_and_says_when_to_stop(fit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "next", str(fit_path), "--params", "3e9", "--candidates", "grid", "--sizes", "1e8,3e8,1e9",
            "--multiples", "1,2", "--json"]
    out = _json(capsys, argv)
    assert len(out["ranking"]) == 6 and out["stop"] is False and out["reason"].startswith("train ")
    met = _json(capsys, [*argv, "--tolerance", "0.5"])
    assert met["stop"] is True and "meets the tolerance" in met["reason"]
    greedy = _json(capsys, [*argv, "--min-gain", "1e6"])
    assert greedy["stop"] is True and "no candidate shrinks" in greedy["reason"]
    # The table a person reads at 80 columns keeps each grid point's label on one line.
    ladder = ["plan", "next", str(fit_path), "--params", "3e9", "--candidates", "grid", "--sizes",
              "1.9e8,3.7e8,7.6e8", "--multiples", "0.5,1"]
    labels = [r["candidate"] for r in _json(capsys, [*ladder, "--json"])["ranking"]]
    assert "N=7.6e+08 x0.5C" in labels
    assert run(ladder) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80
    for label in labels:
        assert any(label in line for line in lines), label


def test_next_bad_input(fit_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["plan", "next", str(fit_path), "--params", "3e9"]
    _refused(capsys, [*base, "--candidates", "grid", "--sizes", "5e9,8e9"], "no point of the grid is below the target")
    above = tmp_path / "above.csv"
    above.write_text("run,params,tokens\nsmall,1e8,2e9\nbig,5e9,1e11\n")
    assert "row 2" in _refused(capsys, [*base, "--candidates", str(above)], "not below the target")
    # a grid the tool built: the points beyond the target are left out with a note, the rest ranked
    assert run([*base, "--candidates", "grid", "--sizes", "1e8,5e9", "--multiples", "1", "--json"]) == 0
    printed = capsys.readouterr()
    assert [r["candidate"] for r in json.loads(printed.out)["ranking"]] == ["N=1e+08 x1C"]
    assert "left out: N=5e+09 x1C" in printed.err
    blank = tmp_path / "blank.csv"
    blank.write_text("run,params,tokens,flops\na,1e8,2e9,1.2e18\nb,2e8,4e9,\n")
    err = _refused(capsys, [*base, "--candidates", str(blank)], "cost is unknown")
    assert "row 2" in err and "blank.csv" in err
    no_tokens = tmp_path / "no_tokens.csv"
    no_tokens.write_text("params\n1e8\n")
    _refused(capsys, [*base, "--candidates", str(no_tokens)], "cost is unknown")
    power = _fit(tmp_path, "power")
    _refused(capsys, ["plan", "next", str(power), "--params", "3e9", "--candidates", "grid", "--sizes", "1e8",
                      "--multiples", "1,2"], "cannot see")
    plain = _fit(tmp_path, "chinchilla", bootstrap=0)
    _refused(capsys, ["plan", "next", str(plain), "--params", "3e9", "--candidates", "grid", "--sizes", "1e8"],
             "--bootstrap")


def test_scorer_linear_and_simulated_agree_roughly() -> None:
    target = Target(7e9, 1.4e11)
    scorer = Scorer(laws.get("chinchilla"), BESIROGLU_2024, target, NoiseModel(0.005, DEFAULT_LAW_ERROR), 0.95, 0)
    outcome = scorer.simulate("olmo", olmo_shaped(0.01 * target.flops, 20.0, target))
    assert outcome.half_width == pytest.approx(outcome.linear_half_width, rel=0.3)


def test_bad_budget_in_python() -> None:
    with pytest.raises(InputError, match="positive number of FLOPs"):
        plan_ladder(laws.get("chinchilla"), BESIROGLU_2024, Target(1e9, 2e10), float("nan"),
                    NoiseModel(0.005, None))


def test_plan_under_a_prior_fit_uses_its_law_and_scatter(fit_path: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    plan = _json(capsys, ["plan", "ladder", "--params", "3e9", "--prior", str(fit_path), "--json"])
    fit = load_fit(fit_path)
    assert plan["prior"] == pytest.approx(fit.params)
    assert plan["noise_model"]["run_noise"] == pytest.approx(float(np.sqrt(np.sum(fit.residuals**2) / (12 - 5))))
    power = _fit(tmp_path, "power")
    _refused(capsys, ["plan", "ladder", "--params", "3e9", "--prior", str(power)], "law of params and tokens")


def test_next_assumes_a_law_drift_when_the_fit_has_none(fit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["plan", "next", str(fit_path), "--params", "3e9", "--candidates", "grid", "--sizes", "1e8,1e9",
            "--multiples", "1,2", "--json"]
    assumed, none = _json(capsys, base), _json(capsys, [*base, "--law-slope", "0"])
    assert assumed["half_width_now"] > none["half_width_now"]  # the target is beyond the fit: drift counts
    assert any("assumed" in w for w in assumed["warnings"])
    assert any("left out" in w for w in none["warnings"])
    steeper = _json(capsys, [*base, "--law-slope", "0.05"])
    assert steeper["half_width_now"] > assumed["half_width_now"]
    _refused(capsys, [*base, "--law-slope", "-1"], "--law-slope")


def test_text_tables_give_percentages_not_raw_fractions(fit_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "ladder", "--params", "1e9", "--budget", "1%"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"[-+]\d+\.\d% to \+\d+\.\d%", out) and "decades out" in out and "expected_low" not in out
    assert run(["plan", "next", str(fit_path), "--params", "3e9", "--candidates", "grid", "--sizes", "1e8,3e8",
                "--multiples", "1"]) == 0
    out = capsys.readouterr().out
    assert "±after" in out and re.search(r"\d+\.\d\d%", out) and "expected_half_width" not in out
