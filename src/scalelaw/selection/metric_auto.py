"""``--law auto --metric ACC``: accuracy laws backtested within the family, the best fitted with its own error.

The candidates are few-parameter laws of a rising, bounded metric: a straight line in
log N (or log compute) and a sigmoid between the task's chance level and 1
(:mod:`scalelaw.laws.chance_sigmoid`), each in model size, in compute, and (when the runs
differ in tokens per parameter) in both; the 7-parameter OLMo single-step sigmoid only
when there are runs enough for it. Each is scored on the rolling-origin folds of
:func:`scalelaw.selection.folds.plan` by its error in accuracy points on the held-out
runs; the simplest law within one standard error of the best wins (a one-standard-error
rule: with a handful of held-out runs, a smaller error by less than that is noise). Its
backtest errors, in accuracy points, become its extrapolation-error model, blended with a
prior (:data:`PRIOR`) worth one held-out run; with nothing to backtest (three sizes) the
prior alone sizes the interval and every forecast says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError, ScalelawWarning, UntrustedFitError, warn
from scalelaw.fit.engine import fit_law
from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.fit.metric_fit import ACCURACY_LAWS, WINDOW, check_accuracy, metric_column, metric_rises, resolve_chance
from scalelaw.fit.result import FitResult
from scalelaw.fit.two_step import TwoStepFit
from scalelaw.laws._chance import chance_level
from scalelaw.laws.base import Law
from scalelaw.selection import calibration, folds
from scalelaw.selection.auto import fit_calibrated
from scalelaw.selection.rolling import Backtest

#: (law, variable) in order of preference on a tie: lines before sigmoids, size before compute before both.
CANDIDATES: tuple[tuple[str, str | None], ...] = (
    ("log-linear", "params"),
    ("chance-sigmoid", "params"),
    ("log-linear", "flops"),
    ("chance-sigmoid", "flops"),
    ("log-linear", "params+tokens"),
    ("chance-sigmoid", "params+tokens"),
    ("sigmoid-chinchilla", None),
)
#: Runs the 7-parameter single-step sigmoid needs before it is a candidate (two per parameter).
SINGLE_STEP_RUNS = 14
#: The error of an accuracy law before any backtest, in accuracy (fractions): 1 point on a new run inside the
#: data (a run and its rerun differ by about that on these benchmarks) and 5 points per decade of extrapolation
#: (Bhagia et al. 2024 missed 7B and 13B, about a decade beyond their 1B ladder, by 2 points on four tasks and
#: 6.9 on four others), with t tails of 4 degrees of freedom. Set from the literature before any bench was run.
PRIOR = ExtrapolationError(slope=0.05, dof=4, tested_decades=0.0, bias=0.0, runs=0, points=0, folds=0, floor=0.01)
#: Bootstrap replicates of the chosen law when the caller asks for none.
AUTO_BOOTSTRAP = 100
#: Tokens that differ by more than this factor from what size alone predicts make the runs differ in length.
SAME_RATIO = 1.05


@dataclass(frozen=True)
class MetricView:
    """The metric as fitted (``loss`` slot, smoothed), its column, its chance level and where that came from."""

    runs: RunSet
    metric: str
    window: int
    chance: float
    chance_source: str


def accuracy_law(runs: RunSet, metric: str, law: str | None) -> bool:
    """True when ``metric`` is fitted with the accuracy laws: ``law`` names one, or (None or auto) the metric
    rises, or it is a benchmark of the chance table, or its direction is unclear and every value is a fraction."""
    if law not in (None, "auto"):
        return laws.get(law).name in ACCURACY_LAWS
    metric = metric_column(runs, metric)
    target = runs.target(metric)
    rises = metric_rises(target)
    values = target.final()["loss"].to_numpy(dtype=float)
    fractions = bool(values.size) and bool(np.all((values >= 0) & (values <= 1)))
    return bool(rises) or (fractions and (rises is None or chance_level(metric) is not None))


def accuracy_view(runs: RunSet, metric: str, *, window: int | None = None, chance: float | None = None) -> MetricView:
    """The runs with ``metric`` in the loss slot (mean of the last ``window`` values), checked as an accuracy."""
    metric = metric_column(runs, metric)
    target = runs.target(metric)
    if len(target) < len(runs):
        warn(f"{len(runs) - len(target)} run(s) never log {metric!r} and are left out of its fit", FitWarning)
    if metric_rises(target) is False:
        final = target.final().sort_values([c for c in ("params", "tokens") if c in target.columns] or ["run"])
        values = final["loss"].to_numpy(dtype=float)
        raise InputError(f"{metric!r} does not rise with scale here ({values[0]:.3g} at the smallest run, "
                         f"{values[-1]:.3g} at the largest): the accuracy laws extrapolate a rising trend the data "
                         "do not show (a task still at chance, or a loss: fit a loss with --law chinchilla)",
                         column=metric)
    window = window or WINDOW
    view = runs.target(metric, window=window) if window > 1 else target
    level, source = resolve_chance(metric, chance)
    check_accuracy(view, metric, level)
    return MetricView(view, metric, window, level, source)


def candidates(data: MetricView) -> tuple[list[tuple[str, Law]], dict[str, str]]:
    """The candidate laws the runs can tell apart, and why the others are left out."""
    final = data.runs.final()
    has = {c: c in final.columns and bool(final[c].notna().all()) for c in ("params", "tokens", "flops")}
    lengths = has["params"] and has["tokens"] and lengths_vary(final["params"].to_numpy(float), final["tokens"].to_numpy(float))
    usable, skipped = [], {}
    for name, variable in CANDIDATES:
        label = f"{name}({variable})" if variable else name
        why = None
        if variable == "params" and not has["params"]:
            why = "the runs have no params"
        elif variable == "flops" and not (has["flops"] or (has["params"] and has["tokens"])):
            why = "the runs have no flops (nor params and tokens)"
        elif variable == "flops" and has["params"] and not lengths:
            why = "tokens do not vary apart from size, so compute says what size says"
        elif variable in ("params+tokens", None) and not lengths:
            why = "tokens do not vary apart from size, so a tokens term is unidentified"
        elif variable is None and len(final) < SINGLE_STEP_RUNS:
            why = f"{len(final)} runs for 7 parameters (needs {SINGLE_STEP_RUNS})"
        if why:
            skipped[label] = why
            continue
        options: dict[str, Any] = {} if variable is None else {"variable": variable}
        if name == "chance-sigmoid":
            options["chance"] = data.chance
        usable.append((label, laws.get(name, **options)))
    return usable, skipped


def lengths_vary(params: np.ndarray, tokens: np.ndarray) -> bool:
    """True when tokens vary apart from size: log D is no affine function of log N (else compute says what size says)."""
    x, y = np.log(params) - np.log(params).mean(), np.log(tokens) - np.log(tokens).mean()
    if np.ptp(y) < np.log(SAME_RATIO) or np.ptp(x) == 0:
        return bool(np.ptp(y) >= np.log(SAME_RATIO))
    residual = y - x * float(x @ y) / float(x @ x)
    return bool(np.ptp(residual) >= np.log(SAME_RATIO))


def backtest_accuracy(label: str, law: Law, plan: list[folds.Fold], fit_options: dict[str, Any]) -> Backtest:
    """Fit ``law`` on each fold's training runs and score its forecast of the held-out runs in accuracy.

    Errors are observed − predicted accuracy (the law's residual space); a fold the law cannot be
    fitted on is skipped when optional and fails the backtest otherwise.
    """
    result = Backtest(label, law, [], *(np.empty(0) for _ in range(5)))
    parts: list[tuple[np.ndarray, ...]] = []
    for fold in plan:
        try:
            with silenced():
                fit = fit_law(fold.train, law, bootstrap=0, strict=False, progress=False, **fit_options)
                design = law.design(fold.test)
            errors = design.loss - law.predict(fit.theta[None, :], design)[0]
            if not np.all(np.isfinite(errors)):
                raise ValueError("no finite forecast of the held-out runs")
        except (InputError, UntrustedFitError, ValueError, FloatingPointError) as exc:
            reason = f"{fold.name}: {exc.reason if isinstance(exc, InputError) else exc}"
            if fold.optional:
                result.skipped.append(reason)
                continue
            result.failure = reason
            return result
        decades = fit.decades_beyond(design)
        result.folds.append({"fold": fold.name, "held_out_runs": design.run.tolist(), "inside": fold.inside,
                             "final_error": float(np.mean(np.abs(errors))), "curve_error": float(np.mean(np.abs(errors))),
                             "bias": float(np.mean(-errors)), "decades": float(np.max(decades))})
        noise = float(np.mean(np.square(fit.residuals))) if fit.residuals.size else 0.0
        parts.append((errors, decades, np.char.add(f"{fold.name}|", design.run.astype(str)),
                      np.full(design.n, noise), np.full(design.n, fold.name)))
    if not parts:
        result.failure = "no fold could be fitted: " + "; ".join(result.skipped)
        return result
    result.errors, result.decades, result.groups, result.noise_var, result.fold_of = (np.concatenate(p) for p in zip(*parts))
    return result


def fit_metric_auto(
    runs: RunSet,
    metric: str,
    *,
    laws_to_try: list[str] | None = None,
    law_options: dict[str, Any] | None = None,
    chance: float | None = None,
    window: int | None = None,
    bootstrap: int | None = None,
    seed: int = 0,
    strict: bool = False,
    ci_level: float = 0.95,
    progress: bool | None = None,
    **fit_options: Any,
) -> FitResult:
    """Choose among the accuracy laws by backtest within the family, fit the choice, attach its error model.

    ``laws_to_try`` restricts the candidates to these labels or law names (one name: that law, calibrated),
    built with ``law_options`` (e.g. ``{"ceiling": 0.9}``; ``chance`` there is the same as the argument).
    """
    extra = {k: v for k, v in (law_options or {}).items() if k != "variable"}
    chance = extra.pop("chance", chance) if chance is None else chance
    data = accuracy_view(runs, metric, window=window, chance=chance)
    usable, skipped = candidates(data)
    if laws_to_try is not None:
        usable = [(label, law) for label, law in usable if label in laws_to_try or law.name in laws_to_try]
        if not usable:
            why = "; ".join(f"{k}: {v}" for k, v in skipped.items() if k.split("(")[0] in laws_to_try)
            raise InputError(f"law {', '.join(laws_to_try)} cannot be fitted to {data.metric!r} here ({why or 'unknown law'})")
        usable = [(label, laws.get(law.name, **{**law.options(), **extra})) for label, law in usable]
    folds.check_same_data(data.runs)
    axis, plan, note = folds.plan(data.runs)
    beyond = [f for f in plan if not f.inside]
    tests = [backtest_accuracy(label, law, beyond, fit_options) for label, law in usable] if beyond else []
    options = dict(bootstrap=AUTO_BOOTSTRAP if bootstrap is None else bootstrap, seed=seed, strict=strict,
                   progress=progress, ci_level=ci_level, **fit_options)
    record = {"axis": axis, "folds": [f.name for f in plan], "skipped": skipped, "unit": "accuracy",
              "chance": data.chance, "chance_source": data.chance_source}
    for test, reason in ranked(tests):
        with silenced():
            fit = fit_law(data.runs, test.law, **{**options, "strict": False, "bootstrap": 0})
        if untrusted(fit):
            test.failure = f"the fit on all runs is untrusted ({'; '.join(fit.diagnostics.warnings) or 'not converged'})"
            continue
        inside = [f for f in plan if f.inside]
        measured = _with_inside(test, backtest_accuracy(test.label, test.law, inside, fit_options)) if inside else test
        error = with_prior(calibration.estimate(measured.errors, measured.decades, measured.groups,
                                                measured.noise_var, measured.fold_of))
        selection = {**record, "chosen": test.label, "reason": reason,
                     "candidates": [t.record() for t in tests]}
        return _finish(data, fit_law(data.runs, test.law, **options), error, selection)
    label, law = fallback(usable)
    why = note if not beyond else "no candidate passed its backtests (" + "; ".join(
        f"{t.label}: {t.failure}" for t in tests) + ")"
    reason = (f"too little data for a backtest ({why}); fitted {label}, the simplest law, and its interval rests on a "
              "prior error of the accuracy laws (1 point inside the data, 5 points per decade beyond), not a measurement")
    if strict:
        raise UntrustedFitError(reason)
    warn(reason, FitWarning)
    selection = {**record, "chosen": label, "reason": reason, "candidates": [t.record() for t in tests]}
    return _finish(data, fit_law(data.runs, law, **options), PRIOR, selection)


def ranked(tests: list[Backtest]) -> Iterator[tuple[Backtest, str]]:
    """Candidates in the order they are tried, each with the sentence saying why.

    First the simplest law whose mean error on the folds every candidate passed is within
    one standard error (over held-out runs) of the lowest; then the rest by error.
    """
    scored = [t for t in tests if t.failure is None]
    if not scored:
        return
    common = set.intersection(*(t.beyond() for t in scored))
    score = {t.label: t.score("final_error", common) for t in scored}
    best = min(scored, key=lambda t: score[t.label])
    held = np.abs(best.errors[np.isin(best.fold_of, list(common))])
    se = float(np.std(held, ddof=1) / math.sqrt(held.size)) if held.size > 1 else 0.0
    close = [t for t in scored if score[t.label] <= score[best.label] + se]
    first = min(close, key=lambda t: len(t.law.param_names))
    order = [first] + sorted((t for t in scored if t is not first), key=lambda t: score[t.label])
    for test in order:
        text = (f"{test.label}: {100 * score[test.label]:.2f} accuracy points mean backtest error over "
                f"{len(common)} fold(s); lowest {best.label} at {100 * score[best.label]:.2f} "
                f"(one standard error {100 * se:.2f}; the simplest law within it is preferred)")
        yield test, text


def untrusted(fit: FitResult) -> bool:
    """A fit not to choose: not converged, or a parameter other than a slope at zero pinned on a bound."""
    if not fit.diagnostics.converged:
        return True
    pinned = [p for p in fit.law.params if p.name in fit.diagnostics.on_bound]
    return any(not (p.name in ("s", "b") and fit.params[p.name] <= p.lower) for p in pinned)


def fallback(usable: list[tuple[str, Law]]) -> tuple[str, Law]:
    """With nothing backtested: the straight line in compute when the runs differ in length, else in size."""
    lines = [item for item in usable if item[1].name == "log-linear"]
    if not lines:
        raise InputError("no accuracy law can be fitted to this data: it needs params (or flops) per run")
    return next((item for item in lines if item[0] == "log-linear(flops)"), lines[0])


def with_prior(measured: ExtrapolationError | None) -> ExtrapolationError:
    """The measured error model with the accuracy laws' prior blended in (the prior alone if none)."""
    return calibration.with_prior(measured, PRIOR)


def _with_inside(test: Backtest, inside: Backtest) -> Backtest:
    """``test`` plus the folds inside the data (they size the floor); unchanged when those failed."""
    if inside.failure is not None:
        return test
    arrays = [np.concatenate([getattr(test, k), getattr(inside, k)]) for k in ("errors", "decades", "groups",
                                                                                 "noise_var", "fold_of")]
    return Backtest(test.label, test.law, test.folds + inside.folds, *arrays)


def _finish(data: MetricView, fit: FitResult, error: ExtrapolationError, selection: dict[str, Any]) -> FitResult:
    fit.options.update(metric=data.metric, window=data.window)
    return replace(fit, calibration=error, selection=selection)


@contextmanager
def silenced() -> Iterator[None]:
    """scalelaw's own warnings suppressed: fits on folds are probes, not the user's fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalelawWarning)
        yield


def calibrate_two_step(fit: TwoStepFit, runs: RunSet, **options: Any) -> TwoStepFit:
    """``fit`` with step 1 refitted with the error model of its own backtests (as a loss law is calibrated).

    Step 1, the loss law from (N, D) to the intermediate metric, carries most of the two-step
    error on the OLMo ladder (docs/decisions.md); without this its interval held only the
    bootstrap and the residual scatter, not the law's error beyond the data.
    """
    view = runs.target(fit.via, window=int(fit.step1.options.get("window", WINDOW)))
    step1 = fit_calibrated(view, fit.step1.law, required=False, **options)
    step1.options.update(metric=fit.via, window=fit.step1.options.get("window", WINDOW))
    return replace(fit, step1=step1)
