"""``fit_law``: the one entry point that fits any law to runs and assembles a FitResult.

Steps: build the law's design, search all starts (multi-start), bootstrap over runs if
asked, compute intervals for parameters and derived quantities, run the diagnostics,
and refuse (``strict``) or warn about anything suspicious.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from scalelaw import laws
from scalelaw.errors import FitWarning, InputError, UntrustedFitError, warn
from scalelaw.fit import diagnostics as checks
from scalelaw.fit.bootstrap import bootstrap as run_bootstrap
from scalelaw.fit.multistart import SearchResult, search, search_from
from scalelaw.fit.objective import Objective, ObjectiveName
from scalelaw.fit.optimize import objective_value, one_blas_thread
from scalelaw.fit.problem import Problem, check_fixed
from scalelaw.fit.result import FitResult
from scalelaw.laws.base import Law

if TYPE_CHECKING:  # the engine works on arrays: pandas is imported by whoever reads a table
    import pandas as pd

    from scalelaw.data.runs import RunSet

Reduction = Literal["sum", "mean"]


def fit_law(
    runs: RunSet | pd.DataFrame,
    law: str | Law = "chinchilla",
    *,
    objective: ObjectiveName | None = None,
    delta: float = 1e-3,
    asymmetry: float = 2.0,
    reduction: Reduction = "sum",
    fix: Mapping[str, float] | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    strict: bool = False,
    progress: bool | None = None,
    ci_level: float = 0.95,
    extrapolation_warning_decades: float = 2.0,
    law_options: Mapping[str, Any] | None = None,
    start: Mapping[str, float] | None = None,
) -> FitResult:
    """Fit ``law`` (a name or a Law) to ``runs`` and return a :class:`FitResult`.

    The objective (by default the law's own, Huber for most) is applied to log-loss
    residuals (plain residuals for laws of bounded metrics); ``reduction`` only changes the
    reported objective value, never the optimum or the stopping rule. ``bootstrap``
    replicates resample runs; ``ci_level`` sets every interval's coverage. ``start`` (the
    parameters of another fit, e.g. of the same law on all the data) warm-starts the search:
    one Levenberg–Marquardt descent from it instead of the law's grid, for refits on a subset
    (a backtest fold) whose optimum lies near a known one.
    """
    if type(runs).__name__ == "DataFrame":
        from scalelaw.data.pipeline import read_runs

        runs = read_runs(runs)
    if reduction not in ("sum", "mean"):
        raise InputError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    if not 0 < ci_level < 1:
        raise InputError(f"ci_level must be between 0 and 1, got {ci_level!r}")
    if bootstrap < 0:
        raise InputError(f"bootstrap must be 0 or a positive number of replicates, got {bootstrap!r}")
    law = laws.get(law, **dict(law_options or {})) if isinstance(law, str) else law
    if len(runs) == 0:
        raise InputError(f"no runs to fit law {law.name} to (did a --where filter remove them all?)")
    objective = objective or law.objective  # type: ignore[assignment]
    design = law.design(runs)
    problem = Problem(law, design, Objective(objective, delta, asymmetry), check_fixed(law, fix))
    n_free = problem.free.size
    if n_free and design.n <= n_free:
        raise InputError(
            f"law {law.name} has {n_free} free parameters but the data gives only {design.n} points; "
            "add runs or fix parameters with --fix"
        )
    weights = np.ones(design.n)
    with one_blas_thread():
        found, boot, converged_fraction = _search_and_bootstrap(problem, weights, start, bootstrap, seed, progress)
    theta = problem.theta(found.u)[0]
    params = dict(zip(law.param_names, map(float, theta)))
    ci, derived_ci = _intervals(law, boot, ci_level)

    residuals = problem.residuals(found.u)[0]
    if design.anchor is not None:  # anchors are constraints: not residual noise, not data
        residuals = residuals[~design.anchor]
    scales = {k: (v if design.anchor is None else v[~design.anchor]) for k, v in law.scale(design).items()}
    reach = {k: (v if design.anchor is None else v[~design.anchor]) for k, v in law.reach(design).items()}
    fitted_range = {k: (float(np.min(v)), float(np.max(v))) for k, v in reach.items()}
    total = 1.0 if reduction == "mean" else float(weights.sum())
    diag = _diagnose(problem, found, residuals, scales, converged_fraction, total)
    options = {
        "objective": objective,
        "delta": delta,
        "asymmetry": asymmetry,
        "reduction": reduction,
        "fix": dict(problem.fixed),
        "bootstrap": bootstrap,
        "seed": seed,
        "strict": strict,
        "ci_level": ci_level,
        "extrapolation_warning_decades": extrapolation_warning_decades,
        "loss_source": runs.loss_sources(),
    }
    if diag.warnings:
        if strict:
            raise UntrustedFitError(f"law {law.name}: " + "; ".join(diag.warnings))
        for message in diag.warnings:
            warn(f"law {law.name}: {message}", FitWarning)
    return FitResult(
        law=law,
        params=params,
        ci=ci,
        derived=law.derived(params),
        derived_ci=derived_ci,
        diagnostics=diag,
        options=options,
        data_hash=runs.data_hash(),
        bootstrap_params=boot,
        fitted_range=fitted_range,
        residuals=residuals,
    )


def _search_and_bootstrap(
    problem: Problem, weights: np.ndarray, start: Mapping[str, float] | None, bootstrap: int, seed: int,
    progress: bool | None,
) -> tuple[SearchResult, np.ndarray | None, float | None]:
    """The best fit (multi-start, or one descent from ``start``) and, if asked, the bootstrap's
    parameter rows (NaN where a replicate failed) and the share of replicates that converged."""
    if not problem.free.size:
        found = _score_only(problem)
    else:
        found = search_from(problem, weights, start) if start is not None else search(problem, weights)
    if not np.isfinite(found.f):
        raise InputError(f"law {problem.law.name} cannot describe this data: every start gives a non-positive loss")
    if not bootstrap or not problem.free.size:
        return found, None, None
    show = progress if progress is not None else stderr_is_terminal()
    result = run_bootstrap(problem, found.u, bootstrap, seed=seed, progress=show)
    boot = problem.theta(result.u)
    boot[~np.isfinite(result.f)] = np.nan
    return found, boot, float(np.mean(result.converged))


def _score_only(problem: Problem) -> SearchResult:
    """The 'search' of a fit whose every parameter is fixed: the given parameter set, scored."""
    u = np.empty(0)
    f = float(objective_value(problem, problem.residuals(u[None, :]), np.full((1, problem.design.n), 1.0 / problem.design.n))[0])
    return SearchResult(u=u, f=f, converged=True, iterations=0, starts=0, starts_in_best_basin=0)


def _intervals(
    law: Law, boot: np.ndarray | None, level: float
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """Percentile intervals of every parameter and derived quantity over the replicates."""
    if boot is None:
        return {}, {}
    q = ((1 - level) / 2, (1 + level) / 2)
    rows = boot[np.all(np.isfinite(boot), axis=1)]
    if rows.shape[0] == 0:
        return {}, {}
    ci = {name: _pair(rows[:, i], q) for i, name in enumerate(law.param_names)}
    derived_rows = [law.derived(dict(zip(law.param_names, row))) for row in rows]
    derived_ci = {
        key: _pair(np.array([d.get(key, np.nan) for d in derived_rows], dtype=float), q)
        for key in (derived_rows[0] if derived_rows else {})
    }
    return ci, derived_ci


def _pair(values: np.ndarray, q: tuple[float, float]) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(values, q)
    return (float(lo), float(hi))


def _diagnose(
    problem: Problem,
    found: SearchResult,
    residuals: np.ndarray,
    scales: Mapping[str, np.ndarray],
    converged_fraction: float | None,
    total_weight: float,
) -> checks.Diagnostics:
    """Run every check and collect the warnings."""
    design = problem.design
    bound = checks.on_bound(problem, found.u)
    condition, pair, correlation = checks.degeneracy(problem, found.u) if problem.free.size else (1.0, [], 0.0)
    order_by = next(iter(scales.values()), np.arange(residuals.size))
    z = checks.runs_test(residuals, np.asarray(order_by))
    correlations = checks.scale_correlations(residuals, scales)
    n_free = int(problem.free.size)
    messages = []
    if not found.converged:
        messages.append("the optimiser did not converge")
    if bound:
        messages.append(f"parameters on a bound: {', '.join(bound)}")
    if abs(correlation) > checks.DEGENERATE_CORRELATION or not np.isfinite(condition):
        messages.append(
            f"near-degenerate parameters: {' and '.join(pair)} trade off (correlation {correlation:.5f}, "
            f"condition number {condition:.3g})"
        )
    if design.n < checks.POINTS_PER_PARAMETER * n_free:
        messages.append(f"only {design.n} points for {n_free} free parameters")
    rmse = float(np.sqrt(np.mean(residuals**2)))
    if rmse > checks.EXACT_FIT_RMSE:  # below it the residuals are round-off and have no structure to test
        if checks.two_sided_normal_p(z) < checks.STRUCTURE_P_VALUE:
            messages.append(f"structured residuals: runs test z = {z:.2f} along {next(iter(scales), 'point order')}")
        for name, (rho, p) in correlations.items():
            if p < checks.STRUCTURE_P_VALUE and abs(rho) > 0.3:
                messages.append(f"residuals correlate with {name} (Spearman {rho:.2f})")
    if converged_fraction is not None and converged_fraction < 0.9:
        messages.append(f"only {converged_fraction:.0%} of bootstrap replicates converged")
    objective_now = objective_value(problem, residuals[None, :], np.full((1, residuals.size), 1.0 / residuals.size))[0]
    return checks.Diagnostics(
        converged=found.converged,
        iterations=found.iterations,
        starts=found.starts,
        starts_in_best_basin=found.starts_in_best_basin,
        objective=float(objective_now * total_weight),
        n_points=design.n,
        n_runs=int(np.unique(design.run).size),
        n_free=n_free,
        on_bound=bound,
        condition_number=condition,
        most_correlated=pair,
        correlation=correlation,
        residual_rmse=rmse,
        residual_mean=float(np.mean(residuals)),
        residual_max_abs=float(np.max(np.abs(residuals))),
        runs_test_z=z,
        scale_correlation={k: v[0] for k, v in correlations.items()},
        bootstrap_converged=converged_fraction,
        warnings=messages,
    )


def stderr_is_terminal() -> bool:
    import sys

    return bool(getattr(sys.stderr, "isatty", lambda: False)())
