"""The Hugging Face Trainer, trained for real: its output folder as written, and the scalelaw callback's store."""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path

import pytest
from e2e_flow import check_store, fit_predict_report, import_runs
from e2e_tiny import GRID
from e2e_tools import train_hf

from scalelaw.integrations import ScalelawCallback

FORECAST = re.compile(r"scalelaw forecast: step (\d+): loss \S+; final loss at step (\d+): (\S+) \[(\S+), (\S+)\]")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The grid trained without scalelaw: the output folder exactly as the Trainer wrote it."""
    out = tmp_path_factory.mktemp("hf") / "out"
    return out, {spec.name: train_hf(spec, out, report_to=[]) for spec in GRID}


@pytest.fixture(scope="module")
def with_callback(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int], str]:
    """The grid trained with ScalelawCallback (refitting at every flush) and TensorBoard as the Trainer's tracker."""
    work = tmp_path_factory.mktemp("hf-callback")
    store, printed, params = work / "store", io.StringIO(), {}
    with contextlib.redirect_stdout(printed):
        for spec in GRID:
            callback = ScalelawCallback(store, flush_every=3, refit_seconds=0)
            params[spec.name] = train_hf(spec, work / "out", report_to=["tensorboard"], callbacks=[callback])
    return work, store, params, printed.getvalue()


def test_trainer_output_as_written_imports_with_size_and_tokens(plain: tuple[Path, dict[str, int]],
                                                                 tmp_path: Path) -> None:
    """`scalelaw runs import out/`: params from checkpoint-*/config.json, tokens from the steps, batch and the
    model's context length (no --set: the Trainer's folder holds all of it)."""
    out, params = plain
    import_runs(str(out), tmp_path / "store")
    check_store(tmp_path / "store", params)
    fits = fit_predict_report(tmp_path / "store", tmp_path)
    assert all(math.isfinite(v) for v in fits["chinchilla"].params.values())


def test_callback_store_has_size_and_tokens_and_fits(with_callback: tuple[Path, Path, dict[str, int], str],
                                                     tmp_path: Path) -> None:
    _, store, params, _ = with_callback
    check_store(store, params)  # params from the model, tokens from the Trainer's own count
    fits = fit_predict_report(store, tmp_path)
    assert all(math.isfinite(v) for v in fits["auto"].params.values())


def test_callback_forecast_is_printed_on_its_own_line_and_reaches_tensorboard(
        with_callback: tuple[Path, Path, dict[str, int], str]) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    work, _, _, printed = with_callback
    lines = [line for line in printed.splitlines() if "scalelaw forecast" in line]
    assert all(line.startswith("scalelaw forecast: step ") for line in lines)  # each on a line of its own
    finals = [FORECAST.match(line) for line in lines if "final loss" in line]
    assert all(m is not None for m in finals), lines
    assert {int(m.group(2)) for m in finals} <= {spec.steps for spec in GRID} and len(finals) >= 3  # type: ignore[union-attr]
    assert len({m.group(3) for m in finals}) > 1  # type: ignore[union-attr]  # the forecast moves as the runs go
    longest = max(GRID, key=lambda s: (s.steps, s.width))
    events = EventAccumulator(str(next((work / "out" / longest.name / "runs").iterdir())))  # the Trainer's default
    events.Reload()
    scalars = events.Tags()["scalars"]
    series = {name: [e.value for e in events.Scalars(next(t for t in scalars if t.endswith(name)))]
              for name in ("scalelaw/forecast", "scalelaw/forecast_lo", "scalelaw/forecast_hi")
              if any(t.endswith(name) for t in scalars)}
    assert len(series) == 3 and series["scalelaw/forecast"], scalars
    for lo, mid, hi in zip(series["scalelaw/forecast_lo"], series["scalelaw/forecast"], series["scalelaw/forecast_hi"],
                           strict=True):
        assert math.isfinite(mid) and lo <= mid <= hi
