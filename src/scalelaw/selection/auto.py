"""``--law auto``: the law to trust beyond the data, chosen by rolling-origin backtest at the target's distance.

Every applicable candidate is fitted once on all the data (:func:`rank_candidates`); a fit
that did not converge, or a law blind to an axis the runs vary on while a law that reads
it converged, is dropped with the reason. The rest are backtested in order of in-sample
error on the folds beyond the data of :func:`scalelaw.selection.folds.plan`, each fold one
local search from the candidate's full-data optimum (:func:`backtest_finalists`; a
candidate whose in-sample error already exceeds the best backtest error is not), and
scored (:mod:`scalelaw.selection.rolling`) by the relative error of the held-out runs'
final loss on the folds whose distance is nearest the target's (:func:`deciding_folds`).
The simplest law within one standard error of the lowest error wins; the folds inside the
data are run for it only, to size its floor; it is fitted on all the data with a bootstrap,
and its backtest errors become its extrapolation-error model
(:mod:`scalelaw.selection.calibration`), corrected for a consistent trend. ``fit_calibrated``
does the same for one given law.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError, UntrustedFitError, warn
from scalelaw.fit.engine import fit_law, stderr_is_terminal
from scalelaw.fit.result import FitResult
from scalelaw.laws.base import Law
from scalelaw.selection import calibration, folds
from scalelaw.selection.candidates import (
    CANDIDATES,
    LR_LAWS,
    Candidate,
    _silenced,
    applicable,
    decay_ahead,
    label_of,
    rank_candidates,
    varying_axes,
)
from scalelaw.selection.rolling import Backtest, backtest, start_values
from scalelaw.selection.scoring import (
    check_target,
    decided,
    deciding_folds,
    one_standard_error,
    paired_se,
    target_distance,
)

__all__ = ["CANDIDATES", "fit_auto", "fit_calibrated", "label_of", "one_standard_error"]

#: Bootstrap replicates of the chosen law when the caller asks for none (curve laws cost more per replicate).
AUTO_BOOTSTRAP = {"final": 100, "curve": 30}
def backtest_finalists(eligible: list[Candidate], plan: list[folds.Fold], fit_options: dict[str, Any],
                       deciding: list[str], progress: bool | None = False) -> list[Candidate]:
    """Backtest, in order of in-sample error, the eligible candidates that can still win; return those scored.

    Each fold is one local search from the candidate's optimum on all the data. A candidate
    whose in-sample error already exceeds the best deciding error plus its standard error
    is not backtested: a forecast beyond the data is hardly better than the fit inside it,
    so it could not be chosen (``screened`` says so).
    """
    bar = math.inf
    tested = []
    for candidate in _counted(eligible, len(plan), progress):
        if candidate.in_sample > bar:
            candidate.screened = (f"not backtested: its in-sample error {candidate.in_sample:.2%} already exceeds the "
                                  f"best backtest error plus one standard error ({bar:.2%}), so it cannot win")
            continue
        start = candidate.fit.theta  # type: ignore[union-attr]
        candidate.test = backtest(candidate.label, candidate.law, plan, fit_options, start=start)
        if candidate.test.failure is not None:
            continue
        tested.append(candidate)
        error, se, _ = decided(candidate.test, deciding)
        if math.isfinite(error):
            bar = min(bar, error + se)
    return tested


def _counted(items: list[Candidate], n_folds: int, progress: bool | None) -> Iterator[Candidate]:
    """The candidates, with a transient progress bar on stderr naming the one being backtested."""
    if not (progress if progress is not None else stderr_is_terminal()):
        yield from items
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("backtests", total=len(items))
        for item in items:
            bar.update(task, description=f"backtesting {item.label} on {n_folds} folds")
            yield item
            bar.advance(task)


def with_inside_folds(plan: list[folds.Fold], test: Backtest, fit_options: dict[str, Any],
                      start: np.ndarray | None = None) -> Backtest:
    """``test`` with the folds inside the data added (only the chosen law needs them: they size its floor).

    If the law fails on them, the backtest beyond the data stands alone.
    """
    inside = [f for f in plan if f.inside]
    if not inside or len(inside) == len(plan) or any(f["inside"] for f in test.folds):
        return test  # none, or already backtested
    extra = backtest(test.label, test.law, inside, fit_options, start=start)
    if extra.failure is not None:
        return test
    arrays = [np.concatenate([getattr(test, k), getattr(extra, k)]) for k in ("errors", "decades", "groups",
                                                                               "noise_var", "fold_of")]
    return Backtest(test.label, test.law, test.folds + extra.folds, *arrays, skipped=test.skipped + extra.skipped)


def fit_backtested(runs: RunSet, test: Backtest, selection: dict[str, Any], start: FitResult | None = None,
                   **options: Any) -> FitResult:
    """Fit a backtested law on all the data and attach the error model of its backtest.

    ``start`` (the law's fit on all the data, without a bootstrap) makes this one local
    search from its optimum, with the bootstrap warm-started there too; the fit keeps the
    multi-start's record of how many starts reached the best basin.
    """
    warm = None if start is None else start_values(test.law, start.theta)
    fit = fit_law(runs, test.law, start=warm, **options)
    if start is not None:
        fit = replace(fit, diagnostics=replace(  # the search that found the optimum, then the descent from it
            fit.diagnostics, starts=start.diagnostics.starts, starts_in_best_basin=start.diagnostics.starts_in_best_basin,
            iterations=start.diagnostics.iterations + fit.diagnostics.iterations))
    error_model = calibration.with_prior(
        calibration.estimate(test.errors, test.decades, test.groups, test.noise_var, test.fold_of), calibration.LOSS_PRIOR)
    _, _, verdict = calibration.trend(test.errors, test.decades, test.groups, test.fold_of, test.noise_var)
    return replace(fit, calibration=error_model, selection={**selection, "trend": verdict})


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
    target: Mapping[str, float] | None = None,
    **fit_options: Any,
) -> FitResult:
    """Choose a law by backtest at the target's distance, fit it, attach its error model.

    Every applicable candidate (or those named in ``candidates``, labels such as ``chinchilla``
    or ``power(variable=params)``) is fitted on all the data; those that did not converge,
    or that are blind to an axis the runs vary on while a law that reads it converged, are
    dropped with the reason. The rest are backtested (the few that can win) and scored on the
    folds whose distance is nearest the ``target``'s (inputs such as ``{"params": 7e9}``; the
    farthest folds without one); the simplest law within one standard error of the lowest
    error is chosen. With too little data to backtest, the eligible candidate with the fewest
    parameters is fitted and the fit says why. An InputError when no candidate is eligible.
    """
    folds.check_same_data(runs)
    check_target(target)
    usable, skipped = _restricted(*applicable(runs), candidates)
    fit_options = dict(ci_level=ci_level, **fit_options)
    lr_ahead = decay_ahead(runs)
    ranked = rank_candidates(runs, usable, fit_options, varying_axes(runs, lr_ahead))
    eligible = [c for c in ranked if c.dropped is None]
    if lr_ahead and not any("lr" in c.law.inputs for c in eligible):
        why = "; ".join([f"{c.label}: {c.dropped}" for c in ranked if "lr" in c.law.inputs]
                        + [f"{k}: {v}" for k, v in skipped.items() if k in LR_LAWS])
        raise InputError(
            "the planned learning rate decays beyond the logged losses, and no law that reads the lr can "
            f"be fitted to what was logged ({why or 'none applies'}); a law blind to the lr would forecast "
            "as if the decay never came: log more checkpoints after the warmup, or wait"
        )
    if not eligible:
        reasons = "; ".join(f"{c.label}: {c.dropped}" for c in ranked)
        raise InputError(f"no candidate law can be trusted on this data ({reasons})")
    axis, plan, note = folds.plan(runs, by)
    choosing = [f for f in plan if not f.inside] or plan
    wanted, target_note = target_distance(runs, choosing[0].axis if choosing else axis, target)
    deciding, _ = deciding_folds(choosing, {f.name for f in choosing}, wanted)
    tested = backtest_finalists(eligible, choosing, fit_options, deciding, progress) if plan else []
    record = {"axis": axis, "folds": [f.name for f in plan], "skipped": skipped, "rule": "one standard error",
              "target": dict(target) if target else None, "target_note": target_note}
    options = dict(seed=seed, strict=strict, progress=progress, **fit_options)
    while tested:
        common = set.intersection(*(c.test.beyond() for c in tested))  # type: ignore[union-attr]
        deciding, distance = deciding_folds(choosing, common, wanted)
        chosen, lowest = one_standard_error(tested, deciding)
        start = chosen.fit.theta  # type: ignore[union-attr]
        chosen.test = with_inside_folds(plan, chosen.test, fit_options, start=start)  # type: ignore[arg-type]
        selection = {**record, "chosen": chosen.label, "reason": _reason(chosen, lowest, deciding, distance, ranked),
                     "deciding_folds": deciding, "target_decades": distance,
                     "candidates": [c.record(deciding) for c in ranked]}
        replicates = AUTO_BOOTSTRAP[chosen.law.kind] if bootstrap is None else bootstrap
        fit = fit_backtested(runs, chosen.test, selection, start=chosen.fit, bootstrap=replicates, **options)
        trouble = _untrusted(fit)
        if trouble is None:
            return fit
        chosen.dropped = trouble
        tested.remove(chosen)
    return _fallback(runs, ranked, plan, note, record, bootstrap, options)


def _restricted(usable: list[tuple[str, Law]], skipped: dict[str, str],
                candidates: list[str] | None) -> tuple[list[tuple[str, Law]], dict[str, str]]:
    """The applicable candidates narrowed to those named (an InputError for an unknown name or none left)."""
    if candidates is not None:
        wanted = set(candidates)
        unknown = wanted - {label for label, _ in usable} - set(skipped) - {law.name for _, law in usable}
        if unknown:
            raise InputError(f"unknown candidate law(s) {', '.join(sorted(unknown))}")
        usable = [(label, law) for label, law in usable if label in wanted or law.name in wanted]
    if not usable:
        reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
        raise InputError(f"no law can be fitted to this data ({reasons})")
    return usable, skipped


def _untrusted(fit: FitResult) -> str | None:
    """Why the chosen law's final fit may not be the answer: it did not converge (None when it did).

    A bootstrap whose replicates often fail to converge is reported by the fit's diagnostics
    but drops no law: resampling a handful of runs often leaves a replicate with fewer sizes
    than the law needs, which says little about the fit on all of them.
    """
    return None if fit.diagnostics.converged else "its final fit did not converge"


def _fallback(runs: RunSet, ranked: list[Candidate], plan: list[folds.Fold], note: str, record: dict[str, Any],
              bootstrap: int | None, options: dict[str, Any]) -> FitResult:
    """With nothing backtested: the eligible law with the fewest parameters, with a warning (an error under strict)."""
    eligible = [c for c in ranked if c.dropped is None]
    if not eligible:
        reasons = "; ".join(f"{c.label}: {c.dropped}" for c in ranked)
        raise InputError(f"no candidate law can be trusted on this data ({reasons})")
    chosen = min(eligible, key=lambda c: c.free())
    why = note if not plan else "no eligible candidate could be fitted on every fold"
    reason = (
        f"too little data for a backtest ({why}); fell back to {chosen.label}, the eligible law with the "
        "fewest parameters, and its intervals leave out the law's own extrapolation error"
    )
    if options["strict"]:
        raise UntrustedFitError(reason)
    warn(reason, FitWarning)
    warm = start_values(chosen.law, chosen.fit.theta)  # type: ignore[union-attr]
    replicates = AUTO_BOOTSTRAP[chosen.law.kind] if bootstrap is None else bootstrap
    fit = fit_law(runs, chosen.law, bootstrap=replicates, start=warm, **options)
    candidates = [c.record([]) for c in ranked]
    return replace(fit, selection={**record, "chosen": chosen.label, "reason": reason, "deciding_folds": [],
                                   "target_decades": None, "candidates": candidates})


def fit_calibrated(runs: RunSet, law: str | Law, *, required: bool = True, **options: Any) -> FitResult:
    """Fit one law and attach the extrapolation-error model of its own backtests.

    When the data allow no backtest (or the law fails on a fold) the plain fit is returned:
    with a warning (an error under ``strict``) when ``required``, silently otherwise (its
    predictions beyond the data still say their intervals leave out the law's own error).
    The law is fitted on all the data first; its folds and bootstrap start from that optimum.
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
    full = None
    if plan:
        try:
            with _silenced():
                full = fit_law(runs, law, bootstrap=0, strict=False, progress=False, **fit_options)
        except (InputError, UntrustedFitError, ValueError, FloatingPointError):
            full = None  # the fit below reports what is wrong with the data
    test = backtest(label, law, plan, fit_options, start=None if full is None else full.theta) if plan else None
    if test is None or test.failure is not None:
        if required:
            message = (f"no backtest calibration ({note if test is None else test.failure}): intervals leave out "
                       "the law's own extrapolation error")
            if options.get("strict"):
                raise UntrustedFitError(message)
            warn(message, FitWarning)
        return fit_law(runs, law, **options)
    deciding, distance = deciding_folds([f for f in plan if not f.inside] or plan, test.beyond(), None)
    candidate = Candidate(label, law, full, test=test)
    selection = {"chosen": label, "reason": "chosen by hand; backtested for calibration", "axis": axis,
                 "folds": [f.name for f in plan], "candidates": [candidate.record(deciding)], "skipped": {},
                 "deciding_folds": deciding, "target_decades": distance}
    return fit_backtested(runs, test, selection, start=full, **options)


def _settle_on(law: Law, runs: RunSet) -> None:
    """Let a law that settles its parametrization on its first data (a schedule family, a held prior) see all of it.

    Otherwise its first backtest fold, a part of the data, would decide for every fold and the final fit.
    """
    try:
        with _silenced():
            law.design(runs)
    except (InputError, ValueError, KeyError):
        pass  # the fit itself reports what is wrong with the data


def _reason(chosen: Candidate, lowest: Candidate, deciding: list[str], distance: float,
            ranked: list[Candidate]) -> str:
    """A few sentences on why the winner won and why the others did not."""
    error, se, n = decided(chosen.test, deciding)  # type: ignore[arg-type]
    where = f"the {len(deciding)} fold(s) nearest {distance:.2f} decades ({'; '.join(deciding)})"
    if chosen is lowest:
        text = f"{chosen.label} had the lowest backtest error of the held-out final loss on {where}: {error:.2%}"
        text += f" (standard error {se:.2%} over {n} held-out runs)" if n > 1 else ""
    else:
        low = decided(lowest.test, deciding)[0]  # type: ignore[arg-type]
        se = paired_se(chosen.test, lowest.test, deciding)  # type: ignore[arg-type]
        text = (f"{chosen.label} ({chosen.free()} free parameters, {error:.2%}) is within one standard error of the "
                f"lowest backtest error, {lowest.label}'s {low:.2%} ({lowest.free()} free parameters; the "
                f"difference {error - low:.2%} ± {se:.2%} over the same held-out runs), on {where}, and simpler")
    others = [f"{c.label}: {c.dropped}" for c in ranked if c.dropped]
    if others:
        text += "; dropped: " + "; ".join(others)
    return text
