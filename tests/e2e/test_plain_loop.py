"""A hand-written torch loop logging to W&B (offline), MLflow's default store, TensorBoard and RunLogger at once.

Each tool's output is imported as the tool wrote it; the config / params / hparams hold
``num_parameters`` and ``tokens_per_step``, as a careful user logs them, so no --set is needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_flow import check_store, fit_predict_report, import_runs
from e2e_tiny import GRID
from e2e_tools import mlflow_store, train_plain_grid


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("plain")
    return root, train_plain_grid(GRID, root)


@pytest.mark.parametrize("tool", ["wandb", "mlflow", "tensorboard"])
def test_tool_output_as_written_imports_and_fits(trained: tuple[Path, dict[str, int]], tool: str, tmp_path: Path) -> None:
    root, params = trained
    source = {"wandb": root / "wandb", "mlflow": mlflow_store(root), "tensorboard": root / "tensorboard"}[tool]
    import_runs(str(source), tmp_path / "store")
    check_store(tmp_path / "store", params)
    fit_predict_report(tmp_path / "store", tmp_path)


def test_run_logger_store_fits(trained: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    root, params = trained
    check_store(root / "store", params)
    fit_predict_report(root / "store", tmp_path)
