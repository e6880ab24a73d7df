"""Lightning, trained for real with its CSVLogger: the logger's folder as written, and the scalelaw callback's store."""

from __future__ import annotations

import math
from pathlib import Path

import lightning
import pytest
import torch
from e2e_flow import check_store, fit_predict_report, import_runs
from e2e_tiny import BATCH, GRID, PEAK_LR, SEQ_LEN, TOKENS_PER_STEP, Spec, TinyLM, lr_factor, markov_batches, parameter_count

from scalelaw.integrations import ScalelawLightningCallback


class LitTiny(lightning.LightningModule):
    """A TinyLM trained by Lightning, its size and context length saved as hyperparameters."""

    def __init__(self, width: int, steps: int) -> None:
        super().__init__()
        self.model, self.steps = TinyLM(width), steps
        self.save_hyperparameters({"width": width, "num_parameters": parameter_count(self.model), "seq_len": SEQ_LEN})

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        loss = self.model(batch)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self) -> dict[str, object]:
        optimizer = torch.optim.AdamW(self.parameters(), lr=PEAK_LR)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(self.steps))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def train(spec: Spec, root: Path, store: Path) -> int:
    module = LitTiny(spec.width, spec.steps)
    loader = torch.utils.data.DataLoader(markov_batches(spec.steps).reshape(-1, SEQ_LEN), batch_size=BATCH)
    trainer = lightning.Trainer(
        max_steps=spec.steps, accelerator="cpu", devices=1, log_every_n_steps=3, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(root),
        logger=lightning.pytorch.loggers.CSVLogger(str(root / "logs"), name=spec.name),
        callbacks=[ScalelawLightningCallback(store, flush_every=2, refit_seconds=0)])
    trainer.fit(module, loader)
    return parameter_count(module)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("lightning")
    params = {spec.name: train(spec, root, root / "store") for spec in GRID}
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
