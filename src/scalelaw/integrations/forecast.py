"""A live early-stopping forecast of a run's final loss, refitted on the run's own points as it trains.

At each refit the run's logged losses so far, with its planned lr schedule to the end, go
through the project's early-stopping path (docs/guide/early-stopping.md): ``--law auto``
on one run (:func:`scalelaw.selection.auto.fit_auto`), or, with a ladder FIT.json as the
prior, that law's single-run form with its lr-decay parameters held at the ladder's fitted
values until the run's own lr has decayed enough to fit them
(:func:`scalelaw.selection.auto.fit_calibrated`). The forecast is the fit's prediction at
the schedule's last step (:func:`scalelaw.selection.targets.predict_targets`), with its
calibrated interval.

A refit costs seconds (backtests and a bootstrap), so it is throttled: it waits at least
``refit_seconds`` and ten times the previous refit's own duration since the previous one
(so refits take at most about a tenth of the loop's time; ``refit_seconds=0`` refits at every
flush), and the points fitted are thinned to :data:`FIT_POINTS`. Nothing here raises into a
training loop: a run too short to fit says why (:class:`Waiting`), anything else is one
warning per kind of failure.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.data.schedules import Schedule, parse_schedule
from scalelaw.errors import InputError, ScalelawError, ScalelawWarning, UntrustedFitError, warn
from scalelaw.fit import FitResult, load_fit
from scalelaw.laws._curves import Curve
from scalelaw.laws._held import MIN_DECAY_SEEN, decay_seen
from scalelaw.laws.base import Law

#: Logged checkpoints fitted at most (evenly thinned, the last kept): bounds a refit's cost on long runs.
FIT_POINTS = 200
#: Checkpoints kept in memory at most (thinned by half when exceeded, the last kept).
KEPT_POINTS = 4000
#: Schedule rows (lr only) given to the fit: every step of shorter schedules, evenly spaced beyond.
SCHEDULE_ROWS = 2000
#: A refit waits at least this many times the previous refit's duration (refits cost at most ~10% of the loop).
COST_FACTOR = 10.0
#: The laws a ladder FIT.json may be a prior from: they hold the loss drop of an lr decay as parameters.
PRIOR_LAWS = ("multi-power", "multi-power-sized", "lr-annealing")


@dataclass(frozen=True)
class Forecast:
    """The final loss forecast from the run's points up to ``step``, with its interval at ``level``."""

    step: int
    observed: float | None
    final_step: int
    loss: float
    lo: float
    hi: float
    level: float
    law: str
    checkpoints: int
    prior: bool

    def message(self) -> str:
        """One line for the console."""
        seen = "" if self.observed is None or not math.isfinite(self.observed) else f"loss {self.observed:.4g}; "
        basis = f"{self.law} on {self.checkpoints} checkpoints" + (", ladder prior" if self.prior else "")
        return (f"scalelaw forecast: step {self.step}: {seen}final loss at step {self.final_step}: "
                f"{self.loss:.4g} [{self.lo:.4g}, {self.hi:.4g}] ({self.level:.0%}; {basis})")

    def metrics(self) -> dict[str, float]:
        """The forecast as tracker metrics."""
        return {"scalelaw/forecast": self.loss, "scalelaw/forecast_lo": self.lo, "scalelaw/forecast_hi": self.hi}


@dataclass(frozen=True)
class Waiting:
    """No forecast yet, and why (too few checkpoints after the warmup, say)."""

    step: int
    reason: str

    def message(self) -> str:
        reason = self.reason if len(self.reason) <= 200 else self.reason[:197] + "..."
        return f"scalelaw forecast: step {self.step}: no forecast yet: {reason}"


def prior_law(fit: FitResult, params: float | None) -> Law:
    """The single-run law of a ladder fit, its lr-decay parameters held at the ladder's values (at the run's size).

    An :class:`InputError` when the fit's law holds no lr-decay term (a final-loss law, ``power`` in steps,
    ...) or, for ``multi-power-sized``, when the run's size is unknown.
    """
    name, values = fit.law.name, fit.params
    if name not in PRIOR_LAWS:
        raise InputError(f"the FIT.json holds law {name!r}; a live forecast's prior must be a loss-curve law with "
                         f"an lr-decay term ({', '.join(PRIOR_LAWS)})")
    if name == "lr-annealing":
        decay = getattr(fit.law, "decay_factor", None)
        held = {"C": values["C"], **({"lambda": values["lambda"]} if decay is None else {})}
        return laws.get("lr-annealing", decay_factor=decay, held=held)
    b = values["B"]
    if name == "multi-power-sized":
        if params is None or not params > 0:
            raise InputError("the FIT.json holds law 'multi-power-sized', whose lr-decay term depends on the model "
                             "size: the run's size (params) is needed to use it as the prior")
        from scalelaw.laws.multi_power import REFERENCE_PARAMS

        b *= (params / REFERENCE_PARAMS) ** values["B_exp"]
    return laws.get("multi-power", held={"B": b, "C": values["C"], "beta": values["beta"], "gamma": values["gamma"]})


def read_prior(source: str | Path | FitResult, params: float | None) -> Law:
    """:func:`prior_law` of a FIT.json path or a fit (the file's problems are InputErrors naming it)."""
    fit = source if isinstance(source, FitResult) else load_fit(source)
    if not isinstance(fit, FitResult):
        raise InputError("a two-step fit cannot be a live forecast's prior", file=str(source))
    try:
        return prior_law(fit, params)
    except InputError as exc:
        raise InputError(exc.reason, file=None if isinstance(source, FitResult) else str(source)) from None


class LiveForecast:
    """The final-loss forecast of one run, refitted on its logged losses.

    ``schedule`` is the run's full lr schedule (a spec such as
    ``cosine:peak=3e-4,warmup=500,total=20000`` or a Schedule); ``prior`` a law from
    :func:`read_prior` (None: ``--law auto`` on the run alone); ``params`` the run's size.
    """

    def __init__(self, schedule: str | Schedule, *, prior: Law | None = None, params: float | None = None,
                 level: float = 0.9, refit_seconds: float = 60.0, seed: int = 0) -> None:
        self.schedule = parse_schedule(schedule) if isinstance(schedule, str) else schedule
        self.final_step = int(self.schedule.total_steps)
        self.prior, self.params, self.level = prior, params, float(level)
        self.refit_seconds, self.seed = float(refit_seconds), int(seed)
        self._steps: list[int] = []
        self._losses: list[float] = []
        self._fitted_count = 0
        self._next_refit = 0.0
        self._failures: set[str] = set()

    def observe(self, step: int, loss: float) -> None:
        """Remember one logged loss (steps from 1; the memory kept is bounded by thinning)."""
        if step < 1 or not math.isfinite(loss) or loss <= 0:
            return
        if self._steps and step <= self._steps[-1]:  # a step logged again (or a restart): the later value wins
            while self._steps and self._steps[-1] >= step:
                self._steps.pop()
                self._losses.pop()
        self._steps.append(int(step))
        self._losses.append(float(loss))
        if len(self._steps) > KEPT_POINTS:
            keep = sorted(set(range(0, len(self._steps) - 1, 2)) | {len(self._steps) - 1})
            self._steps = [self._steps[i] for i in keep]
            self._losses = [self._losses[i] for i in keep]
            self._fitted_count = 0

    def due(self, now: float | None = None) -> bool:
        """True when new checkpoints arrived and the throttle allows a refit."""
        now = time.monotonic() if now is None else now
        return len(self._steps) != self._fitted_count and now >= self._next_refit

    def update(self, *, force: bool = False) -> Forecast | Waiting | None:
        """Refit and forecast when :meth:`due` (or ``force`` with new points); None when not refitted.

        Never raises: an unexpected failure is one warning per kind and None.
        """
        if not self._steps or (not force and not self.due()) or len(self._steps) == self._fitted_count:
            return None
        started = time.monotonic()
        self._fitted_count = len(self._steps)
        try:
            result = self._refit()
        except (ScalelawError, ValueError) as exc:
            warmup = int(np.argmax(self.schedule.lr(np.arange(0, self.final_step + 1, dtype=float))))
            after = sum(step >= warmup for step in self._steps)
            reason = exc.reason if isinstance(exc, InputError) else str(exc)
            result = Waiting(self._steps[-1], f"{after} checkpoint(s) after the warmup (step {warmup}) so far; {reason}")
        except Exception as exc:  # a numerical or library failure must not stop the training loop
            kind = type(exc).__name__
            if kind not in self._failures:
                self._failures.add(kind)
                warn(f"scalelaw live forecast: the refit failed ({kind}: {exc}); training goes on, the forecast "
                     "tries again at the next flush", ScalelawWarning)
            result = None
        spent = time.monotonic() - started
        wait = 0.0 if self.refit_seconds <= 0 else max(self.refit_seconds, COST_FACTOR * spent)
        self._next_refit = time.monotonic() + wait
        return result

    def runs(self) -> RunSet:
        """The run as the early-stopping fit reads it: thinned checkpoints, then the planned lr to the end."""
        steps, losses = _thinned(np.asarray(self._steps), np.asarray(self._losses), FIT_POINTS)
        total = max(self.final_step, int(steps[-1]))
        grid = (np.arange(0, total + 1) if total <= SCHEDULE_ROWS
                else np.unique(np.round(np.linspace(0, total, SCHEDULE_ROWS + 1)).astype(np.int64)))
        every = np.union1d(grid, steps)
        loss = pd.Series(losses, index=steps).reindex(every).to_numpy(dtype=float)
        table = pd.DataFrame({"run": "live", "step": every.astype(float), "loss": loss,
                              "lr": self.schedule.lr(every.astype(float))})
        if self.params is not None:
            table["params"] = float(self.params)
        return RunSet(table, {"live": "the training loop's logged points"})

    def _refit(self) -> Forecast:
        from scalelaw.selection.auto import fit_auto, fit_calibrated
        from scalelaw.selection.targets import predict_targets

        runs = self.runs()
        options = dict(seed=self.seed, progress=False, ci_level=self.level)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the refit's own notes would repeat at every flush
            if self.prior is not None:
                law = self.prior if not self._decayed() else laws.get(self.prior.name, **_unheld(self.prior))
                fit = fit_calibrated(runs, law, required=False, bootstrap=30, **options)
            else:
                fit = fit_auto(runs, bootstrap=None, **options)
            frame = predict_targets(fit, runs, level=self.level)
        last = frame.iloc[-1]
        values = [float(last["loss"]), float(last["lo"]), float(last["hi"])]
        if not all(math.isfinite(v) for v in values):
            raise UntrustedFitError(f"the {fit.law.name} fit gave no finite forecast")
        checkpoints = int(np.isfinite(runs.table["loss"]).sum())
        return Forecast(self._steps[-1], self._losses[-1], int(last["step"]), *values, self.level, fit.law.name,
                        checkpoints, self.prior is not None)

    def _decayed(self) -> bool:
        """True once the run's own lr has fallen enough below its peak to fit the loss drop of a decay."""
        last = self._steps[-1]
        lr = self.schedule.lr(np.arange(0, last + 1, dtype=float))
        curve = Curve(run="live", lr=lr, steps=np.asarray([last]), loss=np.asarray([self._losses[-1]]))
        return decay_seen(curve) >= MIN_DECAY_SEEN


def _unheld(law: Law) -> dict[str, object]:
    """The law's options with nothing held (the run decides what it can fit)."""
    return {k: v for k, v in law.options().items() if k != "held"}


def _thinned(steps: np.ndarray, losses: np.ndarray, most: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` points, evenly spaced in index, the first and last kept."""
    if steps.size <= most:
        return steps, losses
    keep = np.unique(np.round(np.linspace(0, steps.size - 1, most)).astype(np.int64))
    return steps[keep], losses[keep]
