"""Rank candidate runs by how much each is expected to shrink the target's forecast interval per FLOP.

The fit's bootstrap draws stand for the posterior of its parameters. Observing a candidate
run c adds one value y_c = f_c(θ) + ε (ε the runs' scatter around the law σ², plus the law's
error inside its fitted range, the floor σ₀², so σ_c² = σ² + σ₀²); under the linear-Gaussian
update of that ensemble (an ensemble Kalman step) the target's variance becomes
Var(t) − Cov(t, f_c)² / (Var(f_c) + σ_c²). A candidate beyond the fitted range also brings the
target closer, which shrinks the law's own error: its variance at the target's distance d is
a + b·d, fitted to the fit's own rolling-origin backtest folds grouped by distance with a prior
slope where they cannot tell (:mod:`scalelaw.plan.drift`), so nearness earns credit only as far
as the backtests show the error growing with distance (beyond the farthest fold it grows as
b·d²/d_t, as the calibrated forecast's does). Refitted, the backtests will hold the candidate out
at its own distance beyond the present runs, so d_t after it is at least that distance. The
expected interval is z·√(posterior variance + σ² + law error²); candidates are ranked by its
relative shrink per 1% of the target's compute, and the answer says to stop when the interval
meets the tolerance or no candidate shrinks it by ``min_gain`` per 1% of the target's compute.

Under a loss-curve law (multi-power, lr-annealing, chinchilla-curve) a candidate is a schedule and a length:
its run observes the law's curve at ``CURVE_POINTS`` checkpoints from the end of its warmup to its last step,
each off the law by the scatter σ (independent) and all together by the law's floor error σ₀ (one offset
shared by the whole curve), so R = σ²·I + σ₀²·J in the multivariate update
Var(t) − c_tfᵀ (C_ff + R)⁻¹ c_tf; the target is the loss at the last step of its own schedule.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from scalelaw.data.guards import MAX_SMALL_FILE_BYTES, read_capped
from scalelaw.data.schedules import Constant, Schedule, at_length, parse_schedule
from scalelaw.errors import InputError
from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.fit.result import FitResult
from scalelaw.laws.base import Design
from scalelaw.plan.drift import Drift, estimate, fold_points, from_error
from scalelaw.plan.flops import training_flops
from scalelaw.plan.ladder_design import Target
from scalelaw.selection.calibration import LOSS_PRIOR

#: Axes a candidate run is given on; a law must read the ones the candidates vary.
AXES = ("params", "tokens")
#: Fewest finite bootstrap draws the ranking accepts.
MIN_DRAWS = 10
#: Smallest run scatter assumed (relative sd), so a fit that interpolates its few runs does not promise miracles.
MIN_NOISE = 0.001
#: Default stop rule: a candidate must shrink the interval by 1% per 1% of the target's compute.
DEFAULT_MIN_GAIN = 0.01
#: Checkpoints of a candidate's loss curve the ranking observes under a curve law (end of warmup .. last step).
CURVE_POINTS = 4
#: Most scheduled steps, target and candidates together, one ranking evaluates under a curve law: each schedule
#: is evaluated at every step (about a second per 2·10^6 steps; memory is per schedule, see docs/security.md).
MAX_PLANNED_STEPS = 100_000_000


@dataclass(frozen=True)
class Candidate:
    """One run that could be trained next; ``row`` is its 1-based row in the candidates file."""

    label: str
    params: float
    tokens: float
    flops: float
    row: int
    #: Its learning-rate schedule (and so its length in steps), for a loss-curve law.
    schedule: Schedule | None = None


@dataclass(frozen=True)
class Ranked:
    """A candidate with the interval expected after training it."""

    candidate: Candidate
    half_width: float
    decades: float
    shrink: float
    shrink_per_percent: float
    #: The two parts of the expected interval that a run can shrink (sd of the log loss): the parameters'
    #: posterior sd at the target and the law's own error at the target's distance once the run is added.
    parameter_sd: float = 0.0
    law_sd: float = 0.0

    def to_dict(self, target: Target) -> dict[str, Any]:
        c = self.candidate
        return {"candidate": c.label, "params": c.params, "tokens": c.tokens, "flops": c.flops,
                "schedule": None if c.schedule is None else c.schedule.to_spec(),
                "share_of_target": c.flops / target.flops, "expected_half_width": self.half_width,
                "decades_after": self.decades, "shrink": self.shrink,
                "shrink_per_1pct_compute": self.shrink_per_percent,
                "parameter_sd_after": self.parameter_sd, "law_sd_after": self.law_sd}


@dataclass(frozen=True)
class NextRun:
    """The ranking, the interval now, and whether to stop."""

    target: Target
    level: float
    half_width: float
    decades: float
    noise: float
    ranked: tuple[Ranked, ...]
    stop: bool
    reason: str
    warnings: tuple[str, ...] = field(default=())
    parameter_sd: float = 0.0
    law_sd: float = 0.0
    drift: Drift | None = None

    def to_dict(self) -> dict[str, Any]:
        schedule = self.target.schedule
        return {"target": {"params": self.target.params, "tokens": self.target.tokens, "flops": self.target.flops,
                           "schedule": None if schedule is None else schedule.to_spec()},
                "level": self.level, "half_width_now": self.half_width, "decades_now": self.decades,
                "run_noise": self.noise, "parameter_sd_now": self.parameter_sd, "law_sd_now": self.law_sd,
                "law_drift": None if self.drift is None else self.drift.to_dict(), "stop": self.stop,
                "reason": self.reason,
                "ranking": [r.to_dict(self.target) for r in self.ranked], "warnings": list(self.warnings)}


def read_candidates(path: Path, *, default_params: float | None = None, batch_tokens: float = 1.0) -> list[Candidate]:
    """Candidates from a CSV with ``params`` and ``tokens`` (and optionally ``flops``, ``run``), or, for a
    loss-curve law, with ``schedule`` specs (tokens then default to the schedule's steps × ``batch_tokens``, and
    params to ``default_params``); a row whose cost cannot be known is an InputError naming the file and row."""
    if not path.is_file():
        raise InputError("candidates file not found", file=str(path))
    try:
        table = pd.read_csv(io.BytesIO(read_capped(path, MAX_SMALL_FILE_BYTES)), dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the candidates as CSV: {exc}", file=str(path)) from None
    scheduled = "schedule" in table.columns
    if table.empty or not ("params" in table.columns or (scheduled and default_params is not None)):
        raise InputError("the candidates need a 'params' column and at least one row (and 'tokens' or 'flops'; "
                         "or 'schedule' specs for a loss-curve law)", file=str(path))
    out = []
    for i, row in enumerate(table.to_dict(orient="records"), start=1):
        values = {k: _number(row.get(k, "")) for k in ("params", "tokens", "flops")}
        if scheduled and not str(row.get("params", "")).strip() and default_params is not None:
            values["params"] = float(default_params)
        if not values["params"] > 0:
            raise InputError(f"params must be a positive number, got {row.get('params')!r}", file=str(path), row=i,
                             column="params")
        schedule = _schedule(row.get("schedule", ""), path, i) if scheduled else None
        tokens, flops = values["tokens"], values["flops"]
        if not tokens > 0 and schedule is not None:
            tokens = schedule.total_steps * batch_tokens
        if not tokens > 0 and flops > 0:
            tokens = float(flops / training_flops(values["params"], 1.0))
        if not tokens > 0:
            raise InputError("the candidate's cost is unknown: give positive 'tokens' (or 'flops')", file=str(path),
                             row=i, column="tokens")
        if "flops" in table.columns and not flops > 0:
            raise InputError("the candidate's cost is unknown: the 'flops' cell is empty or not a positive number "
                             "(leave the column out to count 6·N·D for every row)", file=str(path), row=i,
                             column="flops")
        cost = flops if flops > 0 else float(training_flops(values["params"], tokens))
        label = str(row.get("run") or (schedule.to_spec() if schedule is not None
                                       else f"N={values['params']:.3g},D={tokens:.3g}"))
        out.append(Candidate(label, values["params"], tokens, cost, i, schedule))
    return out


def _schedule(spec: Any, path: Path, row: int) -> Schedule:
    """A candidate's schedule from its spec; a schedule table (``custom:file=``) is refused: a candidates file may
    come from someone else and must not name files to read."""
    text = str(spec).strip()
    if not text:
        raise InputError("the candidate has no schedule (a 'schedule' spec such as "
                         "cosine:peak=3e-4,warmup=2000,total=24000,final=3e-5)", file=str(path), row=row,
                         column="schedule")
    keys = {item.partition("=")[0].strip().lower() for item in text.partition(":")[2].split(",")}
    if "file" in keys:
        raise InputError("a candidate's schedule cannot name a file; give it inline (custom:steps=...,values=...)",
                         file=str(path), row=row, column="schedule")
    try:
        return parse_schedule(text)
    except InputError as exc:
        raise InputError(exc.reason, file=str(path), row=row, column="schedule") from None


def grid_candidates(sizes: Sequence[float], multiples: Sequence[float], tokens_per_param: float) -> list[Candidate]:
    """Every size × token multiple (tokens = multiple × tokens_per_param × N), costed at 6·N·D."""
    if not sizes or not multiples or any(not (v > 0 and math.isfinite(v)) for v in [*sizes, *multiples]):
        raise InputError("a candidate grid needs positive --sizes and --multiples")
    out = []
    for n in sizes:
        for m in multiples:
            d = n * m * tokens_per_param
            out.append(Candidate(f"N={n:.3g} x{m:g}C", float(n), float(d), float(training_flops(n, d)), len(out) + 1))
    return out


def length_candidates(schedule: Schedule, lengths: Sequence[float], sizes: Sequence[float],
                      batch_tokens: float = 1.0) -> list[Candidate]:
    """For a loss-curve law: at each size and each fraction of the target's steps, the target's schedule shortened
    to that length (:func:`~scalelaw.data.schedules.at_length`) and a constant-lr run at its peak and warmup (the
    cheap run that shows the loss before any decay), costed at 6·N·steps·``batch_tokens``."""
    if not lengths or not sizes or any(not (v > 0 and math.isfinite(v)) for v in [*lengths, *sizes]):
        raise InputError("a grid of lengths needs positive --lengths (fractions of the target's steps) and sizes")
    out: list[Candidate] = []
    for n in sizes:
        for fraction in lengths:
            total = int(round(fraction * schedule.total_steps))
            shortened = at_length(schedule, total)
            constant = Constant(peak=schedule.peak, warmup=schedule.warmup, total=total)
            kinds = [(schedule.name, shortened)] + ([] if shortened == constant else [("constant", constant)])
            tokens = total * batch_tokens
            length = f"{total // 1000}k" if total % 1000 == 0 else f"{total:,}"
            for kind, run in kinds:
                label = f"{kind} {length}" + (" steps" if len(sizes) == 1 else f" N={n:.3g}")
                out.append(Candidate(label, float(n), float(tokens), float(training_flops(n, tokens)), len(out) + 1,
                                     run))
    return out


def below(candidate: Candidate, target: Target) -> bool:
    """Whether a candidate can be a ladder run for the target: no larger in N or D, and strictly cheaper."""
    return (candidate.params <= target.params and candidate.tokens <= target.tokens
            and candidate.flops < target.flops)


def rank_candidates(
    fit: FitResult, target: Target, candidates: Sequence[Candidate], *, level: float = 0.95,
    noise: float | None = None, tolerance: float | None = None, min_gain: float = DEFAULT_MIN_GAIN,
    law_error: ExtrapolationError | Drift | None = None,
) -> NextRun:
    """Rank ``candidates`` for ``target`` under ``fit``'s bootstrap posterior; see the module docstring.

    The law's own error beyond the data is fitted to the fit's backtest folds, else taken from its calibration,
    else from ``law_error`` (else none): :func:`drift_of`."""
    check_request(fit, target, candidates, level)
    draws = np.asarray(fit.bootstrap_params, dtype=float)
    draws = draws[np.isfinite(draws).all(axis=1)]
    target_design = _target_design(fit, target)
    added = [_candidate_design(fit, c) for c in candidates]  # built once: a long schedule's design is costly
    with np.errstate(all="ignore"):
        at_target = np.log(fit.law.predict(draws, target_design))[:, -1]
        observed = _observations(fit, draws, candidates, added)
    keep = np.isfinite(at_target) & np.all([np.isfinite(f).all(axis=1) for f in observed], axis=0)
    if keep.sum() < MIN_DRAWS:
        raise InputError(f"only {int(keep.sum())} bootstrap draws give a finite forecast here; refit with more "
                         f"--bootstrap (at least {MIN_DRAWS} must work)")
    t = at_target[keep]
    sigma = noise if noise is not None else run_noise_of(fit)
    variance = float(np.var(t, ddof=1))
    drift = drift_of(fit, sigma, law_error)
    law_sd = (lambda d: np.zeros_like(d)) if drift is None else drift.sd
    # A new run sits off the fitted law by the runs' scatter and by the law's error inside its range (the floor).
    floor = 0.0 if drift is None else drift.floor_var
    after = np.array([posterior_variance(t, f[keep], sigma**2, floor) for f in observed])
    z = NormalDist().inv_cdf(0.5 + level / 2)
    decades_now = _distance(fit, target_design)
    law_now = float(law_sd(np.array([decades_now]))[0])
    now = z * math.sqrt(variance + sigma**2 + law_now**2)
    decades = np.array([_distance(fit, target_design, a) for a in added])
    # The refit's backtests will hold the candidate out at its own distance beyond the present runs: the law's
    # error is then measured that far, and the faster growth beyond the tested distance starts there.
    laws_after = np.array([law_sd(np.array([d]))[0] if drift is None else
                           replace(drift, tested=max(drift.tested, _distance(fit, a))).sd(np.array([d]))[0]
                           for a, d in zip(added, decades, strict=True)])
    widths = z * np.sqrt(after + sigma**2 + laws_after**2)
    ranked = sorted(
        (Ranked(c, float(w), float(d), float(1 - w / now), float((1 - w / now) / (100 * c.flops / target.flops)),
                math.sqrt(float(v)), float(s))
         for c, w, d, v, s in zip(candidates, widths, decades, after, laws_after, strict=True)),
        key=lambda r: (-r.shrink_per_percent, r.candidate.flops, r.candidate.row))
    stop, reason = verdict(now, ranked, tolerance, min_gain)
    notes = fit.law.beyond_recorded(target_design, fit.fitted_range)
    notes += [] if fit.calibration is not None else [
        "the fit has no backtest calibration: the law's own error beyond the data is left out (fit with --calibrate)"
        if drift is None else f"the fit has no backtest calibration: assumed {drift.describe()}"]
    return NextRun(target, level, now, decades_now, sigma, tuple(ranked), stop, reason, tuple(notes),
                   math.sqrt(variance), law_now, drift)


def verdict(now: float, ranked: Sequence[Ranked], tolerance: float | None, min_gain: float) -> tuple[bool, str]:
    """Whether to stop, and why: the interval ``now`` meets the tolerance, or the best of ``ranked`` (sorted) gains
    less than ``min_gain`` per 1% of the target's compute; else which run to train."""
    best = ranked[0].shrink_per_percent
    if tolerance is not None and now <= tolerance:
        return True, f"the interval (±{now:.2%}) already meets the tolerance ±{tolerance:.2%}"
    if best < min_gain:
        return True, (f"no candidate shrinks the interval by {min_gain:.2%} per 1% of the target's compute "
                      f"(best: {best:.3%})")
    return False, f"train {ranked[0].candidate.label}: expected ±{now:.2%} -> ±{ranked[0].half_width:.2%}"


def drift_of(fit: FitResult, noise: float, assumed: ExtrapolationError | Drift | None) -> Drift | None:
    """The law's error against distance (:mod:`scalelaw.plan.drift`): fitted to the fit's own backtest folds
    (with the prior loss-law slope), else read off its calibration, else ``assumed``; None when there is none."""
    if fit.calibration is not None:
        points = fold_points(fit.selection)
        return estimate(points, noise, LOSS_PRIOR) if points else from_error(fit.calibration)
    if assumed is None or isinstance(assumed, Drift):
        return assumed
    return from_error(assumed)


def _number(text: Any) -> float:
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError, OverflowError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def _design(fit: FitResult, params: Sequence[float], tokens: Sequence[float]) -> Design:
    given = {"params": np.asarray(params, dtype=float), "tokens": np.asarray(tokens, dtype=float)}
    return fit.law.design_at(**{k: given[k] for k in fit.law.inputs})


def _curves(fit: FitResult) -> bool:
    return fit.law.kind == "curve"


def _target_design(fit: FitResult, target: Target) -> Design:
    """The target's point: its final loss, or under a curve law the last step of its schedule."""
    if _curves(fit) and target.schedule is not None:
        return fit.law.design_at(schedule=target.schedule, steps=np.array([target.schedule.total_steps]),
                                 params=target.params)
    return _design(fit, [target.params], [target.tokens])


def checkpoints(schedule: Schedule) -> np.ndarray:
    """The ``CURVE_POINTS`` steps of a candidate's curve the ranking observes, end of warmup to the last step."""
    first = max(int(schedule.warmup), 1)
    return np.unique(np.round(np.linspace(first, schedule.total_steps, CURVE_POINTS)).astype(int))


def _candidate_design(fit: FitResult, candidate: Candidate) -> Design:
    if _curves(fit) and candidate.schedule is not None:
        return fit.law.design_at(schedule=candidate.schedule, steps=checkpoints(candidate.schedule),
                                 params=candidate.params)
    return _design(fit, [candidate.params], [candidate.tokens])


def _observations(fit: FitResult, draws: np.ndarray, candidates: Sequence[Candidate],
                  designs: Sequence[Design]) -> list[np.ndarray]:
    """Per candidate (its ``designs``), the log losses its run would show under each draw (draws × points)."""
    if not _curves(fit):  # one point each: one prediction for all
        both = np.log(fit.law.predict(draws, _design(fit, [c.params for c in candidates],
                                                     [c.tokens for c in candidates])))
        return [both[:, [i]] for i in range(len(candidates))]
    return [np.log(fit.law.predict(draws, design)) for design in designs]


def posterior_variance(target: np.ndarray, observed: np.ndarray, scatter: float, floor: float) -> float:
    """The target's variance over the draws after observing ``observed`` (draws × points) with noise
    R = scatter·I + floor·J: Var(t) − c_tfᵀ (C_ff + R)⁻¹ c_tf, the ensemble-Kalman update."""
    n = target.size - 1
    t = target - target.mean()
    f = observed - observed.mean(axis=0)
    points = f.shape[1]
    c_ff = f.T @ f / n + scatter * np.eye(points) + floor * np.ones((points, points))
    c_tf = f.T @ t / n
    try:
        gain = np.linalg.solve(c_ff, c_tf)
    except np.linalg.LinAlgError:
        gain = np.linalg.lstsq(c_ff, c_tf, rcond=None)[0]
    return max(float(t @ t / n - c_tf @ gain), 0.0)


def _distance(fit: FitResult, design: Design, added: Design | None = None) -> float:
    """How far (decades) ``design``'s farthest point lies beyond the fitted range, as the forecast's own interval
    measures it, once ``added``'s points (a candidate's run) are inside that range."""
    ranges = {name: (float(lo), float(hi)) for name, (lo, hi) in fit.fitted_range.items()}
    for name, values in ({} if added is None else fit.law.reach(added)).items():
        if name in ranges:
            values = np.asarray(values, dtype=float)
            ranges[name] = (min(ranges[name][0], float(values.min())), max(ranges[name][1], float(values.max())))
    farthest = 0.0
    for name, values in fit.law.reach(design).items():
        if name not in ranges:  # a hand-edited file: no range to measure against
            continue
        low, high = ranges[name]
        with np.errstate(all="ignore"):
            logs = np.log10(np.asarray(values, dtype=float))
            beyond = np.nan_to_num(np.maximum(logs - math.log10(high), math.log10(low) - logs), nan=0.0)
        farthest = max(farthest, float(np.max(beyond)))
    return farthest


def check_request(fit: Any, target: Target, candidates: Sequence[Candidate], level: float) -> None:
    """Refuse what would give a ranking that means nothing."""
    if not isinstance(fit, FitResult):
        raise InputError("plan next needs an engine fit (FIT.json from `scalelaw fit`), not a step-by-step fit")
    if not 0 < level < 1:
        raise InputError(f"--level must be between 0 and 1, got {level!r}")
    law = fit.law
    reads = set(law.inputs)
    if not candidates:
        raise InputError("no candidate runs to rank")
    if _curves(fit):
        _check_curves(fit, target, candidates)
    elif not reads <= set(AXES):
        raise InputError(f"plan next ranks runs by their final loss over params and tokens; law {law.name} also "
                         f"needs {', '.join(sorted(reads - set(AXES)))}")
    elif target.schedule is not None or any(c.schedule is not None for c in candidates):
        raise InputError(f"law {law.name} forecasts final losses from {' and '.join(law.inputs)}: it cannot see "
                         "schedules, so a ranking of schedules would mean nothing; fit a loss-curve law (e.g. "
                         "multi-power) to rank them, or leave the 'schedule' column and --schedule out")
    for axis in AXES if not _curves(fit) else ():
        values = {getattr(c, axis) for c in candidates}
        if len(values) > 1 and axis not in reads:
            raise InputError(f"the candidates differ in {axis}, which law {law.name} cannot see (it reads only "
                             f"{', '.join(law.inputs)}): its ranking would mean nothing; fit a law of "
                             f"{' and '.join(AXES)} (e.g. chinchilla)")
    if fit.bootstrap_params is None:
        raise InputError("the fit has no bootstrap draws to rank candidates by; refit with --bootstrap 50 or more")
    for c in candidates:
        if not below(c, target):
            raise InputError(f"candidate {c.label} (N={c.params:.3g}, D={c.tokens:.3g}) is not below the target "
                             f"(N={target.params:.3g}, D={target.tokens:.3g}): a ladder run must be no larger and "
                             "strictly cheaper than the run it forecasts", row=c.row)


def _check_curves(fit: FitResult, target: Target, candidates: Sequence[Candidate]) -> None:
    """A curve law ranks schedules: the target and every candidate need one, and a law of one model size cannot
    rank runs of other sizes (nor forecast a target of another size)."""
    law = fit.law
    if target.schedule is None:
        raise InputError(f"law {law.name} forecasts loss curves: give the target's learning-rate schedule with "
                         "--schedule SPEC (e.g. cosine:peak=3e-4,warmup=2000,total=72000,final=3e-5)",
                         column="--schedule")
    for c in candidates:
        if c.schedule is None:
            raise InputError(f"law {law.name} ranks runs by their loss curves: candidate {c.label} needs a "
                             "'schedule' spec", row=c.row, column="schedule")
    planned = target.schedule.total_steps + sum(c.schedule.total_steps for c in candidates if c.schedule)
    if planned > MAX_PLANNED_STEPS:
        raise InputError(f"the target's and candidates' schedules add up to {planned:,} steps; plan next evaluates "
                         f"every step of each and takes at most {MAX_PLANNED_STEPS:,} at once: rank fewer or shorter "
                         "candidates at a time", column="schedule")
    if "params" in law.inputs:
        return
    fitted = fit.fitted_range.get("params")
    sizes = {c.params for c in candidates} | {target.params}
    if len(sizes) > 1 or (fitted is not None and not fitted[0] <= target.params <= fitted[1]):
        where = "" if fitted is None else f" (fitted at N = {fitted[0]:.3g})"
        raise InputError(f"law {law.name} is a law of one model size{where}: it cannot see the candidates' or the "
                         f"target's model size (asked: {', '.join(f'{n:.3g}' for n in sorted(sizes))}); fit "
                         "multi-power-sized over several sizes, or rank runs of the fitted size only",
                         column="params")


def run_noise_of(fit: FitResult) -> float:
    """The runs' scatter around the law: the fit's residual sd, corrected for the parameters fitted."""
    residuals = np.asarray(fit.residuals, dtype=float)
    residuals = residuals[np.isfinite(residuals)]
    free = len(fit.law.param_names) - len(fit.options.get("fix", {}) or {})
    dof = max(residuals.size - free, 1)
    return max(math.sqrt(float(residuals @ residuals) / dof), MIN_NOISE)
