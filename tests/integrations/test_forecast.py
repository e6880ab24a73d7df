"""The live forecast printed while logging: the fitted curve law's final loss and interval."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

import scalelaw.datasets as datasets
from scalelaw.cli.main import run
from scalelaw.data.schedules import schedule_from_logged
from scalelaw.errors import InputError
from scalelaw.fit import load_fit
from scalelaw.integrations import LiveForecast, RunLogger


@pytest.fixture(scope="module")
def annealing_fit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    with contextlib.redirect_stdout(io.StringIO()):
        code = run(["fit", "dataset:multipowerlaw-25m", "--where", "run in ['constant_24000', 'wsdcon_9']",
                    "--law", "lr-annealing", "--out", str(path)])
    assert code == 0
    return path


def test_forecast_while_logging_a_held_out_run(annealing_fit: Path, tmp_path: Path) -> None:
    curve = datasets.load("multipowerlaw-25m").curve("cosine_24000")
    schedule = schedule_from_logged(curve["step"].to_numpy(), curve["lr"].to_numpy())
    printed: list[str] = []
    logger = RunLogger(tmp_path / "store", "cosine", flush_every=50, printer=printed.append,
                       forecast=annealing_fit, schedule=schedule)
    logged = curve.dropna(subset=["loss"])
    for step, loss in zip(logged["step"], logged["loss"], strict=True):
        logger.log(int(step), loss=loss)
    logger.close()
    assert len(printed) >= 2 and all("final loss at step 24000" in line for line in printed)
    final, lo, hi = map(float, re.search(r"final loss at step 24000: (\S+) \[(\S+), (\S+)\]", printed[-1]).groups())
    expected = load_fit(annealing_fit).predict(schedule=schedule, steps=np.array([24000]))
    assert final == pytest.approx(float(expected.loss[0]), rel=1e-3) and lo < final < hi
    assert lo <= logged["loss"].iloc[-1] <= hi  # the held-out run's last logged loss lies in the interval


def test_forecast_needs_a_curve_law(tmp_path: Path) -> None:
    path = tmp_path / "chinchilla.json"
    with contextlib.redirect_stdout(io.StringIO()):
        assert run(["fit", "dataset:porian2024", "--law", "chinchilla", "--out", str(path)]) == 0
    with pytest.raises(InputError, match="loss-curve law"):
        LiveForecast(path, "cosine:peak=3e-4,total=1000")
