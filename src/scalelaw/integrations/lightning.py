"""A Lightning callback that logs the run to the scalelaw run store while it trains.

``Trainer(callbacks=[ScalelawLightningCallback("scalelaw-runs")])``. After each training
batch the step's train loss (the ``loss`` the training step returned) and the first optimizer's
lr are logged as ``train_loss`` and ``lr``; after each validation, ``callback_metrics[loss_key]``
(default ``val_loss``) is the fitted ``loss``. Steps are ``trainer.global_step``; only the
global-zero process logs; the sanity check is skipped. Uses ``lightning.pytorch``, else
``pytorch_lightning``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scalelaw.integrations.logger import RunLogger

try:
    from lightning.pytorch import Callback
except ImportError:
    try:
        from pytorch_lightning import Callback
    except ImportError as exc:  # lightning is optional: only this module needs it
        raise ImportError("ScalelawLightningCallback needs lightning: pip install lightning") from exc


class ScalelawLightningCallback(Callback):
    """Append train loss, lr and validation loss to a run store; ``run`` defaults to the logger's
    name/version (else the root folder's name), ``meta`` to ``{"params": <parameter count>}``."""

    def __init__(self, store: str | Path = "scalelaw-runs", *, run: str | None = None, meta: Mapping[str, Any] | None = None,
                 loss_key: str = "val_loss", flush_every: int = 50, forecast: str | Path | None = None,
                 schedule: str | None = None) -> None:
        self.options = dict(store=store, flush_every=flush_every, forecast=forecast, schedule=schedule)
        self.run, self.meta, self.loss_key = run, dict(meta or {}), loss_key
        self.logger: RunLogger | None = None

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if not trainer.is_global_zero:
            return
        meta = dict(self.meta)
        meta.setdefault("params", float(sum(p.numel() for p in pl_module.parameters())))
        run = self.run
        if run is None and trainer.logger is not None:
            run = f"{trainer.logger.name}/version_{trainer.logger.version}"
        run = run or Path(trainer.default_root_dir).resolve().name
        self.logger = RunLogger(run=run, meta=meta, loss_source=self.loss_key, **self.options)  # type: ignore[arg-type]

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.logger is None:
            return
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        optimizers = trainer.optimizers
        lr = optimizers[0].param_groups[0]["lr"] if optimizers else None
        self.logger.log(trainer.global_step, train_loss=loss, lr=lr)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self.logger is None or trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.loss_key)
        if value is not None:
            self.logger.log(trainer.global_step, loss=value)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self.logger is not None:
            self.logger.close()
