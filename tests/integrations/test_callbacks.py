"""The Hugging Face and Lightning callbacks on tiny real trainings (the [test] extra installs both libraries)."""

from __future__ import annotations

from pathlib import Path

from scalelaw.data.store import RunStore


def test_integrations_import_without_the_optional_libraries() -> None:
    import subprocess
    import sys

    code = ("import sys; sys.modules['transformers'] = None; sys.modules['lightning'] = None; "
            "sys.modules['pytorch_lightning'] = None; sys.modules['torch'] = None\n"
            "import scalelaw.integrations as i; from scalelaw.integrations import RunLogger, log_point\n"
            "try:\n    i.ScalelawCallback\nexcept ImportError as e:\n    print('clear:', e)\n")
    src = str(Path(__file__).parent.parent.parent / "src")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": src}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "clear: ScalelawCallback needs transformers" in out.stdout


def test_huggingface_trainer_callback(tmp_path: Path) -> None:
    import torch
    import transformers  # installed by the [test] extra: never skipped in CI
    from scalelaw.integrations import ScalelawCallback

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 1)

        def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"loss": torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), labels)}

    generator = torch.Generator().manual_seed(0)
    data = [{"x": torch.randn(4, generator=generator), "labels": torch.tensor(1.0)} for _ in range(64)]
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "hf-run"), per_device_train_batch_size=8,
                                          num_train_epochs=2, logging_steps=2, eval_strategy="steps", eval_steps=4,
                                          learning_rate=0.05, report_to=[], save_strategy="no", use_cpu=True)
    trainer = transformers.Trainer(model=Tiny(), args=args, train_dataset=data, eval_dataset=data[:16],
                                   callbacks=[ScalelawCallback(tmp_path / "store", flush_every=3)])
    trainer.train()
    curve = RunStore(tmp_path / "store").load().curve("hf-run")
    assert curve["params"].unique().tolist() == [5.0]
    assert curve["step"].tolist() == sorted(curve["step"].tolist()) and curve["step"].max() == 16
    evals = curve.dropna(subset=["loss"])
    assert evals["step"].tolist() == [4.0, 8.0, 12.0, 16.0]  # the fitted loss is the eval loss
    assert evals["loss"].tolist() == evals["eval_loss"].tolist() and curve["loss_source"].unique().tolist() == ["eval_loss"]
    assert curve["train_loss"].notna().sum() == 8 and curve["lr"].notna().sum() == 8


def test_lightning_callback(tmp_path: Path) -> None:
    import lightning.pytorch as lightning  # installed by the [test] extra: never skipped in CI
    import torch
    from scalelaw.integrations import ScalelawLightningCallback

    class Tiny(lightning.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 1)

        def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
            return torch.nn.functional.mse_loss(self.linear(batch[0]), batch[1])

        def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
            self.log("val_loss", torch.nn.functional.mse_loss(self.linear(batch[0]), batch[1]))

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=0.05)

    generator = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(64, 4, generator=generator), torch.ones(64, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=8)
    trainer = lightning.Trainer(max_epochs=2, default_root_dir=str(tmp_path), logger=False, enable_checkpointing=False,
                                enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                                callbacks=[ScalelawLightningCallback(tmp_path / "store", run="tiny", flush_every=4)])
    trainer.fit(Tiny(), loader, loader)
    curve = RunStore(tmp_path / "store").load().curve("tiny")
    assert curve["step"].max() == 16 and curve["train_loss"].notna().sum() == 16
    assert curve.dropna(subset=["loss"])["step"].tolist() == [8.0, 16.0]  # one validation per epoch
    assert curve["params"].unique().tolist() == [5.0] and curve["lr"].dropna().unique().tolist() == [0.05]
    assert curve["loss_source"].unique().tolist() == ["val_loss"]


def test_callback_given_a_fit_of_another_law_warns_once_and_trains_on(tmp_path: Path) -> None:
    """Bad input inside a training loop is a warning, never an exception: a FIT.json of a final-loss law."""
    import contextlib
    import io
    import warnings

    import torch
    import transformers

    from scalelaw.cli.main import run
    from scalelaw.integrations import ScalelawCallback

    fit = tmp_path / "chinchilla.json"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert run(["fit", "dataset:porian2024", "--where", "dataset == 'rw'", "--law", "chinchilla",
                    "--out", str(fit)]) == 0

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 1)

        def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"loss": torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), labels) + 1.0}

    generator = torch.Generator().manual_seed(0)
    data = [{"x": torch.randn(4, generator=generator), "labels": torch.tensor(1.0)} for _ in range(64)]
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "hf-run"), per_device_train_batch_size=8,
                                          num_train_epochs=2, logging_steps=1, learning_rate=0.05, report_to=[],
                                          save_strategy="no", use_cpu=True, disable_tqdm=True)
    printed = io.StringIO()
    callback = ScalelawCallback(tmp_path / "store", flush_every=8, forecast=fit, refit_seconds=3600)
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
        warnings.simplefilter("always")
        transformers.Trainer(model=Tiny(), args=args, train_dataset=data, callbacks=[callback]).train()
    about_prior = [w for w in caught if "prior is not used" in str(w.message)]
    assert len(about_prior) == 1 and "'chinchilla'" in str(about_prior[0].message)
    assert RunStore(tmp_path / "store").load().curve("hf-run")["step"].max() == 16  # the run went on to the end
    lines = [line for line in printed.getvalue().splitlines() if line.startswith("scalelaw forecast")]
    assert lines and "final loss at step 16" in lines[-1] and "ladder prior" not in lines[-1]
