"""Append training points to the run store while a run trains: buffered, flushed every few points.

Each flush is one :meth:`RunStore.append` under the store's exclusive lock (the run's file is
merged and rewritten atomically), so several training processes can log to one store at once,
and a crash loses at most the unflushed points. Memory is bounded by the buffer: a flush happens
every ``flush_every`` points or ``flush_seconds`` seconds, except that a run's first flush waits
for its first loss value (the store keeps only runs with a loss).

Inside a training loop the logger never raises: a store that cannot be written (a full disk)
is one warning and the points wait in the buffer for the next flush (at most
:data:`MAX_BUFFER` of them); points the store refuses are one warning and dropped. Every
logger not closed is flushed when the process exits.
"""

from __future__ import annotations

import atexit
import math
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from scalelaw.data.normalize import fill_run_metadata
from scalelaw.data.store import RunStore
from scalelaw.errors import DataWarning, InputError, ScalelawError, ScalelawWarning, warn
from scalelaw.integrations.forecast import Forecast, LiveForecast, Waiting, read_prior

if TYPE_CHECKING:
    from scalelaw.data.schedules import Schedule
    from scalelaw.fit import FitResult

#: Points kept in the buffer at most while the store cannot be written (older ones are dropped, counted).
MAX_BUFFER = 100_000


def _number(value: Any) -> float | None:
    """A float from a Python number, numpy scalar or 0-d tensor; None for anything else."""
    if value is None or isinstance(value, (str, bytes, bool)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):  # a tensor with several elements raises RuntimeError
        return None


def print_line(line: str) -> None:
    """Print on a line of its own, above a tqdm progress bar when one is drawn (tqdm.write), else plainly."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None and hasattr(tqdm, "tqdm"):
        tqdm.tqdm.write(line)
    else:
        print(line, flush=True)


class RunLogger:
    """Log one run's points to a run store: ``log(step, loss=..., lr=..., any_metric=...)``.

    ``meta`` holds per-run metadata written on every row (``params``, ``batch_size``, ...);
    ``loss_source`` names what ``loss`` is (recorded per run, shown by ``runs list``).
    With ``schedule`` (the run's lr schedule: a spec or a Schedule) the live forecast of the
    final loss is refitted on the logged losses at flushes (at most every ``refit_seconds``,
    see :mod:`scalelaw.integrations.forecast`), printed by ``printer`` and handed to
    ``reporter`` (a tracker: ``reporter(metrics, step)``). ``forecast`` is a ladder FIT.json
    used as the prior; one of another law is one warning, and the forecast goes on without it.
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
        printer: Callable[[str], None] = print_line,
        reporter: Callable[[dict[str, float], int], None] | None = None,
        refit_seconds: float = 60.0,
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
        self.reporter = reporter
        self._warned: set[str] = set()
        self.forecast = self._live_forecast(forecast, schedule, refit_seconds)
        self._buffer: list[dict[str, float]] = []
        self._stored = self.store.has(self.run)
        self._last_flush = time.monotonic()
        self._lost = 0
        self._closed = False
        _OPEN.add(self)

    def _live_forecast(self, prior: str | Path | FitResult | None, schedule: str | Schedule | None,
                       refit_seconds: float) -> LiveForecast | None:
        """The live forecast when a schedule is known; a prior that cannot serve is one warning, then ignored."""
        if schedule is None:
            if prior is not None:
                self._warn_once("schedule", "the live forecast needs the run's lr schedule "
                                "(schedule='cosine:peak=...,total=...'); no forecast is made")
            return None
        params = _number(self.meta.get("params"))
        law = None
        if prior is not None:
            try:
                law = read_prior(prior, params)
            except ScalelawError as exc:
                self._warn_once("prior", f"the live forecast's prior is not used: {exc}; the forecast is fitted "
                                "on the run's own points alone (--law auto)")
        try:
            return LiveForecast(schedule, prior=law, params=params, refit_seconds=refit_seconds)
        except InputError as exc:
            self._warn_once("schedule", f"no live forecast: {exc}")
            return None

    def _warn_once(self, key: str, message: str, category: type[ScalelawWarning] = ScalelawWarning) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn(f"run {self.run!r}: {message}", category)

    def log(self, step: int, loss: Any = None, **metrics: Any) -> None:
        """Buffer one point; ``loss`` is the loss to fit (eval loss where there is one)."""
        point: dict[str, float] = {"step": float(step)}
        for name, value in {"loss": loss, **metrics}.items():
            number = _number(value)
            if number is None:
                continue
            if not math.isfinite(number):
                self._warn_once(f"finite:{name}", f"{name} is {number} at step {step}; non-finite values are not "
                                "stored", DataWarning)
                continue
            point[name] = number
        self._buffer.append(point)
        if "loss" in point and self.forecast is not None:
            self.forecast.observe(int(step), point["loss"])
        if len(self._buffer) > MAX_BUFFER:
            self._lost += len(self._buffer) - MAX_BUFFER
            del self._buffer[: len(self._buffer) - MAX_BUFFER]
        due = len(self._buffer) >= self.flush_every or time.monotonic() - self._last_flush >= self.flush_seconds
        if due:
            self.flush()

    def flush(self, *, final: bool = False) -> None:
        """Append the buffered points to the store (once the run has a loss value), then maybe forecast."""
        if self._buffer and (self._stored or any("loss" in point for point in self._buffer)):
            self._write()
        self._last_flush = time.monotonic()
        if self.forecast is not None:
            self._forecast(final)

    def _write(self) -> None:
        """One append of the buffer; a store that cannot be written keeps the points for the next flush."""
        try:
            frame = self._frame()
            self.store.append(self.run, frame, source="training loop")
        except OSError as exc:
            self._warn_once("oserror", f"cannot write the run store {str(self.store.path)!r} ({exc}); training "
                            f"goes on and the points wait in memory (at most {MAX_BUFFER:,}) for the next flush")
            return
        except ScalelawError as exc:
            self._warn_once(f"refused:{exc}", f"the run store refused {len(self._buffer)} point(s): {exc}; they "
                            "are dropped and training goes on")
        else:
            self._stored = True
            if "oserror" in self._warned:
                self._warned.discard("oserror")
                warn(f"run {self.run!r}: the run store is writable again; the waiting points are stored"
                     + (f" ({self._lost:,} older ones were dropped)" if self._lost else ""), ScalelawWarning)
        self._buffer = []

    def _frame(self) -> pd.DataFrame:
        """The buffer as store rows: metadata on every row, tokens = step x batch_size where not logged."""
        frame = pd.DataFrame.from_records(self._buffer)
        if "loss" not in frame.columns:
            frame["loss"] = math.nan
        for name, value in self.meta.items():
            frame[name] = value
        frame = fill_run_metadata(frame.assign(run=self.run))
        if "tokens" in frame.columns:  # step 0 has seen no tokens: not a point on the tokens axis
            frame["tokens"] = frame["tokens"].where(frame["tokens"] > 0)
        return frame

    def _forecast(self, final: bool) -> None:
        """Print the refitted forecast on its own line and hand it to the tracker (failures are warnings)."""
        assert self.forecast is not None
        result = self.forecast.update(force=final)
        if result is None:
            return
        if isinstance(result, Waiting):
            if "waiting" in self._warned:
                return  # said once until a forecast is made
            self._warned.add("waiting")
        else:
            self._warned.discard("waiting")
        try:
            self.printer(result.message())
        except Exception as exc:  # a closed stdout must not stop the loop
            self._warn_once("printer", f"cannot print the forecast ({type(exc).__name__}: {exc})")
        if isinstance(result, Forecast) and self.reporter is not None:
            try:
                self.reporter(result.metrics(), result.step)
            except Exception as exc:  # the tracker's own failure is not the training loop's
                self._warn_once("reporter", f"the tracker refused the forecast metrics ({type(exc).__name__}: "
                                f"{exc}); they are printed only")

    def close(self) -> None:
        """Flush what is left (a run that never logged a loss is not stored); calling it again does nothing."""
        if self._closed:
            return
        self.flush(final=True)
        self._closed = True
        self._buffer = []
        _OPEN.discard(self)

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Loggers not yet closed: flushed and closed at process exit.
_OPEN: set[RunLogger] = set()
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
    """Flush every open logger (:func:`log_point`'s and any :class:`RunLogger` not closed)."""
    for logger in list(_OPEN):
        logger.flush()


def _close_all() -> None:
    """At exit: close every logger left open, so no buffered point is lost."""
    for logger in list(_OPEN):
        logger.close()


atexit.register(_close_all)
