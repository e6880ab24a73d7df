"""A Hugging Face ``Trainer`` callback that logs the run to the scalelaw run store while it trains.

``trainer = Trainer(..., callbacks=[ScalelawCallback("scalelaw-runs")])``. Each ``on_log``
becomes a point at ``state.global_step``: ``eval_loss`` → ``eval_loss``, ``loss`` →
``train_loss``, ``learning_rate`` → ``lr``, other numbers kept by name. The fitted ``loss`` is the
eval loss when the trainer evaluates (``eval_strategy`` is not ``"no"``), else the train loss;
``loss="train"`` or ``loss="eval"`` forces it. Only the main process logs.

Model size and tokens are recorded: ``params`` is the model's parameter count, ``tokens`` the
Trainer's own count of input tokens (for a transformers model the callback turns on
``include_num_input_tokens_seen``, which counts every micro-batch on every process). The live forecast reads the planned lr
schedule from the Trainer's scheduler and logs ``scalelaw/forecast``, ``scalelaw/forecast_lo``
and ``scalelaw/forecast_hi`` through ``Trainer.log``, so they reach every tracker in
``report_to``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scalelaw.errors import ScalelawWarning, warn
from scalelaw.integrations.logger import RunLogger
from scalelaw.integrations.torch_schedule import planned_schedule

try:
    from transformers import Trainer, TrainerCallback
except ImportError as exc:  # transformers is optional: only this module needs it
    raise ImportError("ScalelawCallback needs transformers: pip install transformers") from exc

RENAMED = {"loss": "train_loss", "learning_rate": "lr"}
#: Prefix of the forecast's own metrics (logged back through Trainer.log; not training points).
OWN_PREFIX = "scalelaw/"


class ScalelawCallback(TrainerCallback):
    """Append the Trainer's logs to a run store; ``run`` defaults to the output folder's name,
    ``meta`` to ``{"params": <the model's parameter count>}``.

    ``forecast`` is a ladder FIT.json used as the live forecast's prior; ``schedule`` overrides
    the schedule read from the Trainer's scheduler; ``live_forecast=False`` turns the forecast off;
    ``refit_seconds`` throttles it (see :mod:`scalelaw.integrations.forecast`).
    """

    def __init__(self, store: str | Path = "scalelaw-runs", *, run: str | None = None, meta: Mapping[str, Any] | None = None,
                 loss: str = "auto", flush_every: int = 50, forecast: str | Path | None = None,
                 schedule: str | None = None, live_forecast: bool = True, refit_seconds: float = 60.0) -> None:
        if loss not in ("auto", "eval", "train"):
            raise ValueError("loss must be 'auto', 'eval' or 'train'")
        self.options = dict(store=store, flush_every=flush_every, forecast=forecast, refit_seconds=refit_seconds)
        self.run, self.meta, self.loss, self.schedule = run, dict(meta or {}), loss, schedule
        self.live_forecast = live_forecast
        self.logger: RunLogger | None = None
        self.source = "eval_loss"
        self._trainer: Any = None
        self._counting_tokens = False

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, optimizer: Any = None,
                       lr_scheduler: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        meta = dict(self.meta)
        if "params" not in meta and model is not None:
            meta["params"] = float(sum(p.numel() for p in model.parameters()))
        counts = hasattr(model, "main_input_name")  # a transformers model: its batches hold token ids
        if counts and getattr(args, "include_num_input_tokens_seen", "no") in ("no", False):
            args.include_num_input_tokens_seen = "all"  # read by the Trainer at every step
            self._counting_tokens = True
        evaluates = str(getattr(args, "eval_strategy", "no")).lower() not in ("no", "intervalstrategy.no")
        self.source = "eval_loss" if self.loss == "eval" or (self.loss == "auto" and evaluates) else "train_loss"
        run = self.run or Path(args.output_dir).name
        self._trainer = _calling_trainer()
        schedule = self._schedule(optimizer, lr_scheduler, state) if self.live_forecast else None
        self.logger = RunLogger(run=run, meta=meta, loss_source=self.source, schedule=schedule,  # type: ignore[arg-type]
                                reporter=self._report, **self.options)

    def _schedule(self, optimizer: Any, lr_scheduler: Any, state: Any) -> Any:
        """The given schedule spec, else the plan of the Trainer's scheduler (None, with a warning, if unreadable)."""
        if self.schedule is not None:
            return self.schedule
        planned = planned_schedule(optimizer, lr_scheduler, int(getattr(state, "max_steps", 0) or 0))
        if isinstance(planned, str):
            warn(f"no live forecast: {planned}", ScalelawWarning)
            return None
        return planned

    def _report(self, metrics: dict[str, float], step: int) -> None:
        """Log the forecast through ``Trainer.log`` (to every tracker in ``report_to``)."""
        if self._trainer is not None:
            self._trainer.log(dict(metrics))

    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if self.logger is None or not logs or any(str(k).startswith(OWN_PREFIX) for k in logs):
            return
        metrics = {RENAMED.get(k, k): v for k, v in logs.items()}
        tokens = getattr(state, "num_input_tokens_seen", 0) or 0
        if tokens > 0:
            metrics["tokens"] = tokens
        self.logger.log(state.global_step, loss=metrics.get(self.source), **metrics)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.logger is not None:
            self.logger.close()
        if self._counting_tokens:
            args.include_num_input_tokens_seen = "no"
            self._counting_tokens = False
        self._trainer = None


def _calling_trainer() -> Any:
    """The Trainer whose training loop called this callback (its frame is a few levels up), or None.

    A TrainerCallback is never handed its Trainer; logging the forecast back through ``Trainer.log``
    needs it. Without it the forecast is printed and stored, and a warning says the trackers miss it.
    """
    frame = sys._getframe(1)
    for _ in range(8):
        frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            break
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, Trainer):
            return candidate
    warn("ScalelawCallback: the Trainer calling the callback was not found; the live forecast is printed and "
         "stored but not logged to the Trainer's trackers", ScalelawWarning)
    return None
