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

import math
import warnings
from collections.abc import Iterator, Mapping
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
from scalelaw.selection.rolling import Backtest, backtest, warm_started
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
#: Folds within this many decades of the distance nearest the target's decide the law (with that one).
DISTANCE_TOL = 0.1


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
            skipped[label] = _short(reason)
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
class Candidate:
    """One applicable law on its way through ``--law auto``: its fit on all the data, why it was dropped, its backtest."""

    label: str
    law: Law
    fit: FitResult | None = None
    #: In-sample mean relative error of each run's last logged loss (the quantity the backtests score).
    in_sample: float = math.nan
    #: Why it may not be chosen (None while eligible).
    dropped: str | None = None
    #: Why it was not backtested although eligible (it could not win), or None.
    screened: str | None = None
    test: Backtest | None = None

    def free(self) -> int:
        """Free parameters of its fit (fewer means simpler)."""
        return self.fit.diagnostics.n_free if self.fit is not None else len(self.law.param_names)

    def record(self, deciding: list[str]) -> dict[str, Any]:
        """The FIT.json record: the backtest, the errors on the folds that decided, or why it was left out."""
        if self.test is not None:
            out = self.test.record()
        else:
            out = {"law": self.law.name, "label": self.label, "options": self.law.options(), "final_error": None,
                   "curve_error": None, "bias": None, "folds": [], "failure": None, "skipped_folds": []}
        out["failure"] = out["failure"] or self.dropped or self.screened
        out["in_sample_error"] = _finite_or_none(self.in_sample)
        out["converged"] = None if self.fit is None else bool(self.fit.diagnostics.converged)
        out["free_parameters"] = self.free()
        error, se, n = decided(self.test, deciding) if self.test is not None and self.test.failure is None \
            else (math.nan, math.nan, 0)
        out.update(decided_error=_finite_or_none(error), decided_se=_finite_or_none(se), decided_runs=n)
        return out


def rank_candidates(runs: RunSet, usable: list[tuple[str, Law]], fit_options: dict[str, Any]) -> list[Candidate]:
    """Fit every candidate once on all the data, ordered by in-sample error of the final losses (failures last).

    A candidate whose fit fails or does not converge is dropped here, with the reason.
    """
    ranked = []
    for label, law in usable:
        candidate = Candidate(label, law)
        try:
            with _silenced():
                fit = fit_law(runs, law, bootstrap=0, strict=False, progress=False, **fit_options)
                candidate.in_sample = _final_error(fit, law.design(runs))
        except (InputError, UntrustedFitError, ValueError, FloatingPointError) as exc:
            candidate.dropped = f"could not be fitted to all the data: {_short(str(exc))}"
        else:
            candidate.fit = fit
            if not fit.diagnostics.converged:
                candidate.dropped = "did not converge on all the data"
            elif not math.isfinite(candidate.in_sample):
                candidate.dropped = "gives no finite prediction of the runs' final losses"
        ranked.append(candidate)
    return sorted(ranked, key=lambda c: (c.dropped is not None, c.in_sample if math.isfinite(c.in_sample) else math.inf))


def _final_error(fit: FitResult, design: Any) -> float:
    """Mean |predicted/observed - 1| of each run's last point (by step; the last row for final-loss designs)."""
    predicted = fit.law.predict(fit.theta[None, :], design)[0]
    step = np.asarray(design.inputs.get("step", np.arange(design.n)), dtype=float)
    run = np.asarray(design.run).astype(str)
    last = [int(idx[np.argmax(step[idx])]) for idx in (np.flatnonzero(run == r) for r in dict.fromkeys(run.tolist()))]
    with np.errstate(all="ignore"):
        rel = np.abs(predicted[last] / design.loss[last] - 1.0)
    return float(np.mean(rel)) if np.all(np.isfinite(rel)) else math.nan


def drop_blind(candidates: list[Candidate], runs: RunSet, lr_decays_ahead: bool) -> None:
    """Drop eligible laws blind to an axis the runs vary on (size, length, a decay ahead) when one that reads it converged."""
    for axis, why in _varying_axes(runs, lr_decays_ahead).items():
        alive = [c for c in candidates if c.dropped is None]
        readers = [c for c in alive if _reads(c.law, axis)]
        if not readers:
            continue
        for c in alive:
            if not _reads(c.law, axis):
                c.dropped = f"blind to {axis}, which {why}, while {readers[0].label} reads it and converged"


def _varying_axes(runs: RunSet, lr_decays_ahead: bool) -> dict[str, str]:
    """The axes the runs vary on (or that the forecast must see), each with a phrase saying how."""
    axes = {}
    sizes = folds.level_floors(folds.per_run(runs, "params").dropna().to_numpy(dtype=float))
    if sizes.size >= 2:
        axes["model size"] = f"the runs vary on ({sizes.size} sizes)"
    length = folds.per_run(runs, "tokens")
    length = length if length.notna().all() else folds.per_run(runs, "steps")
    lengths = folds.level_floors(length.dropna().to_numpy(dtype=float))
    if lengths.size >= 2:
        axes["run length"] = f"the runs vary on ({lengths.size} lengths)"
    if lr_decays_ahead:
        axes["the learning rate"] = ("decays beyond the logged losses (a decay no backtest inside the logged part "
                                     "could show a blind law missing)")
    return axes


def _reads(law: Law, axis: str) -> bool:
    """True when ``law`` reads ``axis`` (compute counts for size and length; a curve's steps for length)."""
    inputs = set(law.inputs)
    return {"model size": {"params", "flops"}, "run length": {"tokens", "flops", "step"},
            "the learning rate": {"lr"}}[axis] & inputs != set()


def deciding_folds(plan: list[folds.Fold], scored: set[str], target: float | None) -> tuple[list[str], float]:
    """The folds that choose the law, and the distance they were matched to (decades along the plan's axis).

    Among the folds beyond the data every candidate was scored on, those on the plan's first
    axis whose distance lies within ``DISTANCE_TOL`` of the one nearest the target's (the
    farthest when no target is named); all scored folds when none of the first axis is.
    """
    beyond = [f for f in plan if not f.inside and f.name in scored]
    primary = [f for f in beyond if f.axis == plan[0].axis] or beyond
    if not primary:
        return [], math.nan
    wanted = max(f.distance for f in primary) if target is None else target
    nearest = min(abs(f.distance - wanted) for f in primary)
    return [f.name for f in primary if abs(f.distance - wanted) <= nearest + DISTANCE_TOL], wanted


def decided(test: Backtest, deciding: list[str]) -> tuple[float, float, int]:
    """(mean, standard error, count) of the held-out runs' |final error| on the deciding folds, each fold weighing the same.

    The standard error is that of the mean over the held-out runs (0 with fewer than two).
    """
    chosen = [f for f in test.folds if f["fold"] in set(deciding)]
    if not chosen:
        return math.nan, math.nan, 0
    per_run = np.abs(np.concatenate([f["final_errors"] for f in chosen]))
    mean = float(np.mean([f["final_error"] for f in chosen]))
    se = float(np.std(per_run, ddof=1) / math.sqrt(per_run.size)) if per_run.size > 1 else 0.0
    return mean, se, int(per_run.size)


def one_standard_error(tested: list[Candidate], deciding: list[str]) -> tuple[Candidate, Candidate]:
    """(chosen, lowest): the simplest candidate within one standard error of the lowest deciding error."""
    scores = {c.label: decided(c.test, deciding) for c in tested}  # type: ignore[arg-type]
    lowest = min(tested, key=lambda c: (scores[c.label][0], c.free()))
    bar = scores[lowest.label][0] + scores[lowest.label][1]
    within = [c for c in tested if scores[c.label][0] <= bar + 1e-12]
    return min(within, key=lambda c: (c.free(), scores[c.label][0])), lowest


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
    law = test.law if start is None else warm_started(test.law, start.theta)
    fit = fit_law(runs, law, **options)
    if start is not None:
        fit = replace(fit, law=test.law, diagnostics=replace(
            fit.diagnostics, starts=start.diagnostics.starts, starts_in_best_basin=start.diagnostics.starts_in_best_basin))
    error_model = calibration.estimate(test.errors, test.decades, test.groups, test.noise_var, test.fold_of)
    _, _, verdict = calibration.trend(test.errors, test.decades, test.groups, test.fold_of)
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
    ranked = rank_candidates(runs, usable, fit_options)
    lr_ahead = decay_ahead(runs)
    drop_blind(ranked, runs, lr_ahead)
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


#: Inputs a target may name.
TARGET_INPUTS = ("params", "tokens", "flops", "step", "steps")


def target_distance(runs: RunSet, axis: str, target: Mapping[str, float] | None) -> tuple[float | None, str]:
    """Decades along ``axis`` from the largest run to ``target`` (None without one), and a sentence on it."""
    if not target:
        return None, "no target named: laws scored at the farthest distance the backtests reach"
    values = dict(target)
    if axis == "flops" and "flops" not in values and {"params", "tokens"} <= set(values):
        values["flops"] = 6.0 * values["params"] * values["tokens"]
    column = {"steps": "step", "time": "step"}.get(axis, axis)
    value = values.get(column, values.get("steps") if column == "step" else None)
    if value is None or not value > 0:
        return None, f"the target names no {column}, the backtest axis: laws scored at the farthest distance"
    reference = float(folds.per_run(runs, "steps" if column == "step" else axis).max())
    decades = max(float(np.log10(value / reference)), 0.0)
    return decades, f"target {decades:.2f} decades beyond the largest run in {column}"


def check_target(target: Mapping[str, float] | None) -> None:
    """Refuse a target naming an unknown input or a value that is not a finite positive number."""
    for name, value in (target or {}).items():
        if name not in TARGET_INPUTS:
            raise InputError(f"--target names {name!r}; it may name {', '.join(TARGET_INPUTS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
            raise InputError(f"--target {name}={value!r}: must be a finite number above 0")


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
    law = warm_started(chosen.law, chosen.fit.theta)  # type: ignore[union-attr]
    replicates = AUTO_BOOTSTRAP[chosen.law.kind] if bootstrap is None else bootstrap
    fit = replace(fit_law(runs, law, bootstrap=replicates, **options), law=chosen.law)
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


@contextmanager
def _silenced() -> Iterator[None]:
    """scalelaw's own warnings suppressed: probing the data is not fitting it (the fit warns for real)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalelawWarning)
        yield


def _reason(chosen: Candidate, lowest: Candidate, deciding: list[str], distance: float,
            ranked: list[Candidate]) -> str:
    """A few sentences on why the winner won and why the others did not."""
    error, se, n = decided(chosen.test, deciding)  # type: ignore[arg-type]
    where = f"the {len(deciding)} fold(s) nearest {distance:.2f} decades ({'; '.join(deciding)})"
    if chosen is lowest:
        text = f"{chosen.label} had the lowest backtest error of the held-out final loss on {where}: {error:.2%}"
        text += f" (standard error {se:.2%} over {n} held-out runs)" if n > 1 else ""
    else:
        low, low_se, _ = decided(lowest.test, deciding)  # type: ignore[arg-type]
        text = (f"{chosen.label} ({chosen.free()} free parameters, {error:.2%}) is within one standard error of the "
                f"lowest backtest error, {lowest.label}'s {low:.2%} ± {low_se:.2%} ({lowest.free()} free parameters), "
                f"on {where}, and simpler")
    others = [f"{c.label}: {c.dropped}" for c in ranked if c.dropped]
    if others:
        text += "; dropped: " + "; ".join(others)
    return text


def _short(text: str) -> str:
    """``text`` cut to 200 characters."""
    return text if len(text) <= 200 else text[:197] + "..."


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
