"""The candidate laws of ``--law auto``: which apply to the data, each fitted once on all of it, and which may be chosen.

A candidate may not be chosen when its fit on all the data failed or did not converge, or
when it is blind to an axis the runs vary on (model size, run length, a learning-rate
decay still ahead) while a law that reads that axis converged (:func:`rank_candidates`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalelaw import laws
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError, ScalelawWarning, UntrustedFitError
from scalelaw.fit.engine import fit_law
from scalelaw.fit.result import FitResult
from scalelaw.laws._curves import curves_from_runs
from scalelaw.laws._held import decay_seen
from scalelaw.laws.base import Law
from scalelaw.selection import folds
from scalelaw.selection.rolling import Backtest
from scalelaw.selection.scoring import decided

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


def rank_candidates(runs: RunSet, usable: list[tuple[str, Law]], fit_options: dict[str, Any],
                    axes: Mapping[str, str] | None = None) -> list[Candidate]:
    """Fit every candidate once on all the data, ordered by in-sample error of the final losses (dropped ones last).

    A candidate whose fit fails or does not converge is dropped, with the reason. Laws that
    read every axis in ``axes`` (see :func:`varying_axes`) are fitted first; a law blind to
    an axis that a converged law reads is then dropped without being fitted (it could not be
    chosen), which spares the slowest fits on a ladder.
    """
    axes = axes or {}
    order = sorted(usable, key=lambda item: sum(not _reads(item[1], a) for a in axes))
    ranked: list[Candidate] = []
    for label, law in order:
        candidate = Candidate(label, law)
        ranked.append(candidate)
        if _blind_reason(candidate, ranked, axes):
            continue
        try:
            with _silenced():
                fit = fit_law(runs, law, bootstrap=0, strict=False, progress=False, **fit_options)
                candidate.in_sample = _final_error(fit, law.design(runs))
        except (InputError, UntrustedFitError, ValueError, FloatingPointError) as exc:
            candidate.dropped = f"could not be fitted to all the data: {_short(str(exc))}"
            continue
        candidate.fit = fit
        if not fit.diagnostics.converged:
            candidate.dropped = "did not converge on all the data"
        elif not math.isfinite(candidate.in_sample):
            candidate.dropped = "gives no finite prediction of the runs' final losses"
    for candidate in ranked:
        candidate.dropped = candidate.dropped or _blind_reason(candidate, ranked, axes)
    return sorted(ranked, key=lambda c: (c.dropped is not None, c.in_sample if math.isfinite(c.in_sample) else math.inf))


def _blind_reason(candidate: Candidate, ranked: list[Candidate], axes: Mapping[str, str]) -> str | None:
    """Why ``candidate`` is blind to an axis that a converged candidate reads (None if it is not)."""
    for axis, why in axes.items():
        if _reads(candidate.law, axis):
            continue
        reader = next((c for c in ranked if c.fit is not None and c.dropped is None and _reads(c.law, axis)), None)
        if reader is not None:
            return f"blind to {axis}, which {why}, while {reader.label} reads it and converged"
    return None


def _final_error(fit: FitResult, design: Any) -> float:
    """Mean |predicted/observed - 1| of each run's last point (by step; the last row for final-loss designs)."""
    predicted = fit.law.predict(fit.theta[None, :], design)[0]
    step = np.asarray(design.inputs.get("step", np.arange(design.n)), dtype=float)
    run = np.asarray(design.run).astype(str)
    last = [int(idx[np.argmax(step[idx])]) for idx in (np.flatnonzero(run == r) for r in dict.fromkeys(run.tolist()))]
    with np.errstate(all="ignore"):
        rel = np.abs(predicted[last] / design.loss[last] - 1.0)
    return float(np.mean(rel)) if np.all(np.isfinite(rel)) else math.nan


def varying_axes(runs: RunSet, lr_decays_ahead: bool) -> dict[str, str]:
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


@contextmanager
def _silenced() -> Iterator[None]:
    """scalelaw's own warnings suppressed: probing the data is not fitting it (the fit warns for real)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalelawWarning)
        yield


def _short(text: str) -> str:
    """``text`` cut to 200 characters."""
    return text if len(text) <= 200 else text[:197] + "..."


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
