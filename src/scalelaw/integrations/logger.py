"""Append training points to the run store while a run trains: buffered, flushed every few points.

Each flush is one :meth:`RunStore.append` under the store's exclusive lock (the run's file is
merged and rewritten atomically), so several training processes can log to one store at once,
and a crash loses at most the unflushed points. Memory is bounded by the buffer: a flush happens
every ``flush_every`` points or ``flush_seconds`` seconds, except that a run's first flush waits
for its first loss value (the store keeps only runs with a loss).
"""

from __future__ import annotations

import atexit
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from scalelaw.data.normalize import fill_run_metadata
from scalelaw.data.store import RunStore
from scalelaw.errors import DataWarning, warn
from scalelaw.integrations.forecast import LiveForecast

if TYPE_CHECKING:
    from scalelaw.data.schedules import Schedule
    from scalelaw.fit import FitResult


def _number(value: Any) -> float | None:
    """A float from a Python number, numpy scalar or 0-d tensor; None for anything else."""
    if value is None or isinstance(value, (str, bytes, bool)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):  # a tensor with several elements raises RuntimeError
        return None


class RunLogger:
    """Log one run's points to a run store: ``log(step, loss=..., lr=..., any_metric=...)``.

    ``meta`` holds per-run metadata written on every row (``params``, ``batch_size``, ...);
    ``loss_source`` names what ``loss`` is (recorded per run, shown by ``runs list``).
    With ``forecast`` (a FIT.json of a curve law) and ``schedule`` (the run's lr schedule spec),
    every flush prints the law's forecast of the final loss with its interval via ``printer``.
    """

    def __init__(
        self,
        store: str | Path = "scalelaw-runs",
        run: str = "run",
        *,
        meta: Mapping[str, Any] | None = None,
        flush_every: int = 50,
        flush_seconds: float = 30.0,
        forecast: str | Path | FitResult | None = None,
        schedule: str | Schedule | None = None,
        printer: Callable[[str], None] = print,
        loss_source: str = "loss",
    ) -> None:
        if flush_every < 1:
            raise ValueError("flush_every must be at least 1")
        self.store = RunStore(store)
        self.run = str(run)
        self.meta = {**dict(meta or {}), "loss_source": loss_source}
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.printer = printer
        self.forecast = None
        if forecast is not None:
            if schedule is None:
                raise ValueError("a forecast needs the run's lr schedule (schedule='cosine:peak=...,total=...')")
            self.forecast = LiveForecast(forecast, schedule, params=_number(self.meta.get("params")))
        self._buffer: list[dict[str, float]] = []
        self._stored = self.store.has(self.run)
        self._last_flush = time.monotonic()
        self._dropped: set[str] = set()

    def log(self, step: int, loss: Any = None, **metrics: Any) -> None:
        """Buffer one point; ``loss`` is the loss to fit (eval loss where there is one)."""
        point: dict[str, float] = {"step": float(step)}
        for name, value in {"loss": loss, **metrics}.items():
            number = _number(value)
            if number is None:
                continue
            if not math.isfinite(number):
                if name not in self._dropped:
                    self._dropped.add(name)
                    warn(f"run {self.run!r}: {name} is {number} at step {step}; non-finite values are not stored",
                         DataWarning)
                continue
            point[name] = number
        self._buffer.append(point)
        due = len(self._buffer) >= self.flush_every or time.monotonic() - self._last_flush >= self.flush_seconds
        if due:
            self.flush()

    def flush(self) -> None:
        """Append the buffered points to the store (once the run has a loss value)."""
        if not self._buffer:
            return
        if not self._stored and not any("loss" in point for point in self._buffer):
            return
        frame = pd.DataFrame.from_records(self._buffer)
        if "loss" not in frame.columns:
            frame["loss"] = math.nan
        for name, value in self.meta.items():
            frame[name] = value
        frame = fill_run_metadata(frame.assign(run=self.run))  # tokens = step x batch_size where not logged
        self.store.append(self.run, frame, source="training loop")
        self._stored = True
        last = self._buffer[-1]
        observed = next((p["loss"] for p in reversed(self._buffer) if "loss" in p), None)
        self._buffer = []
        self._last_flush = time.monotonic()
        if self.forecast is not None:
            self.printer(self.forecast.at(int(last["step"])).message(observed))

    def close(self) -> None:
        """Flush what is left (a run that never logged a loss is not stored)."""
        self.flush()
        self._buffer = []

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_LOGGERS: dict[tuple[str, str], RunLogger] = {}


def log_point(step: int, loss: Any = None, *, run: str, store: str | Path = "scalelaw-runs",
              meta: Mapping[str, Any] | None = None, **metrics: Any) -> None:
    """Log one point of ``run`` from a hand-written loop: ``log_point(step, loss=..., lr=..., run="base")``.

    Points are buffered per (store, run) and flushed every 50 points and when the process
    exits (:func:`flush_all` flushes at once). ``meta`` is taken on the run's first call.
    """
    key = (str(Path(store).resolve()), str(run))
    logger = _LOGGERS.get(key)
    if logger is None:
        logger = _LOGGERS[key] = RunLogger(store, run, meta=meta)
    logger.log(step, loss, **metrics)


def flush_all() -> None:
    """Flush every logger :func:`log_point` created."""
    for logger in _LOGGERS.values():
        logger.flush()


atexit.register(flush_all)
