"""Lightning, trained for real with its CSVLogger: the logger's folder as written, and the scalelaw callback's store."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from e2e_flow import check_store, fit_predict_report, import_runs
from e2e_tiny import GRID, TOKENS_PER_STEP
from e2e_tools import train_lightning


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("lightning")
    params = {spec.name: train_lightning(spec, root, root / "store") for spec in GRID}
    return root / "logs", root / "store", params


def test_csv_logger_folder_as_written_imports_with_size(trained: tuple[Path, Path, dict[str, int]], tmp_path: Path) -> None:
    """`scalelaw runs import logs/`: params from hparams.yaml; tokens per step is what Lightning cannot know."""
    logs, _, params = trained
    import_runs(str(logs), tmp_path / "store", f"--set batch_size={TOKENS_PER_STEP}")
    check_store(tmp_path / "store", params)
    fit_predict_report(tmp_path / "store", tmp_path)


def test_callback_store_has_size_tokens_and_the_forecast(trained: tuple[Path, Path, dict[str, int]], tmp_path: Path) -> None:
    logs, store, params = trained
    check_store(store, params)  # params from the module, tokens counted from the batches' token ids
    longest = max(GRID, key=lambda s: (s.steps, s.width))
    metrics = (logs / longest.name / "version_0" / "metrics.csv").read_text().splitlines()
    header = metrics[0].split(",")
    assert {"scalelaw/forecast", "scalelaw/forecast_lo", "scalelaw/forecast_hi"} <= set(header)  # back in the logger
    column = header.index("scalelaw/forecast")
    values = [float(row.split(",")[column]) for row in metrics[1:] if row.split(",")[column]]
    assert values and all(math.isfinite(v) for v in values)
    fit_predict_report(store, tmp_path)
