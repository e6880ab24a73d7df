"""The live forecast: refitted on the run's own points at flushes, with a ladder FIT.json as prior."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

import scalelaw.datasets as datasets
from scalelaw.cli.main import run
from scalelaw.data.schedules import schedule_from_logged
from scalelaw.errors import InputError, ScalelawWarning
from scalelaw.fit import load_fit
from scalelaw.integrations import LiveForecast, RunLogger
from scalelaw.integrations.forecast import Forecast, Waiting, prior_law

FINAL = re.compile(r"step (\d+): loss (\S+); final loss at step 24000: (\S+) \[(\S+), (\S+)\]")


@pytest.fixture(scope="module")
def annealing_fit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    with contextlib.redirect_stdout(io.StringIO()):
        code = run(["fit", "dataset:multipowerlaw-25m", "--where", "run in ['constant_24000', 'wsdcon_9']",
                    "--law", "lr-annealing", "--out", str(path)])
    assert code == 0
    return path


@pytest.fixture(scope="module")
def cosine_run() -> tuple[object, object]:
    curve = datasets.load("multipowerlaw-25m").curve("cosine_24000")
    return curve, schedule_from_logged(curve["step"].to_numpy(), curve["lr"].to_numpy())


def _log_until(logger: RunLogger, curve: object, last_step: float) -> float:
    logged = curve.dropna(subset=["loss"])  # type: ignore[attr-defined]
    logged = logged[logged["step"] <= last_step]
    for step, loss in zip(logged["step"], logged["loss"], strict=True):
        logger.log(int(step), loss=loss)
    return float(logged["loss"].iloc[-1])


def test_forecast_learns_from_the_run_with_the_ladder_prior(annealing_fit: Path, cosine_run: tuple, tmp_path: Path) -> None:
    """The old forecast printed the ladder fit's one number at every flush; now each refit reads the run's points."""
    curve, schedule = cosine_run
    printed: list[str] = []
    reported: list[tuple[dict[str, float], int]] = []
    logger = RunLogger(tmp_path / "store", "cosine", flush_every=60, printer=printed.append, refit_seconds=0,
                       forecast=annealing_fit, schedule=schedule, reporter=lambda m, s: reported.append((m, s)))
    _log_until(logger, curve, 24000)
    logger.close()
    forecasts = [FINAL.search(line) for line in printed]
    assert len(forecasts) >= 3 and all(forecasts), printed
    finals = [float(m.group(3)) for m in forecasts]  # type: ignore[union-attr]
    assert len(set(finals)) == len(finals)  # every refit moved the forecast
    assert all("lr-annealing" in line and "ladder prior" in line for line in printed)
    true_final = float(curve.dropna(subset=["loss"])["loss"].iloc[-1])
    lo, hi = float(forecasts[0].group(4)), float(forecasts[0].group(5))  # type: ignore[union-attr]
    assert lo <= true_final <= hi  # the first forecast, from a third of the run, covers the end
    assert abs(finals[-1] - true_final) / true_final < 0.01
    assert [set(m) for m, _ in reported] == [{"scalelaw/forecast", "scalelaw/forecast_lo", "scalelaw/forecast_hi"}] * len(printed)
    assert [m["scalelaw/forecast"] for m, _ in reported] == pytest.approx(finals, rel=1e-3)


def test_forecast_without_a_prior_is_law_auto_on_the_run(cosine_run: tuple) -> None:
    curve, schedule = cosine_run
    live = LiveForecast(schedule, refit_seconds=0)
    logged = curve.dropna(subset=["loss"])
    for step, loss in zip(logged["step"], logged["loss"], strict=True):
        if step <= 4800:  # the first 20% of the run
            live.observe(int(step), float(loss))
    result = live.update()
    assert isinstance(result, Forecast) and result.law in ("multi-power", "lr-annealing") and not result.prior
    true_final = float(logged["loss"].iloc[-1])
    assert result.lo <= true_final <= result.hi and result.final_step == 24000
    assert live.update() is None  # nothing new to fit


def test_too_few_checkpoints_wait_with_the_reason_said_once(tmp_path: Path) -> None:
    printed: list[str] = []
    logger = RunLogger(tmp_path / "store", "r", flush_every=1, printer=printed.append, refit_seconds=0,
                       schedule="cosine:peak=1e-3,warmup=10,total=100")
    for step in range(1, 6):
        logger.log(step, loss=5.0 - 0.1 * step)
    logger.close()
    assert len(printed) == 1 and "no forecast yet" in printed[0]
    assert len(RunLogger(tmp_path / "store", "r").store.load().curve("r")) == 5


def test_refits_are_throttled(tmp_path: Path) -> None:
    printed: list[str] = []
    logger = RunLogger(tmp_path / "store", "r", flush_every=5, printer=printed.append, refit_seconds=3600,
                       schedule="cosine:peak=1e-3,total=200")
    for step in range(1, 101):
        logger.log(step, loss=2.0 + 3.0 * step ** -0.5)
    assert len(printed) == 1  # 20 flushes, one refit: the next waits an hour
    logger.close()
    assert len(printed) == 2  # the end of the run always refits
    assert isinstance(LiveForecast("constant:peak=1,total=10").update(), type(None))


def test_a_fit_of_another_law_warns_once_and_the_forecast_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "chinchilla.json"
    with contextlib.redirect_stdout(io.StringIO()):
        assert run(["fit", "dataset:porian2024", "--where", "dataset == 'rw'", "--law", "chinchilla", "--out", str(path)]) == 0
    printed: list[str] = []
    with pytest.warns(ScalelawWarning, match="prior is not used.*'chinchilla'") as caught:
        logger = RunLogger(tmp_path / "store", "r", flush_every=10, printer=printed.append, refit_seconds=0,
                           forecast=path, schedule="constant:peak=1e-3,total=60")
        for step in range(1, 41):
            logger.log(step, loss=2.0 + 3.0 * step ** -0.5)
        logger.close()
    assert len([w for w in caught if "prior" in str(w.message)]) == 1
    assert printed and all("final loss at step 60" in line and "ladder prior" not in line for line in printed)
    with pytest.raises(InputError, match="lr-decay term"):
        prior_law(load_fit(path), None)  # type: ignore[arg-type]


def test_a_missing_fit_or_a_failing_tracker_never_raises(tmp_path: Path) -> None:
    def broken(metrics: dict[str, float], step: int) -> None:
        raise ConnectionError("tracker offline")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logger = RunLogger(tmp_path / "store", "r", flush_every=10, printer=lambda line: None, refit_seconds=0,
                           forecast=tmp_path / "missing.json", schedule="constant:peak=1e-3,total=60", reporter=broken)
        for step in range(1, 41):
            logger.log(step, loss=2.0 + 3.0 * step ** -0.5)
        logger.close()
    messages = [str(w.message) for w in caught]
    assert sum("prior is not used" in m for m in messages) == 1
    assert sum("tracker refused" in m and "tracker offline" in m for m in messages) == 1
    assert len(RunLogger(tmp_path / "store", "r").store.load().curve("r")) == 40


def test_a_waiting_forecast_is_not_a_forecast() -> None:
    assert Waiting(3, "x" * 500).message().endswith("...") and len(Waiting(3, "x" * 500).message()) < 260
