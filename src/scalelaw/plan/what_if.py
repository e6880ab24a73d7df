"""Rank candidate runs by asking the real pipeline what the target's interval would be after each (preposterior).

For each candidate c the run set gets one more run, c, whose final loss is the current fit's forecast for it
(with ``draws`` > 1, the forecast moved to ``draws`` stratified quantiles of its predictive interval, the
half-widths averaged); it is refitted with the pipeline that will be used once c is trained (the fit's law and
options, ``fit_calibrated`` with the same backtest axis when the fit has a calibration, else the plain fit, the
same seed), and the target's interval is read off the refit. The interval now is that of the same pipeline on the
present runs, so the shrink compares like with like, including how the backtest folds change when c is added.
Candidates are ranked by relative shrink per 1% of the target's compute and the stop rule is `plan next`'s.

Cost: 1 + ``draws`` × min(len(candidates), ``cap``) refits, each backtests plus ``bootstrap`` replicates (the
fit's own count unless given). Beyond ``cap`` candidates the ensemble ranking (:func:`rank_candidates`) picks
which are refitted, and the answer says so. Deterministic: every refit uses the fit's seed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError, UntrustedFitError
from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.fit.result import FitResult
from scalelaw.plan.drift import Drift
from scalelaw.plan.ladder_design import Target
from scalelaw.plan.next_run import (DEFAULT_MIN_GAIN, Candidate, NextRun, Ranked, check_request, rank_candidates,
                                    run_noise_of, verdict)

#: Most candidates refitted in one ranking (each costs ``draws`` refits); the rest are screened by the ensemble.
MAX_REFITS = 12
#: Most what-if observations per candidate.
MAX_DRAWS = 9
#: Columns a what-if run sets itself; others are copied when every present run shares one value.
OWN_COLUMNS = ("run", "params", "tokens", "loss", "flops", "step")
_FAILURES = (InputError, UntrustedFitError, ValueError, FloatingPointError, np.linalg.LinAlgError)


def rank_by_refit(
    fit: FitResult, runs: RunSet, target: Target, candidates: Sequence[Candidate], *, level: float = 0.95,
    tolerance: float | None = None, min_gain: float = DEFAULT_MIN_GAIN, bootstrap: int | None = None,
    draws: int = 1, cap: int = MAX_REFITS, law_error: ExtrapolationError | Drift | None = None,
) -> NextRun:
    """Rank ``candidates`` for ``target`` by refitting ``runs`` (the data ``fit`` was fitted to) with each added;
    see the module docstring. ``law_error`` only serves the screening beyond ``cap`` candidates."""
    check_request(fit, target, candidates, level)
    if fit.law.kind == "curve":
        raise InputError(f"--method refit refits final-loss laws; rank the schedules of loss-curve law {fit.law.name} "
                         "with --method ensemble", column="--method")
    if not isinstance(runs, RunSet) or runs.data_hash() != fit.data_hash:
        raise InputError("--method refit needs the runs the FIT.json was fitted to (their data hash differs): give "
                         "the same data, --map and --where as to `scalelaw fit`")
    if not 1 <= draws <= MAX_DRAWS:
        raise InputError(f"--refit-draws must be from 1 to {MAX_DRAWS}, got {draws!r}", column="--refit-draws")
    if not cap >= 1:
        raise InputError(f"--refit-cap must be at least 1, got {cap!r}", column="--refit-cap")
    replicates = int(fit.options.get("bootstrap") or 0) if bootstrap is None else bootstrap
    if replicates < 2:
        raise InputError("--method refit reads the refit's interval, which needs a bootstrap: give --refit-bootstrap "
                         "(e.g. 40) or refit FIT.json with --bootstrap", column="--refit-bootstrap")
    notes = [f"method refit: each candidate refitted {draws}x ({'calibrated ' if fit.calibration else ''}"
             f"{fit.law.name}, bootstrap {replicates}, seed {int(fit.options.get('seed', 0))})"]
    present = runs.final()
    pipeline = _Pipeline(fit, runs, replicates, target, level)
    base = pipeline.refit(present)
    if base is None:
        raise InputError("the pipeline cannot refit the present runs, so no candidate can be compared with them")
    chosen = list(candidates)
    if len(chosen) > cap:
        screened = rank_candidates(fit, target, chosen, level=level, law_error=law_error).ranked[:cap]
        chosen = [r.candidate for r in screened]
        notes.append(f"only the {cap} best of {len(candidates)} candidates by the ensemble ranking were refitted")
    quantiles = [NormalDist().inv_cdf((k + 0.5) / draws) for k in range(draws)]
    z = NormalDist().inv_cdf(0.5 + level / 2)
    ranked = []
    for c in chosen:
        try:
            prediction = _silent(lambda c=c: fit.predict(params=c.params, tokens=c.tokens, level=level))
        except _FAILURES:
            prediction = None
        point, lo, hi = (math.nan,) * 3 if prediction is None else (
            float(v[0]) for v in (prediction.loss, prediction.lo, prediction.hi))
        spread = math.log(hi / lo) / (2 * z) if lo > 0 and hi > lo else 0.0
        after = [pipeline.refit(with_run(present, c, point * math.exp(q * spread))) if point > 0 else None
                 for q in quantiles]
        if any(a is None for a in after):
            notes.append(f"the forecast or the refit with {c.label} failed; it is left out of the ranking")
            continue
        width, decades, boot_sd, law_sd = np.mean(np.array(after, dtype=float), axis=0)
        shrink = 1 - width / base.half_width
        ranked.append(Ranked(c, float(width), float(decades), float(shrink),
                             float(shrink / (100 * c.flops / target.flops)), float(boot_sd), float(law_sd)))
    if not ranked:
        raise InputError("the refit failed with every candidate added; rank with --method ensemble")
    ranked.sort(key=lambda r: (-r.shrink_per_percent, r.candidate.flops, r.candidate.row))
    stop, reason = verdict(base.half_width, ranked, tolerance, min_gain)
    return NextRun(target, level, base.half_width, base.decades, run_noise_of(fit), tuple(ranked), stop, reason,
                   tuple(notes), base.boot_sd, base.law_sd)


def with_run(present: pd.DataFrame, candidate: Candidate, loss: float) -> RunSet:
    """The final losses ``present`` plus the candidate run observed at ``loss``; columns every present run shares
    one value of (dataset, tokenizer, ...) are copied to it."""
    row: dict[str, Any] = {"run": _unused_name(present, candidate), "params": candidate.params,
                           "tokens": candidate.tokens, "loss": loss}
    if "flops" in present.columns:
        row["flops"] = candidate.flops
    for column in present.columns:
        values = present[column].dropna().unique()
        if column not in OWN_COLUMNS and len(values) == 1:
            row[column] = values[0]
    return RunSet(pd.concat([present, pd.DataFrame([row])], ignore_index=True))


def _unused_name(present: pd.DataFrame, candidate: Candidate) -> str:
    taken = set(present["run"].astype(str))
    name = f"what-if {candidate.label}"
    while name in taken:
        name += "'"
    return name


class Refitted(NamedTuple):
    """The target's interval after a refit: relative half-width, distance beyond the runs in decades, the
    bootstrap sd of the log forecast and the calibrated law error at that distance (0 without calibration)."""

    half_width: float
    decades: float
    boot_sd: float
    law_sd: float


class _Pipeline:
    """The fit's own pipeline (law, options, backtest axis, seed) with ``bootstrap`` replicates, read at ``target``."""

    def __init__(self, fit: FitResult, runs: RunSet, bootstrap: int, target: Target, level: float) -> None:
        from scalelaw.selection import folds

        self.fit, self.target, self.level = fit, target, level
        o = fit.options
        self.options = {"objective": o.get("objective"), "delta": o.get("delta", 1e-3),
                        "asymmetry": o.get("asymmetry", 2.0), "reduction": o.get("reduction", "sum"),
                        "fix": dict(o.get("fix") or {}), "ci_level": o.get("ci_level", 0.95),
                        "bootstrap": bootstrap, "seed": int(o.get("seed", 0)), "strict": False, "progress": False}
        # The backtest axis as the fit chose it: the default plan (which adds length and single-run folds) unless
        # the recorded folds are not the default's, i.e. the fit was given --backtest-by.
        recorded = (fit.selection or {}).get("folds")
        default = [f.name for f in folds.plan(runs, None)[1]] if recorded is not None else None
        self.axis = None if recorded == default else (fit.selection or {}).get("axis")

    def refit(self, table: pd.DataFrame | RunSet) -> Refitted | None:
        """The target's interval after refitting ``table`` (None if the refit fails)."""
        from scalelaw.fit.engine import fit_law
        from scalelaw.selection.auto import fit_calibrated

        runs = table if isinstance(table, RunSet) else RunSet(table)
        try:
            if self.fit.calibration is not None:
                fit = _silent(lambda: fit_calibrated(runs, self.fit.law, required=False, by=self.axis,
                                                     **self.options))
            else:
                fit = _silent(lambda: fit_law(runs, self.fit.law, **self.options))
            p = _silent(lambda: fit.predict(params=self.target.params, tokens=self.target.tokens, level=self.level))
        except _FAILURES:
            return None
        loss, lo, hi = float(p.loss[0]), float(p.lo[0]), float(p.hi[0])
        if not (loss > 0 and math.isfinite(hi - lo)):
            return None
        design = fit.law.design_at(params=self.target.params, tokens=self.target.tokens)
        decades = float(fit.decades_beyond(design)[0])
        with np.errstate(all="ignore"):
            boot = np.log(fit.law.predict(fit.bootstrap_params, design)[:, 0])
        boot = boot[np.isfinite(boot)]
        law_sd = float(fit.calibration.sd(np.array([decades]))[0]) if fit.calibration is not None else 0.0
        return Refitted((hi - lo) / 2 / loss, decades, float(np.std(boot, ddof=1)) if boot.size > 1 else 0.0, law_sd)


def _silent(call: Any) -> Any:
    """``call()`` with the refits' warnings (extrapolation, convergence) kept out of the answer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()
