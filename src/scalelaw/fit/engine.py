"""``fit_law``: the one entry point that fits any law to runs and assembles a FitResult.

Steps: build the law's design, search all starts (multi-start), bootstrap over runs if
asked, compute intervals for parameters and derived quantities, run the diagnostics,
and refuse (``strict``) or warn about anything suspicious.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from scalelaw import laws
from scalelaw.errors import FitWarning, InputError, UntrustedFitError, warn
from scalelaw.fit import diagnostics as checks
from scalelaw.fit.bootstrap import bootstrap as run_bootstrap
from scalelaw.fit import projection
from scalelaw.fit.multistart import (
    PROJECT_POINTS,
    SearchResult,
    search,
    search_from,
    search_projected_masks,
    start_row,
)
from scalelaw.fit.objective import Objective, ObjectiveName
from scalelaw.fit.optimize import BatchResult, objective_value, one_blas_thread
from scalelaw.fit.parallel import estimated_seconds, fit_in_parts
from scalelaw.fit.problem import Problem, check_fixed
from scalelaw.fit.result import FitResult
from scalelaw.laws.base import Design, Law

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
    runs, problem = _setup(runs, law, objective=objective, delta=delta, asymmetry=asymmetry, reduction=reduction,
                           fix=fix, ci_level=ci_level, bootstrap=bootstrap, law_options=law_options)
    weights = np.ones(problem.design.n)
    with one_blas_thread():
        found, boot, converged_fraction = _search_and_bootstrap(problem, weights, start, bootstrap, seed, progress)
    options = _options(problem, reduction, ci_level, extrapolation_warning_decades, bootstrap=bootstrap, seed=seed,
                       strict=strict)
    result = _assemble(runs, problem, found, boot, converged_fraction, options)
    for message in result.diagnostics.warnings:  # here, so that they name the caller's line
        warn(f"law {result.law.name}: {message}", FitWarning)
    return result


def fit_law_subsets(
    subsets: Sequence[RunSet],
    law: str | Law,
    *,
    objective: ObjectiveName | None = None,
    delta: float = 1e-3,
    asymmetry: float = 2.0,
    reduction: Reduction = "sum",
    fix: Mapping[str, float] | None = None,
    ci_level: float = 0.95,
    extrapolation_warning_decades: float = 2.0,
    law_options: Mapping[str, Any] | None = None,
    start: Mapping[str, float] | None = None,
) -> list[FitResult | Exception]:
    """:func:`fit_law` of ``law`` (no bootstrap, not strict) on each of ``subsets`` (a backtest's training
    sets: subsets of the runs of one data set); a subset that cannot be fitted gets the error fit_law
    raises (:class:`InputError`, :class:`UntrustedFitError`, ``ValueError`` or ``FloatingPointError``).

    A law searched by variable projection, on one point per run and few points in all, is searched on
    every subset at once (:func:`~scalelaw.fit.multistart.search_projected_masks`): the same grid and
    polish on each subset's points, with one optimiser batch for all, instead of one per subset (the
    calibration's ten folds on 240 Chinchilla runs cost 5x the fit itself one by one). With ``start``
    (the law's optimum on all the data) each subset gets one descent from there, the subsets split in
    two parts fitted at once (:func:`~scalelaw.fit.parallel.fit_in_parts`).
    """
    problems: list[tuple[RunSet, Problem] | Exception] = []
    for runs in subsets:
        try:
            problems.append(_setup(runs, law, objective=objective, delta=delta, asymmetry=asymmetry,
                                   reduction=reduction, fix=fix, ci_level=ci_level, bootstrap=0,
                                   law_options=law_options))
        except (InputError, ValueError, FloatingPointError) as exc:
            problems.append(exc)
    set_up = [item for item in problems if not isinstance(item, Exception)]
    union = None if start is not None else _masks_on_union([problem for _, problem in set_up])
    found: list[SearchResult | None] = []
    with one_blas_thread():
        if union is not None:
            found = list(search_projected_masks(union[0], union[1], projection.linear_indices(union[0])))  # type: ignore[arg-type]
        elif start is not None and set_up and set_up[0][1].free.size:
            found = _descents([problem for _, problem in set_up], start)
    searched = {id(item): result for item, result in zip(set_up, found)}
    out: list[FitResult | Exception] = []
    for item in problems:
        if isinstance(item, Exception):
            out.append(item)
            continue
        runs, problem = item
        options = _options(problem, reduction, ci_level, extrapolation_warning_decades, bootstrap=0, seed=0, strict=False)
        try:
            result = searched.get(id(item))
            with one_blas_thread():
                if result is None or not np.isfinite(result.f):  # not searched yet, or to raise its error here
                    result = _search_and_bootstrap(problem, np.ones(problem.design.n), start, 0, 0, False)[0]
                elif union is not None:
                    result = _rescored(problem, result)
            out.append(_assemble(runs, problem, result, None, None, options))
            for message in out[-1].diagnostics.warnings:  # type: ignore[union-attr]
                warn(f"law {problem.law.name}: {message}", FitWarning)
        except (InputError, UntrustedFitError, ValueError, FloatingPointError) as exc:
            out.append(exc)
    return out


def _descents(problems: list[Problem], start: Mapping[str, float]) -> list[SearchResult | None]:
    """One descent from ``start`` on each problem (of one law, so of one width), the problems split in two
    parts fitted at once; None where a descent failed (the caller repeats it to raise its error)."""
    q = problems[0].free.size

    def fit(idx: np.ndarray) -> BatchResult:
        u, f = np.full((idx.size, q), np.nan), np.full(idx.size, np.nan)
        converged, iterations = np.zeros(idx.size, dtype=bool), np.zeros(idx.size, dtype=int)
        for row, i in enumerate(idx):
            try:
                one = search_from(problems[i], np.ones(problems[i].design.n), start)
            except (InputError, ValueError, FloatingPointError):
                continue
            u[row], f[row], converged[row], iterations[row] = one.u, one.f, one.converged, one.iterations
        return BatchResult(u=u, f=f, converged=converged, iterations=iterations)

    seconds = estimated_seconds(problems[0], start_row(problems[0], start), len(problems))
    done = fit_in_parts(fit, len(problems), q, parts=2, seconds=seconds)
    return [None if not np.isfinite(done.f[i]) else
            SearchResult(u=done.u[i], f=float(done.f[i]), converged=bool(done.converged[i]),
                         iterations=int(done.iterations[i]), starts=1, starts_in_best_basin=1)
            for i in range(len(problems))]


def _setup(runs: RunSet | pd.DataFrame, law: str | Law, *, objective: ObjectiveName | None, delta: float,
           asymmetry: float, reduction: str, fix: Mapping[str, float] | None, ci_level: float, bootstrap: int,
           law_options: Mapping[str, Any] | None) -> tuple[RunSet, Problem]:
    """The runs (read if a frame) and the problem of fitting ``law`` to them, after checking the options."""
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
    design = law.design(runs)
    problem = Problem(law, design, Objective(objective or law.objective, delta, asymmetry), check_fixed(law, fix))
    n_free = problem.free.size
    if n_free and design.n <= n_free:
        raise InputError(
            f"law {law.name} has {n_free} free parameters but the data gives only {design.n} points; "
            "add runs or fix parameters with --fix"
        )
    return runs, problem  # type: ignore[return-value]


def _options(problem: Problem, reduction: str, ci_level: float, extrapolation_warning_decades: float, *,
             bootstrap: int, seed: int, strict: bool) -> dict[str, Any]:
    """How a fit was made, as FitResult.options records it (the runs' loss sources are added by :func:`_assemble`)."""
    objective = problem.objective
    return {"objective": objective.name, "delta": objective.delta, "asymmetry": objective.asymmetry,
            "reduction": reduction, "fix": dict(problem.fixed), "bootstrap": bootstrap, "seed": seed, "strict": strict,
            "ci_level": ci_level, "extrapolation_warning_decades": extrapolation_warning_decades}


def _assemble(runs: RunSet, problem: Problem, found: SearchResult, boot: np.ndarray | None,
              converged_fraction: float | None, options: dict[str, Any]) -> FitResult:
    """The FitResult of ``found``: intervals from ``boot``, residuals, diagnostics (an error if strict
    and they warn; the caller issues the warnings)."""
    law, design = problem.law, problem.design
    theta = problem.theta(found.u)[0]
    params = dict(zip(law.param_names, map(float, theta)))
    ci, derived_ci = _intervals(law, boot, options["ci_level"])

    residuals = problem.residuals(found.u)[0]
    if design.anchor is not None:  # anchors are constraints: not residual noise, not data
        residuals = residuals[~design.anchor]
    scales = {k: (v if design.anchor is None else v[~design.anchor]) for k, v in law.scale(design).items()}
    reach = {k: (v if design.anchor is None else v[~design.anchor]) for k, v in law.reach(design).items()}
    fitted_range = {k: (float(np.min(v)), float(np.max(v))) for k, v in reach.items()}
    if design.anchor is None:  # the curve laws that record more ranges have no anchor rows
        fitted_range.update(law.recorded_ranges(design))
    total = 1.0 if options["reduction"] == "mean" else float(design.n)
    diag = _diagnose(problem, found, residuals, scales, converged_fraction, total)
    options = {**options, "loss_source": runs.loss_sources()}
    if diag.warnings and options["strict"]:
        raise UntrustedFitError(f"law {law.name}: " + "; ".join(diag.warnings))
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


def _masks_on_union(problems: list[Problem]) -> tuple[Problem, np.ndarray] | None:
    """The problems as masks of one problem on the union of their points, when they can be searched as one
    batch: the same projected law, objective and fixed parameters, one point per run with per-point
    inputs that agree between problems, and at most ``PROJECT_POINTS`` points in all (the single search
    then uses every point too, so each subset's search is the same arithmetic). Else None."""
    if len(problems) < 2:
        return None
    first = problems[0]
    keys = set(first.design.inputs)
    for problem in problems:
        design = problem.design
        if (problem.law is not first.law or problem.objective != first.objective or problem.fixed != first.fixed
                or not problem.free.size or design.extra or design.anchor is not None
                or set(design.inputs) != keys
                or not all(isinstance(v, np.ndarray) and v.shape == (design.n,) and v.dtype.kind == "f"
                           for v in design.inputs.values())
                or np.unique(design.run).size != design.n):
            return None
    if projection.linear_indices(first) is None:
        return None
    names = np.unique(np.concatenate([p.design.run for p in problems]))
    if names.size > PROJECT_POINTS:
        return None
    inputs = {k: np.full(names.size, np.nan) for k in keys}
    loss = np.full(names.size, np.nan)
    masks = np.zeros((len(problems), names.size), dtype=bool)
    for i, problem in enumerate(problems):
        design = problem.design
        at = np.searchsorted(names, design.run)
        for k in keys:
            seen = ~np.isnan(inputs[k][at])
            if not np.array_equal(inputs[k][at][seen], design.inputs[k][seen]):
                return None  # one run with two different inputs: not subsets of one data set
            inputs[k][at] = design.inputs[k]
        seen = ~np.isnan(loss[at])
        if not np.array_equal(loss[at][seen], design.loss[seen]):
            return None
        loss[at] = design.loss
        masks[i, at] = True
    return first.with_design(Design(inputs=inputs, loss=loss, run=names)), masks


def _rescored(problem: Problem, found: SearchResult) -> SearchResult:
    """``found`` (searched on a mask of the union) with its objective on the subset's own points."""
    f = _objective_at(problem, found.u)
    if not np.isfinite(f):
        raise InputError(f"law {problem.law.name} cannot describe this data: every start gives a non-positive loss")
    return replace(found, f=f)


def _objective_at(problem: Problem, u: np.ndarray) -> float:
    """The normalised objective of one parameter row on all of the problem's points."""
    n = problem.design.n
    return float(objective_value(problem, problem.residuals(u[None, :]), np.full((1, n), 1.0 / n))[0])


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
    f = _objective_at(problem, u)
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
