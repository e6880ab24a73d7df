"""``--law auto``: every applicable law scored by rolling-origin backtest, the best one fitted.

Each candidate is fitted on every fold beyond the data of :func:`scalelaw.selection.folds.plan`
and scored (:mod:`scalelaw.selection.rolling`) on the held-out runs by the relative error of
their final logged loss (the quantity every law predicts), averaged over runs and folds;
the folds inside the data (single runs within the others' range) are run for the winner
only, to size its floor. The winner is fitted on all the data with a bootstrap, and its
backtest errors become its extrapolation-error model
(:mod:`scalelaw.selection.calibration`): the same backtests choose the law and size its
intervals. ``fit_calibrated`` does the same for one given law.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError, ScalelawWarning, UntrustedFitError, warn
from scalelaw.selection import calibration, folds
from scalelaw.fit.engine import fit_law, stderr_is_terminal
from scalelaw.fit.result import FitResult
from scalelaw.selection.rolling import Backtest, backtest
from scalelaw.laws._curves import curves_from_runs
from scalelaw.laws._held import decay_seen
from scalelaw.laws.base import Law

#: Candidate laws; on equal backtest error (or, with nothing to backtest, equal parameter count) the earlier wins.
CANDIDATES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("data-constrained", {}),
    ("chinchilla", {}),
    ("overtraining", {}),
    ("kaplan", {}),
    ("power", {"variable": "params"}),
    ("power", {"variable": "flops"}),
    ("power", {"variable": "tokens"}),
    ("chinchilla-curve", {}),
    ("multi-power-sized", {}),
    ("multi-power", {}),
    ("lr-annealing", {}),
    ("kaplan-steps", {}),
    ("power", {"variable": "step"}),
)
#: Candidate labels of the laws that read the learning rate.
LR_LAWS = ("chinchilla-curve", "multi-power-sized", "multi-power", "lr-annealing")
#: Laws whose parameters describe how the curve changes with model size (they need two sizes or more).
ACROSS_SIZES = ("chinchilla-curve", "multi-power-sized")
#: A decay of more than this share of the peak lr beyond the logged losses makes lr-blind laws ineligible.
DECAY_AHEAD = 0.1
#: Bootstrap replicates of the chosen law when the caller asks for none (curve laws cost more per replicate).
AUTO_BOOTSTRAP = {"final": 100, "curve": 30}


def label_of(name: str, options: dict[str, Any]) -> str:
    """``power(variable=params)`` for a law with options, the bare name otherwise."""
    return name + ("(" + ",".join(f"{k}={v}" for k, v in options.items()) + ")" if options else "")


def applicable(runs: RunSet) -> tuple[list[tuple[str, Law]], dict[str, str]]:
    """Candidate laws whose design can be built from the data, and why the others cannot."""
    usable, skipped = [], {}
    for name, options in CANDIDATES:
        label = label_of(name, options)
        law = laws.get(name, **options)
        try:
            with _silenced():
                design = law.design(runs)
        except (InputError, ValueError, KeyError) as exc:
            reason = exc.reason if isinstance(exc, InputError) else str(exc)
            skipped[label] = reason if len(reason) <= 200 else reason[:197] + "..."
            continue
        if design.n <= len(law.param_names):
            skipped[label] = f"{design.n} points for {len(law.param_names)} parameters"
            continue
        sizes = np.unique(np.asarray(design.inputs.get("params", []), dtype=float))
        if name in ACROSS_SIZES and sizes.size < 2:
            skipped[label] = "a size-aware law needs runs of at least two model sizes"
            continue
        if name == "data-constrained" and not _repeats_data(design.inputs):
            skipped[label] = "no run repeats its data (tokens never exceed unique_tokens), so R_D and R_N are unidentified"
            continue
        usable.append((label, law))
    return usable, skipped


def _repeats_data(inputs: Any) -> bool:
    """True when some run trains on more tokens than its unique pool (more than 1% over)."""
    return bool(np.any(np.asarray(inputs["tokens"]) > 1.01 * np.asarray(inputs["unique_tokens"])))


@dataclass
class Trial:
    """Every applicable candidate backtested on the same folds (``tests`` is empty without folds)."""

    axis: str
    plan: list[folds.Fold]
    note: str
    usable: list[tuple[str, Law]]
    skipped: dict[str, str]
    tests: list[Backtest]
    #: True when an lr decay lies beyond the logged losses: only laws that read the lr may be chosen.
    decay_ahead: bool = False

    def eligible(self) -> list[Backtest]:
        """The candidates that passed their backtests and may be chosen.

        When the runs' planned lr decays beyond the logged losses, the backtests (inside what
        was logged) cannot show that a law blind to the lr misses that decay; such laws are
        then left out whenever a law that reads the lr passed.
        """
        scored = [t for t in self.tests if t.failure is None]
        if self.decay_ahead:
            return [t for t in scored if "lr" in t.law.inputs] or scored
        return scored

    def common_folds(self) -> set[str]:
        """The folds beyond the data every eligible candidate was scored on (a law may skip an optional one)."""
        scored = self.eligible()
        return set.intersection(*(t.beyond() for t in scored)) if scored else set()

    def best(self) -> Backtest | None:
        """The eligible candidate with the lowest final-loss error on the common folds (fewer parameters on a
        tie), or None."""
        scored, common = self.eligible(), self.common_folds()
        return min(scored, key=lambda t: (t.score("final_error", common), len(t.law.param_names))) if scored else None

    def fallback(self) -> tuple[str, Law]:
        """With nothing backtested: the applicable law with the fewest parameters (the first in order on a tie),
        among the laws that read the lr when a decay lies ahead (as :meth:`eligible`; an InputError when none can be
        fitted: a forecast blind to the decay would be a confident wrong number)."""
        usable = self.usable
        if self.decay_ahead:
            usable = [item for item in usable if "lr" in item[1].inputs]
            if not usable:
                why = "; ".join(f"{k}: {v}" for k, v in self.skipped.items() if k in LR_LAWS)
                raise InputError(
                    "the planned learning rate decays beyond the logged losses, and no law that reads the lr can "
                    f"be fitted to what was logged ({why or 'none applies'}); a law blind to the lr would forecast "
                    "as if the decay never came: log more checkpoints after the warmup, or wait"
                )
        return min(usable, key=lambda item: len(item[1].param_names))

    def selection(self, chosen: str, reason: str) -> dict[str, Any]:
        """The FIT.json record of the choice."""
        return {
            "chosen": chosen,
            "reason": reason,
            "axis": self.axis,
            "folds": [f.name for f in self.plan],
            "candidates": [t.record() for t in self.tests] or [{"law": chosen.split("(")[0], "label": chosen}],
            "skipped": self.skipped,
        }


def trial(
    runs: RunSet, *, candidates: list[str] | None = None, by: str | None = None, progress: bool | None = False,
    **fit_options: Any,
) -> Trial:
    """Backtest every applicable candidate (or the named ones) on the folds of :func:`folds.plan`.

    ``progress`` shows a bar on stderr (None: when stderr is a terminal).
    """
    folds.check_same_data(runs)
    usable, skipped = applicable(runs)
    if candidates is not None:
        wanted = set(candidates)
        unknown = wanted - {label for label, _ in usable} - set(skipped) - {law.name for _, law in usable}
        if unknown:
            raise InputError(f"unknown candidate law(s) {', '.join(sorted(unknown))}")
        usable = [(label, law) for label, law in usable if label in wanted or law.name in wanted]
    if not usable:
        reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
        raise InputError(f"no law can be fitted to this data ({reasons})")
    axis, plan, note = folds.plan(runs, by)
    choosing = [f for f in plan if not f.inside] or plan
    tests = [backtest(label, law, choosing, fit_options)
             for label, law in _counted(usable, len(choosing), progress)] if plan else []
    return Trial(axis, plan, note, usable, skipped, tests, decay_ahead=decay_ahead(runs))


def decay_ahead(runs: RunSet) -> bool:
    """True when some run's lr falls, after its last logged loss, by more than ``DECAY_AHEAD`` of its peak."""
    if "step" not in runs.table.columns:
        return False
    try:
        with _silenced():
            curves = curves_from_runs(runs, purpose="--law auto")
    except (InputError, ValueError, KeyError):
        return False
    for curve in curves:
        top = int(np.argmax(curve.lr))
        if curve.lr[top] > 0 and 1.0 - float(np.min(curve.lr[top:])) / curve.lr[top] - decay_seen(curve) > DECAY_AHEAD:
            return True
    return False


def _counted(usable: list[tuple[str, Law]], n_folds: int, progress: bool | None) -> Iterator[tuple[str, Law]]:
    """The candidates, with a transient progress bar on stderr naming the one being backtested."""
    if not (progress if progress is not None else stderr_is_terminal()):
        yield from usable
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("backtests", total=len(usable))
        for item in usable:
            bar.update(task, description=f"backtesting {item[0]} on {n_folds} folds")
            yield item
            bar.advance(task)


def with_inside_folds(tried: Trial, test: Backtest, fit_options: dict[str, Any]) -> Backtest:
    """``test`` with the folds inside the data added (only the chosen law needs them: they size its floor).

    If the law fails on them, the backtest beyond the data stands alone.
    """
    inside = [f for f in tried.plan if f.inside]
    if not inside or len(inside) == len(tried.plan):  # none, or already backtested (nothing beyond the data)
        return test
    extra = backtest(test.label, test.law, inside, fit_options)
    if extra.failure is not None:
        return test
    arrays = [np.concatenate([getattr(test, k), getattr(extra, k)]) for k in ("errors", "decades", "groups",
                                                                               "noise_var", "fold_of")]
    return Backtest(test.label, test.law, test.folds + extra.folds, *arrays)


def fit_backtested(runs: RunSet, test: Backtest, selection: dict[str, Any], **options: Any) -> FitResult:
    """Fit a backtested law on all the data and attach the error model of its backtest."""
    fit = fit_law(runs, test.law, **options)
    error_model = calibration.estimate(test.errors, test.decades, test.groups, test.noise_var, test.fold_of)
    return replace(fit, calibration=error_model, selection=selection)


def fit_auto(
    runs: RunSet,
    *,
    candidates: list[str] | None = None,
    by: str | None = None,
    bootstrap: int | None = None,
    seed: int = 0,
    strict: bool = False,
    ci_level: float = 0.95,
    progress: bool | None = None,
    **fit_options: Any,
) -> FitResult:
    """Choose the law with the lowest backtest error of the final loss, fit it, attach its error model.

    ``candidates`` restricts the laws (labels such as ``chinchilla`` or
    ``power(variable=params)``); ``by`` forces the backtest axis. With too little data to
    backtest, the applicable candidate with the fewest parameters is fitted and the fit says why.
    """
    tried = trial(runs, candidates=candidates, by=by, progress=progress, ci_level=ci_level, **fit_options)
    options = dict(seed=seed, strict=strict, progress=progress, ci_level=ci_level, **fit_options)
    best = tried.best()
    if best is not None:
        reason = _reason(best, tried)
        best = with_inside_folds(tried, best, dict(ci_level=ci_level, **fit_options))
        tried.tests = [best if t.label == best.label else t for t in tried.tests]
        selection = tried.selection(best.label, reason)
        replicates = AUTO_BOOTSTRAP[best.law.kind] if bootstrap is None else bootstrap
        return fit_backtested(runs, best, selection, bootstrap=replicates, **options)
    label, law = tried.fallback()
    options["bootstrap"] = AUTO_BOOTSTRAP[law.kind] if bootstrap is None else bootstrap
    why = tried.note if not tried.plan else "no candidate could be fitted on every fold"
    reason = (
        f"too little data for a backtest ({why}); fell back to {label}, the applicable law with the "
        "fewest parameters, and its intervals leave out the law's own extrapolation error"
    )
    if strict:
        raise UntrustedFitError(reason)
    warn(reason, FitWarning)
    return replace(fit_law(runs, law, **options), selection=tried.selection(label, reason))


def fit_calibrated(runs: RunSet, law: str | Law, *, required: bool = True, **options: Any) -> FitResult:
    """Fit one law and attach the extrapolation-error model of its own backtests.

    When the data allow no backtest (or the law fails on a fold) the plain fit is returned:
    with a warning (an error under ``strict``) when ``required``, silently otherwise (its
    predictions beyond the data still say their intervals leave out the law's own error).
    """
    law = laws.get(law) if isinstance(law, str) else law
    label = label_of(law.name, law.options() if law.name == "power" else {})
    try:
        folds.check_same_data(runs)
    except InputError as exc:
        if required:
            raise
        warn(f"{exc.reason}; fitted as asked, without a backtest calibration", FitWarning)
        options.pop("by", None)
        return fit_law(runs, law, **options)
    axis, plan, note = folds.plan(runs, options.pop("by", None))
    fit_options = {k: v for k, v in options.items() if k not in {"bootstrap", "seed", "strict", "progress"}}
    _settle_on(law, runs)
    test = backtest(label, law, plan, fit_options) if plan else None
    if test is None or test.failure is not None:
        if required:
            message = (f"no backtest calibration ({note if test is None else test.failure}): intervals leave out "
                       "the law's own extrapolation error")
            if options.get("strict"):
                raise UntrustedFitError(message)
            warn(message, FitWarning)
        return fit_law(runs, law, **options)
    tried = Trial(axis, plan, note, [(label, law)], {}, [test])
    return fit_backtested(runs, test, tried.selection(label, "chosen by hand; backtested for calibration"), **options)


def _settle_on(law: Law, runs: RunSet) -> None:
    """Let a law that settles its parametrization on its first data (a schedule family, a held prior) see all of it.

    Otherwise its first backtest fold, a part of the data, would decide for every fold and the final fit.
    """
    try:
        with _silenced():
            law.design(runs)
    except (InputError, ValueError, KeyError):
        pass  # the fit itself reports what is wrong with the data


@contextmanager
def _silenced() -> Iterator[None]:
    """scalelaw's own warnings suppressed: probing the data is not fitting it (the fit warns for real)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalelawWarning)
        yield


def _reason(best: Backtest, tried: Trial) -> str:
    """One sentence on why the winner won."""
    common = tried.common_folds()
    ranked = sorted(tried.eligible(), key=lambda t: t.score("final_error", common))
    text = (
        f"{best.label} had the lowest backtest error of the held-out final loss, "
        f"{best.score('final_error', common):.2%} mean over the {len(common)} fold(s) every candidate was scored on"
    )
    if len(ranked) > 1:
        runner = ranked[1] if ranked[0] is best else ranked[0]
        text += f"; next best {runner.label} at {runner.score('final_error', common):.2%}"
    blind = [t.label for t in tried.tests if t.failure is None and t not in ranked]
    if blind:
        text += (f"; not eligible: {', '.join(blind)}, which ignore the learning rate, while the planned lr decays "
                 "beyond the logged losses (a decay no backtest inside the logged part could show them missing)")
    return text
