"""A Hugging Face ``Trainer`` callback that logs the run to the scalelaw run store while it trains.

``trainer = Trainer(..., callbacks=[ScalelawCallback("scalelaw-runs")])``. Each ``on_log``
becomes a point at ``state.global_step``: ``eval_loss`` → ``eval_loss``, ``loss`` →
``train_loss``, ``learning_rate`` → ``lr``, other numbers kept by name. The fitted ``loss`` is the
eval loss when the trainer evaluates (``eval_strategy`` is not ``"no"``), else the train loss;
``loss="train"`` or ``loss="eval"`` forces it. Only the main process logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scalelaw.integrations.logger import RunLogger

try:
    from transformers import TrainerCallback
except ImportError as exc:  # transformers is optional: only this module needs it
    raise ImportError("ScalelawCallback needs transformers: pip install transformers") from exc

RENAMED = {"loss": "train_loss", "learning_rate": "lr"}


class ScalelawCallback(TrainerCallback):
    """Append the Trainer's logs to a run store; ``run`` defaults to the output folder's name,
    ``meta`` to ``{"params": <the model's parameter count>}``; ``forecast``/``schedule`` as in RunLogger."""

    def __init__(self, store: str | Path = "scalelaw-runs", *, run: str | None = None, meta: Mapping[str, Any] | None = None,
                 loss: str = "auto", flush_every: int = 50, forecast: str | Path | None = None,
                 schedule: str | None = None) -> None:
        if loss not in ("auto", "eval", "train"):
            raise ValueError("loss must be 'auto', 'eval' or 'train'")
        self.options = dict(store=store, flush_every=flush_every, forecast=forecast, schedule=schedule)
        self.run, self.meta, self.loss = run, dict(meta or {}), loss
        self.logger: RunLogger | None = None
        self.source = "eval_loss"

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        meta = dict(self.meta)
        if "params" not in meta and model is not None:
            meta["params"] = float(sum(p.numel() for p in model.parameters()))
        evaluates = str(getattr(args, "eval_strategy", "no")).lower() not in ("no", "intervalstrategy.no")
        self.source = "eval_loss" if self.loss == "eval" or (self.loss == "auto" and evaluates) else "train_loss"
        run = self.run or Path(args.output_dir).name
        self.logger = RunLogger(run=run, meta=meta, loss_source=self.source, **self.options)  # type: ignore[arg-type]

    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if self.logger is None or not logs:
            return
        metrics = {RENAMED.get(k, k): v for k, v in logs.items()}
        self.logger.log(state.global_step, loss=metrics.get(self.source), **metrics)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.logger is not None:
            self.logger.close()
