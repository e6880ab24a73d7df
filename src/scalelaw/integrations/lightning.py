"""A Lightning callback that logs the run to the scalelaw run store while it trains.

``Trainer(callbacks=[ScalelawLightningCallback("scalelaw-runs")])``. At each optimizer step
the batch's train loss (the ``loss`` the training step returned, measured before the update, so
at the step before, as Lightning's own loggers record it), the update's lr (the first
optimizer's) and the tokens seen are logged as ``train_loss``, ``lr`` and ``tokens``; after each validation,
``callback_metrics[loss_key]`` (default ``val_loss``) is logged too. The fitted ``loss`` is the
validation loss when the module has a ``validation_step`` (``loss="auto"``), else the train
loss; ``loss="val"`` or ``loss="train"`` forces it. Steps are ``trainer.global_step``; only the
global-zero process logs; the sanity check is skipped. Uses ``lightning.pytorch``, else
``pytorch_lightning``.

Tokens are counted from the batches: the elements of the token-id tensor (``input_ids`` of a
dict batch, else the first integer tensor of a tuple or the batch itself) of every
micro-batch, times the number of processes. A batch without an integer tensor (features, not
tokens) records no tokens. The live forecast reads the planned lr from the optimizer and a
per-step ``LambdaLR`` (constant without a scheduler) and logs ``scalelaw/forecast``,
``scalelaw/forecast_lo`` and ``scalelaw/forecast_hi`` to the trainer's loggers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scalelaw.errors import ScalelawWarning, warn
from scalelaw.integrations.logger import RunLogger
from scalelaw.integrations.torch_schedule import planned_schedule

try:
    from lightning.pytorch import Callback
    from lightning.pytorch.utilities.model_helpers import is_overridden
except ImportError:
    try:
        from pytorch_lightning import Callback
        from pytorch_lightning.utilities.model_helpers import is_overridden
    except ImportError as exc:  # lightning is optional: only this module needs it
        raise ImportError("ScalelawLightningCallback needs lightning: pip install lightning") from exc


class ScalelawLightningCallback(Callback):
    """Append train loss, lr, tokens and validation loss to a run store; ``run`` defaults to the logger's
    name/version (else the root folder's name), ``meta`` to ``{"params": <parameter count>}``.

    ``forecast`` is a ladder FIT.json used as the live forecast's prior; ``schedule`` a spec that
    overrides the plan read from the optimizer; ``live_forecast=False`` turns the forecast off.
    """

    def __init__(self, store: str | Path = "scalelaw-runs", *, run: str | None = None, meta: Mapping[str, Any] | None = None,
                 loss_key: str = "val_loss", loss: str = "auto", flush_every: int = 50,
                 forecast: str | Path | None = None, schedule: str | None = None, live_forecast: bool = True,
                 refit_seconds: float = 60.0) -> None:
        if loss not in ("auto", "val", "train"):
            raise ValueError("loss must be 'auto', 'val' or 'train'")
        self.options = dict(store=store, flush_every=flush_every, forecast=forecast, refit_seconds=refit_seconds)
        self.run, self.meta, self.loss_key, self.loss = run, dict(meta or {}), loss_key, loss
        self.schedule, self.live_forecast = schedule, live_forecast
        self.logger: RunLogger | None = None
        self.validates = True
        self._tokens = 0
        self._last_step = -1
        self._lr: float | None = None

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if not trainer.is_global_zero:
            return
        meta = dict(self.meta)
        meta.setdefault("params", float(sum(p.numel() for p in pl_module.parameters())))
        run = self.run
        if run is None and trainer.logger is not None:
            run = f"{trainer.logger.name}/version_{trainer.logger.version}"
        run = run or Path(trainer.default_root_dir).resolve().name
        self.validates = self.loss == "val" or (self.loss == "auto" and is_overridden("validation_step", pl_module)
                                                 and trainer.limit_val_batches != 0)
        source = self.loss_key if self.validates else "train_loss"
        schedule = self._schedule(trainer) if self.live_forecast else None
        self._tokens, self._last_step = 0, trainer.global_step
        self.logger = RunLogger(run=run, meta=meta, loss_source=source, schedule=schedule,  # type: ignore[arg-type]
                                reporter=lambda metrics, step: _log_to(trainer, metrics, step), **self.options)

    def _schedule(self, trainer: Any) -> Any:
        """The given schedule spec, else the plan of the first optimizer and its per-step scheduler."""
        if self.schedule is not None:
            return self.schedule
        configs = list(getattr(trainer, "lr_scheduler_configs", []) or [])
        if configs and getattr(configs[0], "interval", "step") != "step":
            warn("no live forecast: the lr scheduler steps per epoch; pass schedule='cosine:peak=...,total=...'",
                 ScalelawWarning)
            return None
        total = trainer.max_steps if trainer.max_steps and trainer.max_steps > 0 else trainer.estimated_stepping_batches
        optimizer = trainer.optimizers[0] if trainer.optimizers else None
        planned = planned_schedule(optimizer, configs[0].scheduler if configs else None,
                                   int(total) if total != float("inf") else 0)
        if isinstance(planned, str):
            warn(f"no live forecast: {planned}", ScalelawWarning)
            return None
        return planned

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        optimizers = trainer.optimizers
        self._lr = optimizers[0].param_groups[0]["lr"] if optimizers else None  # the rate of the coming update

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.logger is None:
            return
        self._tokens += _token_count(batch) * max(1, int(getattr(trainer, "world_size", 1) or 1))
        step = trainer.global_step
        if step == self._last_step:
            return  # a micro-batch of gradient accumulation: the step is logged when the optimizer steps
        self._last_step = step
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        # The batch's loss was measured after step - 1 updates (Lightning logs it at that step too);
        # the lr and the tokens are those of update ``step``.
        self.logger.log(step - 1, train_loss=loss, **({"loss": loss} if not self.validates else {}))
        self.logger.log(step, lr=self._lr, **({"tokens": self._tokens} if self._tokens > 0 else {}))

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self.logger is None or trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.loss_key)
        if value is not None:
            self.logger.log(trainer.global_step, **({"loss": value} if self.validates else {}),
                            **{self.loss_key: value})

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self.logger is not None:
            self.logger.close()


def _log_to(trainer: Any, metrics: dict[str, float], step: int) -> None:
    """Hand the forecast to every logger of the trainer."""
    for logger in getattr(trainer, "loggers", []) or []:
        logger.log_metrics(dict(metrics), step=step)


def _token_count(batch: Any) -> int:
    """Token ids in one micro-batch: ``input_ids`` of a mapping, else the first integer tensor (0 if none)."""
    if isinstance(batch, Mapping):
        batch = batch.get("input_ids", next(iter(batch.values()), None))
    elif isinstance(batch, (tuple, list)):
        batch = batch[0] if batch else None
    dtype = getattr(batch, "dtype", None)
    is_int = (dtype is not None and not getattr(dtype, "is_floating_point", True)
              and not getattr(dtype, "is_complex", False) and str(dtype) != "torch.bool")
    return int(batch.numel()) if is_int and hasattr(batch, "numel") else 0
