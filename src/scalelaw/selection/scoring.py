"""Scoring candidates at the target's distance: which folds decide, and the one-standard-error rule.

The folds that decide are those of the backtest's first axis whose distance beyond the
fitted runs is nearest the target's (the farthest the data reach without a target), joined
by the next nearest when they hold out too few runs for a standard error to mean much; each
candidate's error there is the mean over those folds of its held-out runs' final-loss
error, and the simplest candidate within one standard error of the lowest is chosen (the standard error
of the two candidates' difference over the same held-out runs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.selection import folds
from scalelaw.selection.rolling import Backtest

if TYPE_CHECKING:
    from scalelaw.selection.candidates import Candidate

#: Folds within this many decades of the distance nearest the target's decide the law (with that one).
DISTANCE_TOL = 0.1
#: The deciding folds hold out at least this many distinct runs when the data allow: a standard error from n
#: runs is itself uncertain by about 1/sqrt(2(n - 1)), half of itself from the 3 runs of one level, so one level's
#: odd run would decide the one-standard-error rule.
MIN_DECIDING_RUNS = 5


def deciding_folds(plan: list[folds.Fold], scored: set[str], target: float | None) -> tuple[list[str], float]:
    """The folds that choose the law, and the distance they were matched to (decades along the plan's axis).

    Among the folds beyond the data every candidate was scored on, those on the plan's first
    axis whose distance lies within ``DISTANCE_TOL`` of the one nearest the target's (the
    farthest when no target is named); all scored folds when none of the first axis is. When
    these hold out fewer than ``MIN_DECIDING_RUNS`` distinct runs, the next nearest folds that
    hold out other runs join them until they do (or none is left).
    """
    beyond = [f for f in plan if not f.inside and f.name in scored]
    primary = [f for f in beyond if f.axis == plan[0].axis] or beyond
    if not primary:
        return [], math.nan
    wanted = max(f.distance for f in primary) if target is None else target
    nearest = min(abs(f.distance - wanted) for f in primary)
    chosen = {f.name for f in primary if abs(f.distance - wanted) <= nearest + DISTANCE_TOL}
    held = {run for f in primary if f.name in chosen for run in f.test.runs}
    for fold in sorted(primary, key=lambda f: abs(f.distance - wanted)):
        if len(held) >= MIN_DECIDING_RUNS:
            break
        if fold.name not in chosen and not set(fold.test.runs) <= held:
            chosen.add(fold.name)
            held.update(fold.test.runs)
    return [f.name for f in primary if f.name in chosen], wanted


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
    """(chosen, lowest): the simplest candidate whose deciding error exceeds the lowest by at most one standard
    error of that difference (:func:`paired_se`)."""
    scores = {c.label: decided(c.test, deciding) for c in tested}  # type: ignore[arg-type]
    lowest = min(tested, key=lambda c: (scores[c.label][0], c.free()))
    low = scores[lowest.label][0]
    within = [c for c in tested if c is lowest
              or scores[c.label][0] - low <= paired_se(c.test, lowest.test, deciding) + 1e-12]  # type: ignore[arg-type]
    return min(within, key=lambda c: (c.free(), scores[c.label][0])), lowest


def paired_se(test: Backtest, best: Backtest, deciding: list[str]) -> float:
    """Standard error of the difference of two candidates' |final error| over the held-out runs both predicted
    on the deciding folds: the backtest noise of their comparison.

    The same runs are scored for both, and a run that is hard for one law is mostly hard for the other: the
    spread of the runs' errors themselves (the standard error of one candidate's mean) would let a law worse
    on every run pass as "within the noise" (on the bundled datablations runs, a 3-parameter power law in
    compute with 14% error beyond the data against 6%). The per-run differences carry only what separates them.
    """
    mine, theirs = _final_errors(test, deciding), _final_errors(best, deciding)
    both = [key for key in mine if key in theirs]
    if len(both) < 2:
        return decided(best, deciding)[1]
    diff = np.array([abs(mine[key]) - abs(theirs[key]) for key in both])
    return float(np.std(diff, ddof=1) / math.sqrt(diff.size))


def _final_errors(test: Backtest, deciding: list[str]) -> dict[tuple[str, str], float]:
    """Each deciding fold's held-out runs' final-loss errors, by (fold, run)."""
    wanted = set(deciding)
    return {(f["fold"], str(run)): float(error) for f in test.folds if f["fold"] in wanted
            for run, error in zip(f["held_out_runs"], f["final_errors"], strict=False)}


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
    converted = ""
    if value is None and column == "step" and "tokens" in values:
        per_step, why = tokens_per_step(runs)
        if per_step is None:
            return None, f"the target names tokens, not steps, and {why}: laws scored at the farthest distance"
        value, converted = values["tokens"] / per_step, f" ({per_step:,.0f} tokens per step, as every run has)"
    if value is None or not value > 0:
        return None, f"the target names no {column}, the backtest axis: laws scored at the farthest distance"
    reference = float(folds.per_run(runs, "steps" if column == "step" else axis).max())
    decades = max(float(np.log10(value / reference)), 0.0)
    return decades, f"target {decades:.2f} decades beyond the largest run in {column}{converted}"


def tokens_per_step(runs: RunSet) -> tuple[float | None, str]:
    """The runs' common tokens per optimizer step (last logged tokens / step), or None and why not.

    A target in tokens is a number of steps only when every run took the same tokens per step
    (within 1%); with different batch sizes the steps of a target in tokens are not known.
    """
    table = runs.table
    if not {"tokens", "step"} <= set(table.columns):
        return None, "the runs do not log both tokens and steps"
    last = table.dropna(subset=["tokens", "step"]).groupby("run", sort=False)[["tokens", "step"]].last()
    ratio = (last["tokens"] / last["step"]).to_numpy(dtype=float)
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    if ratio.size == 0:
        return None, "the runs do not log both tokens and steps"
    if ratio.max() > 1.01 * ratio.min():
        return None, f"the runs take {ratio.min():,.0f} to {ratio.max():,.0f} tokens per step"
    return float(np.median(ratio)), ""


def check_target(target: Mapping[str, float] | None) -> None:
    """Refuse a target naming an unknown input or a value that is not a finite positive number."""
    for name, value in (target or {}).items():
        if name not in TARGET_INPUTS:
            raise InputError(f"--target names {name!r}; it may name {', '.join(TARGET_INPUTS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
            raise InputError(f"--target {name}={value!r}: must be a finite number above 0")


