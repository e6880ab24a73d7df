"""`plan next --method refit`: candidates ranked by the pipeline's own interval after a what-if refit."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelaw.cli.main import run
from scalelaw.data.pipeline import read_runs
from scalelaw.errors import InputError
from scalelaw.fit.engine import fit_law
from scalelaw.fit.serialize import load_fit
from scalelaw.plan.ladder_design import Target
from scalelaw.plan.next_run import Candidate
from scalelaw.plan.what_if import rank_by_refit, with_run
from scalelaw.selection.auto import fit_calibrated

TRUTH = {"E": 1.7, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28}
TARGET = Target(3e9, 6e10)


def _table(noise: float = 0.004) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = np.repeat(np.geomspace(1e7, 3e8, 4), 3)
    d = n * np.tile([10.0, 20.0, 40.0], 4)
    loss = TRUTH["E"] + TRUTH["A"] / n ** TRUTH["alpha"] + TRUTH["B"] / d ** TRUTH["beta"]
    return pd.DataFrame({"run": [f"r{i}" for i in range(n.size)], "params": n, "tokens": d,
                         "loss": loss * np.exp(noise * rng.standard_normal(n.size))})


def _half_width(fit, target: Target = TARGET) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = fit.predict(params=target.params, tokens=target.tokens, level=0.95)
    return float((p.hi[0] - p.lo[0]) / 2 / p.loss[0])


@pytest.fixture(scope="module")
def plain() -> tuple:
    runs = read_runs(_table())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_law(runs, "chinchilla", bootstrap=12, seed=3, progress=False), runs


def test_the_ranking_follows_the_pipelines_own_interval(plain: tuple) -> None:
    fit, runs = plain
    # Same stated cost: a rerun of the smallest run tells the pipeline almost nothing about 3e9 params, a run
    # that brings the fitted range half-way to the target does; the refit must rank the second first.
    rerun = Candidate("rerun", 1e7, 1e8, 1e18, 1)
    nearer = Candidate("nearer", 1e9, 2e10, 1e18, 2)
    answer = rank_by_refit(fit, runs, TARGET, [rerun, nearer])
    assert answer.half_width == pytest.approx(_half_width(fit), rel=1e-12)  # the present runs refitted = the fit
    by_label = {r.candidate.label: r for r in answer.ranked}
    assert [r.candidate.label for r in answer.ranked] == ["nearer", "rerun"]
    assert by_label["nearer"].half_width < by_label["rerun"].half_width
    assert by_label["nearer"].decades < by_label["rerun"].decades
    # Each expected width is exactly the plain refit (same law, options, bootstrap, seed) with the candidate observed
    # at the fit's forecast for it.
    for c in (rerun, nearer):
        forecast = float(fit.predict(params=c.params, tokens=c.tokens).loss[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            refit = fit_law(with_run(runs.final(), c, forecast), "chinchilla", bootstrap=12, seed=3, progress=False)
        assert by_label[c.label].half_width == pytest.approx(_half_width(refit), rel=1e-12)
        assert by_label[c.label].shrink == pytest.approx(1 - _half_width(refit) / answer.half_width, rel=1e-9)


def test_a_calibrated_fit_is_refitted_with_its_backtests() -> None:
    runs = read_runs(_table())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_calibrated(runs, "chinchilla", bootstrap=10, seed=0, progress=False)
    assert fit.calibration is not None
    pool = [Candidate("a", 5e8, 1e10, 3e19, 1), Candidate("b", 1e9, 2e10, 1.2e20, 2)]
    answer = rank_by_refit(fit, runs, TARGET, pool)
    assert answer.half_width == pytest.approx(_half_width(fit), rel=1e-12)
    assert answer.law_sd > 0 and all(r.law_sd > 0 for r in answer.ranked)  # the calibration's part is read


def test_deterministic_and_draws_average_quantiles(plain: tuple) -> None:
    fit, runs = plain
    pool = [Candidate(f"c{i}", n, 20 * n, 120 * n * n, i + 1) for i, n in enumerate((1e8, 5e8, 1e9))]
    once = rank_by_refit(fit, runs, TARGET, pool).to_dict()
    assert rank_by_refit(fit, runs, TARGET, pool).to_dict() == once
    three = rank_by_refit(fit, runs, TARGET, pool, draws=3)
    assert three.to_dict() == rank_by_refit(fit, runs, TARGET, pool, draws=3).to_dict()
    assert {r["candidate"] for r in once["ranking"]} == {c.label for c in pool}
    # with three draws the widths differ from the forecast-only ones (observations off the forecast move the fit)
    assert [r.half_width for r in three.ranked] != pytest.approx(
        [next(o["expected_half_width"] for o in once["ranking"] if o["candidate"] == r.candidate.label)
         for r in three.ranked], rel=1e-9)


def test_cap_screens_by_the_ensemble_and_says_so(plain: tuple) -> None:
    fit, runs = plain
    pool = [Candidate(f"c{i}", n, 20 * n, 120 * n * n, i + 1) for i, n in enumerate((1e8, 2e8, 5e8, 1e9))]
    answer = rank_by_refit(fit, runs, TARGET, pool, cap=2)
    assert len(answer.ranked) == 2 and any("only the 2 best of 4" in w for w in answer.warnings)


def test_refused_in_python(plain: tuple) -> None:
    fit, runs = plain
    pool = [Candidate("a", 1e8, 2e9, 1.2e18, 1)]
    with pytest.raises(InputError, match="data hash differs"):
        rank_by_refit(fit, read_runs(_table(noise=0.01)), TARGET, pool)
    with pytest.raises(InputError, match="--refit-draws"):
        rank_by_refit(fit, runs, TARGET, pool, draws=0)
    with pytest.raises(InputError, match="needs a bootstrap"):
        rank_by_refit(fit, runs, TARGET, pool, bootstrap=0)


# -- CLI ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("what_if")
    data, fit = folder / "runs.csv", folder / "fit.json"
    _table().to_csv(data, index=False)
    assert run(["fit", str(data), "--law", "chinchilla", "--bootstrap", "10", "--out", str(fit), "--json"]) == 0
    return data, fit


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> str:
    capsys.readouterr()
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    return err


def test_cli_refit_ranks_and_reads_the_fits_interval(fitted: tuple[Path, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    data, fit = fitted
    capsys.readouterr()
    argv = ["plan", "next", str(fit), "--params", "3e9", "--tokens", "6e10", "--candidates", "grid", "--sizes",
            "1e8,1e9", "--multiples", "1,2", "--method", "refit", "--runs", str(data), "--json"]
    assert run(argv) == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    assert len(out["ranking"]) == 4 and out["half_width_now"] == pytest.approx(_half_width(load_fit(fit)), rel=1e-9)
    gains = [r["shrink_per_1pct_compute"] for r in out["ranking"]]
    assert gains == sorted(gains, reverse=True)
    assert any("method refit" in w for w in out["warnings"])


def test_cli_refit_bad_input(fitted: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, fit = fitted
    base = ["plan", "next", str(fit), "--params", "3e9", "--method", "refit", "--runs", str(data)]
    blank = tmp_path / "blank.csv"
    blank.write_text("run,params,tokens,flops\na,1e8,2e9,1.2e18\nb,2e8,4e9,\n")
    err = _refused(capsys, [*base, "--candidates", str(blank)], "cost is unknown")
    assert "row 2" in err and "blank.csv" in err
    grid = ["--candidates", "grid", "--sizes", "1e8", "--multiples", "1,2"]
    _refused(capsys, ["plan", "next", str(fit), "--params", "3e9", "--method", "refit", *grid], "--runs")
    other = tmp_path / "other.csv"
    _table(noise=0.02).to_csv(other, index=False)
    _refused(capsys, [*base[:-1], str(other), *grid], "data hash differs")
    _refused(capsys, [*base, *grid, "--method", "magic"], "--method must be")
    _refused(capsys, [*base, *grid, "--refit-draws", "0"], "--refit-draws")
    power = tmp_path / "power.json"
    assert run(["fit", str(data), "--law", "power", "--bootstrap", "10", "--out", str(power), "--json"]) == 0
    _refused(capsys, ["plan", "next", str(power), "--params", "3e9", "--method", "refit", "--runs", str(data), *grid],
             "cannot see")
