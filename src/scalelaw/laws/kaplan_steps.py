"""Kaplan et al.'s loss after S steps at batch size B, as Su et al. (2024) estimate it.

L(N) = (N_c/N)^α_N is the converged loss of a model of N parameters;
L(N, S_min) = L(N) + (S_c/S_min)^α_S the loss after S_min steps at the critical batch
size; and at any batch size B (tokens per step), S_min = S / (1 + B_crit(L)/B) with
B_crit(L) = B*/L^(1/α_B). Because B_crit depends on L, L(N, S, B) solves

    f(L) = L − (N_c/N)^α_N − (S_c·(1 + B*/(B·L^(1/α_B)))/S)^α_S = 0.

**One root, bracketed.** Write g(L) for the last term. As L grows, B_crit(L) shrinks,
so g decreases: f'(L) = 1 + α_S·g·r/((1+r)·α_B·L) > 0 with r = B_crit(L)/B ≥ 0, so f
is strictly increasing on L > 0 and has at most one root. Since r ≥ 0, g(L) ≥ (S_c/S)^α_S,
hence lo = L(N) + (S_c/S)^α_S has f(lo) ≤ 0; and hi = L(N) + g(lo) has f(hi) ≥ 0,
because hi ≥ lo gives g(hi) ≤ g(lo). So exactly one root lies in [lo, hi]; it is
found by Newton steps safeguarded by bisection, vectorised over points and parameter
batches. The gradient follows from the implicit function theorem: dL/dθ = −∂f/∂θ / f'(L).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scalelaw._lazy import lazy
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws import register
from scalelaw.laws.base import Design, Law, Param

if TYPE_CHECKING:
    import pandas as pd
    from scipy import special
else:  # imported on first use: `plan compute` and `predict` import this module without fitting it
    pd, special = lazy("pandas"), lazy("scipy.special")

#: Kaplan et al. (2020) constants (non-embedding N, batch in tokens, loss in nats).
KAPLAN_2020: dict[str, float] = {
    "alpha_N": 0.076,
    "N_c": 8.8e13,
    "alpha_S": 0.76,
    "S_c": 2.1e3,
    "alpha_B": 0.21,
    "B_star": 2e8,
}

_MAX_ITERATIONS = 100
#: Absolute tolerance on log(L − L(N)), i.e. a relative one on the steps term.
_TOLERANCE = 1e-12


def unpack(theta: np.ndarray) -> tuple[np.ndarray, ...]:
    """The six parameters of a (B, 6) batch as (B, 1) columns, in the law's order."""
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    return tuple(theta[:, i : i + 1] for i in range(6))


def converged_loss(theta: np.ndarray, params: np.ndarray) -> np.ndarray:
    """L(N) = (N_c/N)^α_N for each parameter vector: (B, 6), (n,) -> (B, n)."""
    alpha_n, n_c, *_ = unpack(theta)
    return (n_c / np.asarray(params, dtype=float)[None, :]) ** alpha_n


def critical_batch(theta: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """B_crit(L) = B*/L^(1/α_B) in tokens: (B, 6), (n,) or (B, n) -> (B, n)."""
    *_, alpha_b, b_star = unpack(theta)
    return b_star / np.asarray(loss, dtype=float) ** (1.0 / alpha_b)


def min_steps(theta: np.ndarray, params: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """S_min to reach ``loss``: S_c/(L − L(N))^(1/α_S); infinite when L ≤ L(N)."""
    _, _, alpha_s, s_c, _, _ = unpack(theta)
    excess = np.asarray(loss, dtype=float) - converged_loss(theta, params)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(excess > 0, s_c / np.where(excess > 0, excess, 1.0) ** (1.0 / alpha_s), np.inf)


def min_tokens(theta: np.ndarray, params: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """E_min = B_crit(L)·S_min: the fewest tokens to reach ``loss`` (batch far below B_crit)."""
    return critical_batch(theta, loss) * min_steps(theta, params, loss)


def solve_loss(theta: np.ndarray, params: np.ndarray, steps: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """L(N, S, B): the unique root of the implicit equation (see the module docstring)."""
    return np.exp(_solve_log_loss(theta, params, steps, batch)[0])


def _solve_log_loss(
    theta: np.ndarray, params: np.ndarray, steps: np.ndarray, batch: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log L, log g, log r) at the root, g = L − L(N) the steps term and r = B_crit(L)/B.

    Newton runs on v = log g, where the equation reads h(v) = v − α_S·log(S_c/S)
    − α_S·log(1 + r) = 0 with h'(v) between 1 and 1 + α_S/α_B, so steps are well scaled;
    the bracket [lo, hi] of the module docstring, in logs, keeps every step safe.
    An infinite step count gives the converged loss (g = 0).
    """
    alpha_n, n_c, alpha_s, s_c, alpha_b, b_star = unpack(theta)
    n, s, b = (np.asarray(x, dtype=float)[None, :] for x in (params, steps, batch))
    log_floor = alpha_n * (np.log(n_c) - np.log(n))
    finite = np.isfinite(s)
    log_k = np.log(s_c) - np.log(np.where(finite, s, 1.0))
    log_ratio = np.log(b_star) - np.log(b)
    shape = np.broadcast_shapes(log_floor.shape, log_k.shape, log_ratio.shape, alpha_s.shape)
    flat = [np.broadcast_to(a, shape).ravel() for a in (log_floor, log_k, log_ratio, alpha_s, alpha_b)]
    v = _newton_bisect(*flat).reshape(shape)
    v = np.where(finite, v, -np.inf)
    log_total = np.logaddexp(log_floor, v)
    return log_total, v, log_ratio - log_total / alpha_b


def _newton_bisect(
    log_floor: np.ndarray, log_k: np.ndarray, log_ratio: np.ndarray, alpha_s: np.ndarray, alpha_b: np.ndarray
) -> np.ndarray:
    """Root v of h(v) = v − α_S·log k − α_S·log(1 + r(v)) for flat arrays, updating only unconverged points."""
    lo = alpha_s * log_k
    hi = alpha_s * (log_k + np.logaddexp(0.0, log_ratio - log_floor / alpha_b))
    v, last_step = 0.5 * (lo + hi), hi - lo  # the midpoint start halves the typical iteration count
    active = np.flatnonzero(hi > lo)
    for _ in range(_MAX_ITERATIONS):
        if active.size == 0:
            break
        va, a_s, a_b = v[active], alpha_s[active], alpha_b[active]
        log_total = np.logaddexp(log_floor[active], va)
        log_r = log_ratio[active] - log_total / a_b
        value = va - a_s * (log_k[active] + np.logaddexp(0.0, log_r))
        slope = 1.0 + a_s / a_b * special.expit(log_r) * np.exp(va - log_total)
        lo[active] = np.where(value <= 0, va, lo[active])
        hi[active] = np.where(value >= 0, va, hi[active])
        newton = va - value / slope
        # Bisect when Newton leaves the bracket or does not halve the step (rtsafe's rule).
        bisect = (newton < lo[active]) | (newton > hi[active]) | (np.abs(2.0 * value) > np.abs(last_step[active] * slope))
        updated = np.where(bisect, 0.5 * (lo[active] + hi[active]), newton)
        last_step[active] = updated - va
        v[active] = updated
        active = active[np.abs(last_step[active]) > _TOLERANCE]
    return v


@register
class KaplanSteps(Law):
    """Loss of a model of N parameters after S steps at batch size B (Kaplan 2020; Su et al. 2024).

    Inputs per point: ``params`` (N), ``step`` (S) and ``batch_size`` (B, in tokens per
    step, the unit of B*). Rows at step 0 carry no information on this law and are skipped.
    """

    name = "kaplan-steps"
    formula = "L = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S, S_min = S/(1 + B*/(B L^(1/alpha_B)))"
    citation = "Kaplan et al. 2020; Su et al. 2024, Unraveling the Mystery of Scaling Laws: Part I"
    kind = "curve"
    inputs = ("params", "step", "batch_size")

    @property
    def params(self) -> tuple[Param, ...]:
        """α_N, N_c, α_S, S_c, α_B, B*; the scales are fitted in log space."""
        return (
            Param("alpha_N", "model-size exponent of the converged loss", 0.005, 2.0, (0.05, 0.1)),
            Param("N_c", "model-size scale of the converged loss", 1.0, 1e30, (1e10, 1e14), log=True),
            Param("alpha_S", "exponent of the steps term", 0.05, 5.0, (0.5, 1.0)),
            Param("S_c", "steps scale", 1e-6, 1e15, (1e2, 1e4), log=True),
            Param("alpha_B", "exponent of the critical batch size in the loss", 0.02, 5.0, (0.15, 0.3)),
            Param("B_star", "critical batch size (tokens) at loss 1", 1e-3, 1e20, (1e6, 1e9), log=True),
        )

    def design(self, runs: RunSet) -> Design:
        """Every logged point after step 0, with its run's ``params`` and ``batch_size``."""
        runs.require(self.inputs, purpose="the kaplan-steps law")
        table = runs.table[runs.table["loss"].notna()]
        columns = {c: pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float) for c in (*self.inputs, "loss")}
        for column, values in columns.items():
            bad = ~np.isfinite(values) | (values < 0) | ((values == 0) & (column != "step"))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                run = str(table["run"].iloc[i])
                row = int(table["_row"].iloc[i]) if "_row" in table.columns else None  # the reader's file row
                raise InputError(
                    f"the kaplan-steps law needs a positive finite {column!r}, got {str(table[column].iloc[i])!r}",
                    file=runs.source(run),
                    run=run,
                    row=row,
                    column=column,
                )
        keep = columns["step"] > 0
        if not keep.any():
            raise InputError("the kaplan-steps law needs logged losses after step 0")
        return Design(
            inputs={c: columns[c][keep] for c in self.inputs},
            loss=columns["loss"][keep],
            run=table["run"].astype(str).to_numpy()[keep],
        )

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        """L(N, S, B) from the implicit equation, for every parameter vector and point."""
        x = design.inputs
        return solve_loss(theta, x["params"], x["step"], x["batch_size"])

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """Loss and its gradient by the implicit function theorem: dL/dθ = −(∂f/∂θ)/(∂f/∂L)."""
        alpha_n, n_c, alpha_s, s_c, alpha_b, b_star = unpack(theta)
        x = design.inputs
        n, s, b = (np.asarray(x[c], dtype=float)[None, :] for c in self.inputs)
        log_loss, log_g, log_r = _solve_log_loss(theta, n[0], s[0], b[0])
        loss, g = np.exp(log_loss), np.exp(log_g)
        floor = (n_c / n) ** alpha_n
        share = alpha_s * g * special.expit(log_r)  # −∂f/∂log B*, zero at S = ∞
        d_f = np.stack(  # ∂f/∂θ for f(L) = L − L(N) − g(L)
            [
                -floor * np.log(n_c / n),
                -alpha_n * floor / n_c,
                -g * np.where(g > 0, log_g, 0.0) / alpha_s,
                -alpha_s * g / s_c,
                -share * log_loss / alpha_b**2,
                -share / b_star,
            ],
            axis=-1,
        )
        d_loss = 1.0 + share / (alpha_b * loss)
        return loss, -d_f / d_loss[..., None]

    def derived(self, values: dict[str, float]) -> dict[str, float]:
        """B_crit at loss 3 nats, a common reference point when comparing setups."""
        theta = np.array([[values[p] for p in self.param_names]])
        return {"B_crit_at_loss_3": float(critical_batch(theta, np.array([3.0]))[0, 0])}

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        """Model size, steps and tokens seen, for the extrapolation checks."""
        x = design.inputs
        return {"params": x["params"], "steps": x["step"], "tokens": x["step"] * x["batch_size"]}
