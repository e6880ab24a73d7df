"""The report section of one fitted law: summary, parameters, diagnostics, plots, held-out scores.

Predictions drawn here come from the law itself at the fitted parameters, and bands
from the bootstrap replicates of the fit (their quantiles at the fit's interval
level), so every curve in a plot is the fit the table describes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.laws.base import Design, Law
from scalelaw.report import html, plots

#: How far beyond the data the law's line is drawn, as a factor on the largest input.
EXTRAPOLATION_FACTOR = 10.0
#: Bands use at most this many replicates (the first ones: replicates are exchangeable).
MAX_BAND_REPLICATES = 200
#: At most this many groups of runs get their own colour and law line.
MAX_GROUPS = 6


@dataclass(frozen=True)
class FitEntry:
    """One fit to report, with the runs it was fitted on and runs held out from it."""

    fit: Any
    runs: RunSet | None = None
    heldout: RunSet | None = None
    title: str | None = None


@dataclass(frozen=True)
class Band:
    """The law's loss at some inputs, with the bootstrap interval (None without replicates)."""

    loss: np.ndarray
    lo: np.ndarray | None
    hi: np.ndarray | None


@dataclass(frozen=True)
class Evaluated:
    """Runs with the law's design and its prediction on them; ``heldout`` if not fitted on."""

    runs: RunSet
    design: Design
    band: Band
    heldout: bool


# -- what the section reads from a fit ---------------------------------------------


def _law(fit: Any) -> Law:
    return fit.law


def _values(fit: Any) -> dict[str, float]:
    return {name: float(value) for name, value in dict(fit.params).items()}


def _theta(fit: Any) -> np.ndarray:
    values = _values(fit)
    return np.array([[values[name] for name in _law(fit).param_names]])


def _level(fit: Any) -> float:
    return float(dict(getattr(fit, "options", {}) or {}).get("level", 0.95))


def _replicates(fit: Any) -> np.ndarray | None:
    samples = getattr(fit, "bootstrap_params", None)
    if samples is None:
        return None
    samples = np.asarray(samples, dtype=float)
    return samples if samples.ndim == 2 and samples.shape[0] >= 2 else None


def _warnings(fit: Any) -> list[str]:
    diagnostics = getattr(fit, "diagnostics", None)
    return [str(w) for w in getattr(diagnostics, "warnings", ()) or ()]


#: Plain-words names of the engine's diagnostics (others are shown by their field name).
DIAGNOSTIC_LABELS: dict[str, str] = {
    "converged": "the optimiser converged",
    "iterations": "optimiser iterations",
    "starts": "starting points tried",
    "starts_in_best_basin": "starts that reached the best fit",
    "objective": "objective at the optimum",
    "n_points": "points fitted",
    "n_runs": "runs fitted",
    "n_free": "free parameters",
    "on_bound": "parameters stuck on a bound",
    "condition_number": "condition number (large: parameters trade off against each other)",
    "most_correlated": "most correlated pair of parameters",
    "correlation": "their correlation",
    "residual_rmse": "residual RMSE",
    "residual_mean": "mean residual",
    "residual_max_abs": "largest residual",
    "runs_test_z": "runs test z (|z| > 3: residuals have structure the law misses)",
    "scale_correlation": "residual trend with scale (Spearman rho, p)",
    "bootstrap_converged": "share of bootstrap replicates that converged",
}


def _diagnostic_text(value: object) -> object:
    """A diagnostic as a table cell: numbers stay numbers, lists and maps become text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) or value is None:
        return value
    if isinstance(value, Mapping):
        items = [f"{k}: {_diagnostic_cell(v)}" for k, v in value.items()]
        return "; ".join(items) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(_diagnostic_cell(v) for v in value) or "none"
    return str(value)


def _diagnostic_cell(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_diagnostic_cell(v) for v in value) + ")"
    return html.format_number(value) if isinstance(value, (int, float)) else str(value)


def _diagnostic_rows(fit: Any) -> list[dict[str, object]]:
    diagnostics = getattr(fit, "diagnostics", None)
    if diagnostics is None:
        return []
    fields = diagnostics.to_dict() if hasattr(diagnostics, "to_dict") else dict(vars(diagnostics))
    return [
        {"diagnostic": DIAGNOSTIC_LABELS.get(name, name.replace("_", " ")), "value": _diagnostic_text(value)}
        for name, value in fields.items()
        if not name.startswith("_") and name != "warnings"
    ]


# -- predictions -------------------------------------------------------------------


def law_band(fit: Any, design: Design) -> Band:
    """The law's loss at ``design`` and, from the bootstrap replicates, its interval."""
    law = _law(fit)
    loss = np.asarray(law.predict(_theta(fit), design), dtype=float)[0]
    replicates = _replicates(fit)
    if replicates is None:
        return Band(loss, None, None)
    with np.errstate(all="ignore"):
        draws = np.asarray(law.predict(replicates[:MAX_BAND_REPLICATES], design), dtype=float)
    tail = (1.0 - _level(fit)) / 2.0
    lo, hi = np.nanquantile(draws, [tail, 1.0 - tail], axis=0)
    return Band(loss, lo, hi)


# -- plots -------------------------------------------------------------------------


def _group_keys(values: np.ndarray, count: int) -> np.ndarray:
    """Group labels for a positive variable: its distinct values, or log-spaced bins."""
    rounded = np.array([float(f"{v:.3g}") for v in values])
    distinct = np.unique(rounded)
    if len(distinct) <= count:
        return rounded
    edges = np.quantile(np.log(values), np.linspace(0, 1, count + 1))
    bins = np.clip(np.searchsorted(edges, np.log(values), side="right") - 1, 0, count - 1)
    centres = np.array([np.exp(np.log(values[bins == b]).mean()) if (bins == b).any() else np.nan for b in range(count)])
    return np.array([float(f"{centres[b]:.3g}") for b in bins])


def _final_figure(fit: Any, design: Design, heldout: Design | None, source: str) -> tuple[plots.Figure, str]:
    """Final loss against the law's main variable, runs grouped by the other inputs."""
    law = _law(fit)
    inputs = list(law.inputs)
    x_name = "params" if "params" in inputs else inputs[0]
    others = [name for name in inputs if name != x_name]
    all_x = np.concatenate([design.inputs[x_name], heldout.inputs[x_name] if heldout else []])
    grid = np.geomspace(all_x.min() / 1.5, all_x.max() * EXTRAPOLATION_FACTOR, 80)
    points: list[plots.Points] = []
    lines: list[plots.Line] = []
    if not others:
        band = law_band(fit, law.design_at(**{x_name: grid}))
        lines.append(plots.Line(grid, band.loss, "law (band: bootstrap interval)", band.lo, band.hi))
        points.append(plots.Points(design.inputs[x_name], design.loss, "fitted runs", tips=_tips(design)))
        caption = f"Final loss of every run against {plots.axis_label(x_name)}, with the fitted law and its interval, extended {EXTRAPOLATION_FACTOR:g}× beyond the data."
    else:
        group_by = others[0]
        keys = _group_keys(np.concatenate([design.inputs[group_by], heldout.inputs[group_by] if heldout else []]), MAX_GROUPS)
        fitted_keys = keys[: design.n]
        for key in np.unique(fitted_keys):
            mask = fitted_keys == key
            label = f"{_short(group_by)} ≈ {key:.3g}"
            points.append(plots.Points(design.inputs[x_name][mask], design.loss[mask], label, tips=_tips(design, mask)))
            if len(others) == 1:
                band = law_band(fit, law.design_at(**{x_name: grid, group_by: np.full(grid.shape, key)}))
                lines.append(plots.Line(grid, band.loss, "_nolegend_", band.lo, band.hi))
        caption = (
            f"Final loss against {plots.axis_label(x_name)}, runs grouped by {plots.axis_label(group_by)}"
            + (", each group with the law at its value of that variable (band: bootstrap interval)." if len(others) == 1 else "; the law has more inputs, so its fit is shown in the residual plot.")
        )
    if heldout is not None:
        points.append(plots.Points(heldout.inputs[x_name], heldout.loss, "held-out runs", heldout=True, tips=_tips(heldout)))
    figure = plots.final_loss_figure(points, lines, variable=x_name, title=f"{law.name}: final loss against {_short(x_name)} on {source}")
    return figure, caption


def _short(variable: str) -> str:
    return {"params": "N", "tokens": "D", "flops": "C", "unique_tokens": "U", "step": "step"}.get(variable, variable)


def _tips(design: Design, mask: np.ndarray | None = None) -> list[str]:
    keep = np.ones(design.n, dtype=bool) if mask is None else mask
    names = [k for k, v in design.inputs.items() if np.ndim(v) == 1 and len(v) == design.n]
    tips = []
    for i in np.flatnonzero(keep):
        parts = ", ".join(f"{_short(k)} = {float(design.inputs[k][i]):.3g}" for k in names)
        tips.append(f"{design.run[i]}: {parts}, loss = {design.loss[i]:.4f}")
    return tips


def _curves(fit: Any, parts: Sequence[Evaluated]) -> list[plots.Curve]:
    """Per run: its logged loss, and the law fitted (or, held out, predicted) with its band."""
    curves = []
    for part in parts:
        steps = np.asarray(part.design.inputs["step"], dtype=float)
        for run in part.runs.runs:
            rows = part.runs.curve(run)
            rows = rows[rows["loss"].notna()]
            observed = plots.Points(rows["step"].to_numpy(dtype=float), rows["loss"].to_numpy(dtype=float), run, heldout=part.heldout)
            mask = part.design.run == run
            line = None
            if mask.any():
                order = np.argsort(steps[mask])

                def pick(values: np.ndarray | None) -> np.ndarray | None:
                    return None if values is None else values[mask][order]

                line = plots.Line(steps[mask][order], part.band.loss[mask][order], run, pick(part.band.lo), pick(part.band.hi), predicted=part.heldout)
            curves.append(plots.Curve(run, observed, line))
    return curves


def _residual_figure(fit: Any, parts: Sequence[Evaluated], source: str) -> plots.Figure:
    predicted = np.concatenate([p.band.loss for p in parts])
    observed = np.concatenate([p.design.loss for p in parts])
    heldout = np.concatenate([np.full(p.design.n, p.heldout) for p in parts])
    return plots.residuals_figure(predicted, observed, heldout=heldout, title=f"{_law(fit).name}: residuals on {source}")


def _bootstrap_figure(fit: Any) -> plots.Figure | None:
    replicates = _replicates(fit)
    if replicates is None:
        return None
    law = _law(fit)
    names = law.param_names
    samples = {name: replicates[:, i] for i, name in enumerate(names)}
    derived_draws = [law.derived(dict(zip(names, row))) for row in replicates]
    for key in getattr(fit, "derived", {}) or {}:
        if key not in samples:
            samples[key] = np.array([d.get(key, np.nan) for d in derived_draws], dtype=float)
    estimates = {**_values(fit), **{k: float(v) for k, v in (getattr(fit, "derived", {}) or {}).items()}}
    intervals = {k: (float(v[0]), float(v[1])) for k, v in (getattr(fit, "ci", {}) or {}).items()}
    return plots.bootstrap_figure(samples, title=f"{law.name}: {replicates.shape[0]} bootstrap replicates", estimates=estimates, intervals=intervals)


def schedules_of(runs: RunSet) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each run's learning rate against step, where the data logs both."""
    if not (runs.has("lr") and runs.has("step")):
        return {}
    out = {}
    for run, rows in runs.curves():
        rows = rows[rows["lr"].notna() & rows["step"].notna()]
        if len(rows):
            out[run] = (rows["step"].to_numpy(dtype=float), rows["lr"].to_numpy(dtype=float))
    return out


# -- tables ------------------------------------------------------------------------


def _parameter_rows(fit: Any) -> list[dict[str, object]]:
    law = _law(fit)
    values = _values(fit)
    intervals = dict(getattr(fit, "ci", {}) or {})
    rows = []
    for param in law.params:
        value = values[param.name]
        lo, hi = intervals.get(param.name, (None, None))
        at_bound = np.isclose(value, param.lower, rtol=1e-6) or np.isclose(value, param.upper, rtol=1e-6)
        rows.append(
            {
                "parameter": param.name,
                "meaning": param.meaning,
                "estimate": value,
                "interval low": None if lo is None else float(lo),
                "interval high": None if hi is None else float(hi),
                "bounds": f"{html.format_number(param.lower)} … {html.format_number(param.upper)}" + (" (AT BOUND)" if at_bound else ""),
            }
        )
    return rows


def _derived_rows(fit: Any) -> list[dict[str, object]]:
    intervals = dict(getattr(fit, "ci", {}) or {})
    rows = []
    for name, value in (getattr(fit, "derived", {}) or {}).items():
        lo, hi = intervals.get(name, (None, None))
        rows.append({"quantity": name, "estimate": float(value), "interval low": lo, "interval high": hi})
    return rows


def _evaluation_rows(fit: Any, heldout: RunSet) -> list[dict[str, object]]:
    scores = fit.evaluate(heldout)
    if isinstance(scores, Mapping):
        return [{"metric": k, "value": v} for k, v in scores.items()]
    table = getattr(scores, "to_dict", None)
    if table is not None:
        return list(scores.to_dict(orient="records"))
    return [{"metric": k, "value": v} for k, v in vars(scores).items()]


# -- the section -------------------------------------------------------------------


def fit_section(entry: FitEntry, *, key: str, command: str | None = None) -> html.Section:
    """Everything about one fit: what was fitted, how well, how sure, and the plots."""
    fit, runs, heldout = entry.fit, entry.runs, entry.heldout
    law = _law(fit)
    level = f"{100 * _level(fit):.0f}%"
    source = _source_name(runs) if runs is not None else "the fit's data"
    summary = [
        html.paragraph(f"Law {law.name}: {law.citation}."),
        html.preformatted(law.formula),
    ]
    if runs is not None:
        summary.append(html.paragraph(f"Fitted on {len(runs)} runs from {source}" + (f"; evaluated on {len(heldout)} held-out runs from {_source_name(heldout)}." if heldout is not None else ".")))
    warnings = _warnings(fit)
    diagnostics = [html.notice(w, level="warning") for w in warnings] or [html.notice("No warnings: the fit converged, no parameter sits on a bound and the diagnostics raised nothing.", level="ok")]
    rows = _diagnostic_rows(fit)
    if rows:
        diagnostics.append(html.table(["diagnostic", "value"], rows))
    parameters = [html.table(["parameter", "meaning", "estimate", "interval low", "interval high", "bounds"], _parameter_rows(fit), caption=f"Fitted parameters with {level} intervals")]
    derived = _derived_rows(fit)
    if derived:
        parameters.append(html.table(["quantity", "estimate", "interval low", "interval high"], derived, caption="Derived quantities"))
    children = [
        html.Section("Diagnostics and warnings", diagnostics),
        html.Section("Parameters", parameters),
        html.Section("Plots", _plot_blocks(fit, runs, heldout, source, key)),
    ]
    if heldout is not None:
        rows = _evaluation_rows(fit, heldout)
        if rows:
            children.append(html.Section("Held-out evaluation", [html.table(list(rows[0]), rows)]))
    reproduce = [html.paragraph("Options of the fit:"), html.preformatted(json.dumps(_jsonable(getattr(fit, "options", {}) or {}), indent=2, sort_keys=True))]
    if command:
        reproduce.insert(0, html.preformatted(command))
    children.append(html.Section("How this was produced", reproduce))
    return html.Section(entry.title or f"Fit: {law.name} on {source}", summary, children)


def _plot_blocks(fit: Any, runs: RunSet | None, heldout: RunSet | None, source: str, key: str) -> list[str]:
    law = _law(fit)
    blocks: list[str] = []
    if runs is not None:
        parts = [Evaluated(r, d, law_band(fit, d), h) for r, h in ((runs, False), (heldout, True)) if r is not None for d in [law.design(r)]]
        held = parts[1].design if heldout is not None else None
        if law.kind == "final":
            figure, caption = _final_figure(fit, parts[0].design, held, source)
            blocks.append(html.figure(figure, caption=caption, key=f"{key}-final"))
        else:
            curves = _curves(fit, parts)
            overview = plots.loss_curves_figure(curves, title=f"{law.name}: loss curves on {source}")
            blocks.append(html.figure(overview, caption="All runs together: logged loss (dots) with the law fitted to each run (solid) and its prediction for held-out runs (dashed), with bootstrap bands.", key=f"{key}-curves"))
            panels = plots.loss_curve_panels_figure(curves, title=f"{law.name}: each run on {source}")
            blocks.append(html.figure(panels, caption="One panel per run, each on its own loss scale: held-out panels show a prediction the fit never saw.", key=f"{key}-panels"))
        blocks.append(html.figure(_residual_figure(fit, parts, source), caption="Left: observed against predicted loss; right: relative residuals in percent. Held-out points are predictions the fit never saw.", key=f"{key}-residuals"))
        schedules = schedules_of(RunSet.concat([runs, heldout]) if heldout is not None else runs)
        if schedules:
            blocks.append(html.figure(plots.schedules_figure(schedules, title=f"Learning-rate schedules of {source}"), caption="The learning-rate schedule of each run.", key=f"{key}-schedules"))
    bootstrap = _bootstrap_figure(fit)
    if bootstrap is not None:
        blocks.append(html.figure(bootstrap, caption="Spread of each parameter and derived quantity over the bootstrap replicates: a wide or many-peaked histogram means the data do not pin it down.", key=f"{key}-bootstrap"))
    if not blocks:
        blocks.append(html.notice("No plots: the report was given neither the fit's data nor bootstrap replicates.", level="warning"))
    return blocks


def _source_name(runs: RunSet) -> str:
    sources = sorted(set(runs.sources.values()))
    if not sources:
        return "the given runs"
    return sources[0] if len(sources) == 1 else f"{sources[0]} and {len(sources) - 1} more"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)

