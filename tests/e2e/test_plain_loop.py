"""A hand-written torch loop logging to W&B (offline), MLflow's default store and TensorBoard, and to RunLogger.

One loop per run logs to all four at once; each tool's output is then imported as the tool wrote
it. W&B, MLflow and TensorBoard get the model size and tokens per step as the run's config /
params / hparams (``num_parameters``, ``tokens_per_step``), as a careful user logs them.
"""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import pytest
import wandb
from e2e_flow import check_store, fit_predict_report, import_runs
from e2e_tiny import GRID, PEAK_LR, SEQ_LEN, TOKENS_PER_STEP, WARMUP, Spec, parameter_count, plain_loop, TinyLM
from torch.utils.tensorboard import SummaryWriter

from scalelaw.integrations import RunLogger


def train(spec: Spec, root: Path) -> int:
    params = parameter_count(TinyLM(spec.width))
    config = {"num_parameters": params, "tokens_per_step": TOKENS_PER_STEP, "seq_len": SEQ_LEN, "lr": PEAK_LR}
    schedule = f"cosine:peak={PEAK_LR},warmup={WARMUP},total={spec.steps}"
    board = SummaryWriter(str(root / "tensorboard" / spec.name))
    board.add_hparams(config, {})
    logger = RunLogger(root / "store", spec.name, meta={"params": params, "batch_size": TOKENS_PER_STEP},
                       flush_every=3, schedule=schedule, refit_seconds=0)
    run = wandb.init(project="e2e", name=spec.name, dir=str(root), mode="offline", config=config)
    with mlflow.start_run(run_name=spec.name):
        mlflow.log_params(config)
        for step, loss, lr, _ in plain_loop(spec):
            # the loss of the batch was measured after step - 1 updates
            run.log({"loss": loss, "lr": lr}, step=step - 1)
            mlflow.log_metrics({"loss": loss, "lr": lr}, step=step - 1)
            board.add_scalar("loss", loss, step - 1)
            board.add_scalar("lr", lr, step - 1)
            logger.log(step - 1, loss=loss, lr=lr)
    run.finish()
    board.close()
    logger.close()
    return params


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("plain")
    here = os.getcwd()
    os.chdir(root)  # MLflow's default store is relative to the working directory
    try:
        mlflow.set_experiment("e2e")
        params = {spec.name: train(spec, root) for spec in GRID}
    finally:
        os.chdir(here)
    return root, params


def _mlflow_store(root: Path) -> Path:
    """What MLflow wrote by default: a sqlite file (MLflow 3) or an mlruns/ folder (older)."""
    return root / "mlflow.db" if (root / "mlflow.db").exists() else root / "mlruns"


@pytest.mark.parametrize("tool", ["wandb", "mlflow", "tensorboard"])
def test_tool_output_as_written_imports_and_fits(trained: tuple[Path, dict[str, int]], tool: str, tmp_path: Path) -> None:
    root, params = trained
    source = {"wandb": root / "wandb", "mlflow": _mlflow_store(root), "tensorboard": root / "tensorboard"}[tool]
    import_runs(str(source), tmp_path / "store")
    check_store(tmp_path / "store", params)
    fit_predict_report(tmp_path / "store", tmp_path)


def test_run_logger_store_fits(trained: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    root, params = trained
    check_store(root / "store", params)
    fit_predict_report(root / "store", tmp_path)
