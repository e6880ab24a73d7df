"""Each tool trains the grid of :mod:`e2e_tiny` for real (used by the tests and by bench/read_tool_outputs.py).

The tools are imported where they are used, so that importing this module costs nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from e2e_tiny import (BATCH, PEAK_LR, SEQ_LEN, TOKENS_PER_STEP, VOCAB, WARMUP, Spec, TinyLM, lr_factor,
                      markov_batches, parameter_count, plain_loop)
from scalelaw.integrations import RunLogger


def train_hf(spec: Spec, out: Path, **extra: Any) -> int:
    """One tiny GPT-2 trained by the Hugging Face Trainer into ``out/<run>``; its parameter count."""
    import transformers

    config = transformers.GPT2Config(vocab_size=VOCAB, n_positions=SEQ_LEN, n_embd=spec.width, n_layer=1, n_head=2,
                                     bos_token_id=0, eos_token_id=0)
    transformers.set_seed(0)
    model = transformers.GPT2LMHeadModel(config)
    rows = [{"input_ids": ids, "labels": ids} for ids in markov_batches(spec.steps).reshape(-1, SEQ_LEN)]
    callbacks = extra.pop("callbacks", None)
    settings = {"logging_steps": 3, "lr_scheduler_type": "cosine", **extra}  # a test may log less or change schedule
    args = transformers.TrainingArguments(
        output_dir=str(out / spec.name), per_device_train_batch_size=BATCH, max_steps=spec.steps,
        learning_rate=PEAK_LR, warmup_steps=WARMUP, use_cpu=True, save_strategy="steps",
        save_steps=spec.steps, disable_tqdm=True, seed=0, data_seed=0, **settings)
    transformers.Trainer(model=model, args=args, train_dataset=rows, callbacks=callbacks).train()
    return sum(p.numel() for p in model.parameters())


def train_lightning(spec: Spec, root: Path, store: Path) -> int:
    """A TinyLM trained by Lightning with a CSVLogger (``root/logs/<run>/version_0``) and the scalelaw callback."""
    import lightning

    from scalelaw.integrations import ScalelawLightningCallback

    class LitTiny(lightning.LightningModule):
        """A TinyLM, its size and context length saved as hyperparameters."""

        def __init__(self, width: int, steps: int) -> None:
            super().__init__()
            self.model, self.steps = TinyLM(width), steps
            self.save_hyperparameters({"width": width, "num_parameters": parameter_count(self.model),
                                       "seq_len": SEQ_LEN})

        def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
            loss = self.model(batch)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self) -> dict[str, object]:
            optimizer = torch.optim.AdamW(self.parameters(), lr=PEAK_LR)
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(self.steps))
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    module = LitTiny(spec.width, spec.steps)
    loader = torch.utils.data.DataLoader(markov_batches(spec.steps).reshape(-1, SEQ_LEN), batch_size=BATCH)
    trainer = lightning.Trainer(
        max_steps=spec.steps, accelerator="cpu", devices=1, log_every_n_steps=3, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(root),
        logger=lightning.pytorch.loggers.CSVLogger(str(root / "logs"), name=spec.name),
        callbacks=[ScalelawLightningCallback(store, flush_every=20, refit_seconds=0)])
    trainer.fit(module, loader)
    return parameter_count(module)


def train_plain(spec: Spec, root: Path) -> int:
    """A hand-written loop logging to W&B offline, MLflow's default store (the working directory), TensorBoard and
    RunLogger at once; the config holds ``num_parameters`` and ``tokens_per_step``, as a careful user logs them."""
    import mlflow
    import wandb
    from torch.utils.tensorboard import SummaryWriter

    params = parameter_count(TinyLM(spec.width))
    config = {"num_parameters": params, "tokens_per_step": TOKENS_PER_STEP, "seq_len": SEQ_LEN, "lr": PEAK_LR}
    schedule = f"cosine:peak={PEAK_LR},warmup={WARMUP},total={spec.steps}"
    board = SummaryWriter(str(root / "tensorboard" / spec.name))
    board.add_hparams(config, {})
    logger = RunLogger(root / "store", spec.name, meta={"params": params, "batch_size": TOKENS_PER_STEP},
                       flush_every=10, schedule=schedule, refit_seconds=0)
    run = wandb.init(project="e2e", name=spec.name, dir=str(root), mode="offline", config=config)
    with mlflow.start_run(run_name=spec.name):
        mlflow.log_params(config)
        for step, loss, lr, _ in plain_loop(spec):
            # the batch's loss was measured after step - 1 updates
            run.log({"loss": loss, "lr": lr}, step=step - 1)
            mlflow.log_metrics({"loss": loss, "lr": lr}, step=step - 1)
            board.add_scalar("loss", loss, step - 1)
            board.add_scalar("lr", lr, step - 1)
            logger.log(step - 1, loss=loss, lr=lr)
    run.finish()
    board.close()
    logger.close()
    return params


def train_plain_grid(specs: Any, root: Path) -> dict[str, int]:
    """:func:`train_plain` for every run, in ``root`` as the working directory (MLflow's default store)."""
    import mlflow

    here = os.getcwd()
    os.chdir(root)
    try:
        mlflow.set_experiment("e2e")
        return {spec.name: train_plain(spec, root) for spec in specs}
    finally:
        os.chdir(here)


def mlflow_store(root: Path) -> Path:
    """What MLflow wrote by default: a sqlite file (MLflow 3) or an mlruns/ folder (older)."""
    return root / "mlflow.db" if (root / "mlflow.db").exists() else root / "mlruns"
