"""Su et al.'s step-by-step estimation of the kaplan-steps constants from small runs.

Stage 1 (critical batch): at fixed losses, the steps S(B) each batch size needs obey
S = S_min + E_min/B (Kaplan/McCandlish), so a line in 1/B gives B_crit = E_min/S_min
per (size, loss), and log B_crit = log B* − log L/α_B gives α_B, B*. Stage 2
(converged loss): L(N) of each size is extrapolated from its largest-batch curve as
L = L(N) + a·S_min^(−p), and log L(N) = α_N·log N_c − α_N·log N gives α_N, N_c (the
paper's order has this first; it comes second here so that S_min, not S, is used).
Stage 3: with B_crit known every logged point has S_min = S/(1 + B_crit(L)/B), and
L − L(N) = (S_c/S_min)^α_S gives α_S, S_c. Intervals come from refitting on model
sizes resampled with replacement, each with all its runs: resampling single runs
would lose batch sizes that stage 1 needs and bias B_crit low.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import isotonic_regression, least_squares

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws.kaplan_steps import KaplanSteps
from scalelaw.plan.extrapolation import scale_ranges

#: Losses probed per model size in stage 2, spread over the range every batch size reaches.
PROBE_LOSSES = 8


@dataclass(frozen=True)
class Curve:
    """One run's monotone (isotonic) loss curve with its size and batch size."""

    run: str
    params: float
    batch: float
    step: np.ndarray
    loss: np.ndarray
    smooth: np.ndarray

    def steps_to(self, target: float) -> float:
        """First step at which the smoothed curve reaches ``target`` (log-interpolated), NaN if never."""
        below = np.flatnonzero(self.smooth <= target)
        if below.size == 0 or below[0] == 0:
            return float("nan")
        i = below[0]
        l0, l1 = self.smooth[i - 1], self.smooth[i]
        w = 1.0 if l0 == l1 else (l0 - target) / (l0 - l1)
        return float(np.exp((1 - w) * np.log(self.step[i - 1]) + w * np.log(self.step[i])))


@dataclass(frozen=True)
class StepwiseFit:
    """The kaplan-steps constants estimated stage by stage, with bootstrap draws.

    ``converged`` has one row per model size (``params``, ``loss``); ``critical`` one row
    per (size, probed loss) with ``S_min``, ``E_min`` and ``B_crit``.
    """

    params: Mapping[str, float]
    bootstrap_params: np.ndarray | None
    converged: pd.DataFrame
    critical: pd.DataFrame
    fitted_range: Mapping[str, tuple[float, float]]
    law: KaplanSteps = field(default_factory=KaplanSteps)

    def to_dict(self) -> dict[str, object]:
        """JSON content of a step-by-step FIT.json (``method: stepwise``)."""
        return {
            "law": self.law.name,
            "method": "stepwise",
            "params": dict(self.params),
            "bootstrap": None if self.bootstrap_params is None else np.asarray(self.bootstrap_params).tolist(),
            "fitted_range": {k: list(v) for k, v in self.fitted_range.items()},
            "converged": self.converged.to_dict(orient="list"),
            "critical": self.critical.to_dict(orient="list"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str) -> StepwiseFit:
        """Rebuild from :meth:`to_dict` output; a missing or malformed field is an InputError."""
        try:
            names = KaplanSteps().param_names
            params = {name: float(data["params"][name]) for name in names}
            boot = data.get("bootstrap")
            draws = None if boot is None else np.array(boot, dtype=float).reshape(-1, len(names))
            ranges = {k: (float(v[0]), float(v[1])) for k, v in data.get("fitted_range", {}).items()}
            converged, critical = pd.DataFrame(data.get("converged", {})), pd.DataFrame(data.get("critical", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"not a valid step-by-step fit: {exc!r}", file=source) from None
        return cls(params, draws, converged, critical, ranges)


def curves_of(runs: RunSet) -> list[Curve]:
    """The runs as monotone curves; every run needs ``params``, ``batch_size`` and steps > 0."""
    design = KaplanSteps().design(runs)
    x = design.inputs
    curves = []
    for run in dict.fromkeys(design.run.tolist()):
        rows = design.run == run
        order = np.argsort(x["step"][rows], kind="stable")
        step, loss = x["step"][rows][order], design.loss[rows][order]
        smooth = isotonic_regression(loss, increasing=False).x
        curves.append(Curve(run, float(x["params"][rows][0]), float(x["batch_size"][rows][0]), step, loss, smooth))
    return curves


def fit_stepwise(runs: RunSet, *, bootstrap: int = 200, seed: int = 0) -> StepwiseFit:
    """Estimate the six constants stage by stage, and refit on ``bootstrap`` resampled data sets."""
    curves = curves_of(runs)
    params, converged, critical = _stages(curves)
    draws = None
    if bootstrap:
        rng = np.random.default_rng(seed)
        by_size: dict[float, list[Curve]] = {}
        for curve in curves:
            by_size.setdefault(curve.params, []).append(curve)
        groups = list(by_size.values())
        rows = []
        for _ in range(bootstrap):
            resampled = [c for i in rng.integers(0, len(groups), len(groups)) for c in groups[i]]
            try:
                rows.append([_stages(resampled)[0][p] for p in KaplanSteps().param_names])
            except InputError:
                rows.append([np.nan] * 6)  # e.g. a resample with one model size; dropped later
        draws = np.array(rows)
    ranges = scale_ranges(KaplanSteps().scale(KaplanSteps().design(runs)))
    return StepwiseFit(params, draws, converged, critical, ranges)


def _stages(curves: list[Curve]) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
    critical = _critical_batches(curves)
    inverse_alpha_b, b_star = _power_law(critical["loss"].to_numpy(), critical["B_crit"].to_numpy(), inverse=True)
    if inverse_alpha_b <= 0:
        raise InputError("the critical batch size does not fall as the loss rises, so B_crit = B*/L^(1/alpha_B) cannot be fitted")
    alpha_b = 1.0 / inverse_alpha_b
    converged = _converged_losses(curves, alpha_b, b_star)
    alpha_n, n_c = _power_law(converged["params"].to_numpy(), converged["loss"].to_numpy())
    alpha_s, s_c = _steps_term(curves, alpha_n, n_c, alpha_b, b_star)
    params = {"alpha_N": alpha_n, "N_c": n_c, "alpha_S": alpha_s, "S_c": s_c, "alpha_B": alpha_b, "B_star": b_star}
    return params, converged, critical


def _min_steps(curve: Curve, alpha_b: float, b_star: float) -> np.ndarray:
    """S_min = S/(1 + B_crit(L)/B) at each logged point, B_crit from the observed loss."""
    return curve.step / (1.0 + b_star / (curve.batch * np.maximum(curve.loss, 1e-12) ** (1.0 / alpha_b)))


def _converged_losses(curves: list[Curve], alpha_b: float, b_star: float) -> pd.DataFrame:
    """Stage 2: per model size, L(N) from L = L(N) + a·S_min^(−p) on its largest-batch curve.

    At the largest batch S_min is close to S; converting with the stage-1 B_crit(L)
    removes the remaining bias rather than assuming B ≫ B_crit.
    """
    rows = []
    for size in sorted({c.params for c in curves}):
        curve = max((c for c in curves if c.params == size), key=lambda c: c.batch)
        if curve.step.size < 4:
            raise InputError(f"stage 2 needs at least 4 logged points on the curve, got {curve.step.size}", run=curve.run)
        log_s = np.log(_min_steps(curve, alpha_b, b_star))
        start = np.array([np.log(curve.loss.min() * 0.9), np.log(max(curve.loss[0] - curve.loss.min(), 1e-3)), 0.5])

        def residual(u: np.ndarray) -> np.ndarray:
            return np.exp(u[0]) + np.exp(u[1] - u[2] * (log_s - log_s[0])) - curve.loss

        result = least_squares(residual, start, bounds=([-10, -20, 1e-3], [10, 10, 5]), method="trf")
        rows.append({"params": size, "loss": float(np.exp(result.x[0])), "run": curve.run})
    if len(rows) < 2:
        raise InputError("the step-by-step fit needs runs of at least two model sizes")
    return pd.DataFrame(rows)


def _critical_batches(curves: list[Curve]) -> pd.DataFrame:
    """Stage 1: for each size and probed loss, S = S_min + E_min/B across batch sizes."""
    rows = []
    for size in sorted({c.params for c in curves}):
        group = [c for c in curves if c.params == size]
        if len({c.batch for c in group}) < 3:
            continue
        highest = min(c.smooth[0] for c in group)
        lowest = max(c.smooth[-1] for c in group)
        if not highest > lowest:
            continue
        for target in np.geomspace(lowest, highest, PROBE_LOSSES + 2)[1:-1]:
            steps = np.array([c.steps_to(target) for c in group])
            inverse_batch = np.array([1.0 / c.batch for c in group])
            keep = np.isfinite(steps)
            if keep.sum() < 3:
                continue
            e_min, s_min = np.polyfit(inverse_batch[keep], steps[keep], 1)
            if s_min > 0 and e_min > 0:
                rows.append({"params": size, "loss": target, "S_min": s_min, "E_min": e_min, "B_crit": e_min / s_min})
    if len(rows) < 2:
        raise InputError(
            "stage 1 (critical batch size) needs model sizes trained at three or more batch sizes "
            "that reach common losses"
        )
    return pd.DataFrame(rows)


def _steps_term(curves: list[Curve], alpha_n: float, n_c: float, alpha_b: float, b_star: float) -> tuple[float, float]:
    """Stage 3: α_S and S_c from L − L(N) = (S_c/S_min)^α_S with S_min from B_crit(L)."""
    n = np.concatenate([np.full(c.step.size, c.params) for c in curves])
    s_min = np.concatenate([_min_steps(c, alpha_b, b_star) for c in curves])
    loss = np.concatenate([c.loss for c in curves])
    excess = loss - (n_c / n) ** alpha_n
    keep = excess > 0
    if keep.sum() < 3:
        raise InputError("stage 3 needs logged losses above the converged loss L(N)")
    slope, intercept = np.polyfit(np.log(s_min[keep]), np.log(excess[keep]), 1)
    start = np.array([max(-slope, 0.05), intercept / max(-slope, 0.05)])  # (α_S, log S_c)

    def residual(u: np.ndarray) -> np.ndarray:
        return np.exp(u[0] * (u[1] - np.log(s_min))) - excess

    result = least_squares(residual, start, bounds=([0.01, -30], [10, 60]), method="trf")
    return float(result.x[0]), float(np.exp(result.x[1]))


def _power_law(x: np.ndarray, y: np.ndarray, *, inverse: bool = False) -> tuple[float, float]:
    """Fit y = (c/x)^a by least squares in logs; returns (a, c), or with ``inverse`` y = c/x^a as (a, c)."""
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    if inverse:
        return float(-slope), float(np.exp(intercept))
    exponent = -slope
    if exponent <= 0:
        raise InputError("the converged loss does not fall with model size, so L(N) = (N_c/N)^alpha_N cannot be fitted")
    return float(exponent), float(np.exp(intercept / exponent))


def simulate_runs(
    params: Mapping[str, float],
    *,
    sizes: np.ndarray,
    batches: np.ndarray,
    steps: np.ndarray,
    noise: float,
    seed: int,
) -> RunSet:
    """Loss curves drawn from the kaplan-steps law plus Gaussian noise, one run per (size, batch)."""
    law = KaplanSteps()
    theta = np.array([[params[p] for p in law.param_names]])
    rng = np.random.default_rng(seed)
    parts = []
    for size in sizes:
        for batch in batches:
            clean = law.predict(theta, law.design_at(params=size, step=steps, batch_size=batch))[0]
            parts.append(
                pd.DataFrame(
                    {
                        "run": f"N={size:.3g}/B={batch:.0f}",
                        "step": steps,
                        "tokens": steps * batch,
                        "loss": clean + noise * rng.standard_normal(steps.size),
                        "params": float(size),
                        "batch_size": float(batch),
                    }
                )
            )
    return RunSet(pd.concat(parts, ignore_index=True))
