"""The report section of one fitted law: summary, parameters, diagnostics, plots, held-out scores.

Every curve and band in a plot comes from the fit's own ``predict_design`` (the law
at the fitted parameters, and the prediction interval from the bootstrap replicates
plus resampled residuals), so the plots show exactly the fit the tables describe.
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning
from scalelaw.fit.result import FitResult
from scalelaw.laws.base import Design, Law
from scalelaw.report import html, plots

#: How far beyond the data the law's line is drawn, as a factor on the largest input.
EXTRAPOLATION_FACTOR = 10.0
#: At most this many groups of runs get their own colour and law line.
MAX_GROUPS = 6
#: At most this many per-run loss-curve panels (held-out runs first).
MAX_PANELS = 12
#: Fewer runs than this make run-resampling bootstrap intervals meaningless.
MIN_BOOTSTRAP_RUNS = 5
#: With more law lines than this in one plot, only predicted lines keep their band.
MAX_BANDS = 4
#: Runs with at most this many distinct FLOP budgets are drawn as isoFLOP profiles.
MAX_BUDGETS = 16


@dataclass(frozen=True)
class FitEntry:
    """One fit to report, with the runs it was fitted on and runs held out from it."""

    fit: FitResult
    runs: RunSet | None = None
    heldout: RunSet | None = None
    title: str | None = None


@dataclass(frozen=True)
class Band:
    """The law's loss at some inputs, with its prediction interval."""

    loss: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


@dataclass(frozen=True)
class Evaluated:
    """Runs with the law's design and its prediction on them; ``heldout`` if not fitted on."""

    runs: RunSet
    design: Design
    band: Band
    heldout: bool


# -- what the section reads from a fit ---------------------------------------------


def _law(fit: FitResult) -> Law:
    return fit.law


def _values(fit: FitResult) -> dict[str, float]:
    return {name: float(value) for name, value in fit.params.items()}


def _level(fit: FitResult) -> float:
    return float(fit.options.get("ci_level", 0.95))


def _replicates(fit: FitResult) -> np.ndarray | None:
    if fit.bootstrap_params is None:
        return None
    samples = np.asarray(fit.bootstrap_params, dtype=float)
    return samples if samples.ndim == 2 and samples.shape[0] >= 2 else None


#: What each kind of engine warning means for a reader, keyed by a regex of the warning's opening words.
WARNING_MEANINGS: dict[str, str] = {
    "the optimiser did not converge": "the numbers below may not be the best fit; try more starts or fewer free parameters.",
    "parameters on a bound": "the data push a parameter to the edge of its allowed range, so its value (and anything derived from it) is set by the bound, not the data.",
    "near-degenerate parameters": "the data cannot tell these parameters apart: many combinations fit equally well, so each one alone is poorly determined even if predictions are fine inside the data.",
    r"only \d+ points": "too few points for this many free parameters: the fit can match the data without the law being right; add runs or fix parameters.",
    r"only \d+% of bootstrap": "many resampled fits failed, so the intervals rest on the replicates that worked and are likely too narrow.",
    "structured residuals": "the misfit is not random noise: the law misses a systematic trend, so extrapolations inherit a bias.",
    "residuals correlate with": "the law's error grows or shrinks with scale, which is exactly what an extrapolation to larger scale will amplify.",
}


def _warnings(fit: FitResult) -> list[str]:
    """Each warning of the fit, followed by what it means in plain words."""
    out = []
    for warning in fit.diagnostics.warnings:
        meaning = next((m for pattern, m in WARNING_MEANINGS.items() if re.match(pattern, str(warning))), None)
        out.append(f"{warning}. What it means: {meaning}" if meaning else str(warning))
    return out


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
    "scale_correlation": "residual trend with scale (Spearman rank correlation)",
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


def _diagnostic_rows(fit: FitResult) -> list[dict[str, object]]:
    fields = fit.diagnostics.to_dict()
    return [
        {"diagnostic": DIAGNOSTIC_LABELS.get(name, name.replace("_", " ")), "value": _diagnostic_text(value)}
        for name, value in fields.items()
        if not name.startswith("_") and name != "warnings"
    ]


# -- predictions -------------------------------------------------------------------


def law_band(fit: FitResult, design: Design) -> Band:
    """The fit's prediction and prediction interval at ``design``.

    Drawing the law beyond the data is the point of a plot, so extrapolation warnings
    are silenced here and a ``strict`` fit does not refuse to be drawn.
    """
    lenient = dataclasses.replace(fit, options={**fit.options, "strict": False}) if fit.options.get("strict") else fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        prediction = lenient.predict_design(design)
    return Band(np.asarray(prediction.loss, dtype=float), np.asarray(prediction.lo, dtype=float), np.asarray(prediction.hi, dtype=float))


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


def _final_figure(fit: FitResult, parts: Sequence[Evaluated], source: str) -> tuple[plots.Figure, str]:
    """Final loss against the law's main variable, with the law drawn for groups of runs."""
    law = _law(fit)
    x_name = "params" if "params" in law.inputs else law.inputs[0]
    budgets = [_budgets(part) for part in parts]
    if set(law.inputs) == {"params", "tokens"} and all(b is not None for b in budgets):
        points, lines, caption = _isoflop_groups(fit, parts, budgets)
    elif len(law.inputs) == 1:
        points, lines, caption = _single_input(fit, parts, x_name)
    else:
        points, lines, caption = _binned_groups(fit, parts, x_name)
    if len(lines) > MAX_BANDS:  # overlapping bands hide the data: keep them on predictions only
        lines = [line if line.predicted else dataclasses.replace(line, lo=None, hi=None) for line in lines]
        caption += " Bands (prediction intervals) are drawn only on predicted lines, as many groups would hide the data."
    elif lines:
        caption += " Bands are prediction intervals."
    title = f"{law.name}: final loss against {_short(x_name)} on {source}"
    return plots.final_loss_figure(points, lines, variable=x_name, title=title), caption


def _budgets(part: Evaluated) -> np.ndarray | None:
    """Each point's compute budget, when the runs form an isoFLOP grid (few distinct budgets)."""
    if not part.runs.has("flops"):
        return None
    flops = part.runs.final().set_index("run")["flops"]
    values = np.array([float(flops.get(run, np.nan)) for run in part.design.run])
    if not np.all(np.isfinite(values) & (values > 0)) or np.unique(values).size > MAX_BUDGETS:
        return None
    return values


def _isoflop_groups(fit: FitResult, parts: Sequence[Evaluated], budgets: Sequence[np.ndarray]) -> tuple[list[plots.Points], list[plots.Line], str]:
    """One group per compute budget, with the law along that budget's isoFLOP line."""
    law = _law(fit)
    points, lines = [], []
    for part, flops in zip(parts, budgets):
        n, d = part.design.inputs["params"], part.design.inputs["tokens"]
        for budget in np.unique(flops):
            mask = flops == budget
            # The data's own FLOP count per N·D (6 in the usual approximation) keeps the line on the points.
            per_nd = float(np.median(budget / (n[mask] * d[mask])))
            grid = np.geomspace(n[mask].min() / 1.3, n[mask].max() * 1.3, 60)
            band = law_band(fit, law.design_at(params=grid, tokens=budget / (per_nd * grid)))
            suffix = " (held out)" if part.heldout else ""
            points.append(plots.Points(n[mask], part.design.loss[mask], f"C = {budget:.3g}{suffix}", heldout=part.heldout, tips=_tips(part.design, mask)))
            lines.append(plots.Line(grid, band.loss, "_nolegend_", band.lo, band.hi, predicted=part.heldout))
    caption = (
        "Final loss against model size at each compute budget (an isoFLOP profile), with the law along "
        "each budget's line; held-out budgets are hollow, their law dashed."
    )
    return points, lines, caption


def _single_input(fit: FitResult, parts: Sequence[Evaluated], x_name: str) -> tuple[list[plots.Points], list[plots.Line], str]:
    """The law as one line over the data, drawn EXTRAPOLATION_FACTOR beyond it."""
    law = _law(fit)
    everything = np.concatenate([p.design.inputs[x_name] for p in parts])
    grid = np.geomspace(everything.min() / 1.5, everything.max() * EXTRAPOLATION_FACTOR, 80)
    band = law_band(fit, law.design_at(**{x_name: grid}))
    lines = [plots.Line(grid, band.loss, "law", band.lo, band.hi)]
    points = [
        plots.Points(p.design.inputs[x_name], p.design.loss, "held-out runs" if p.heldout else "fitted runs", heldout=p.heldout, tips=_tips(p.design))
        for p in parts
    ]
    caption = f"Final loss of every run against {plots.axis_label(x_name)}, with the fitted law drawn {EXTRAPOLATION_FACTOR:g}× beyond the data."
    return points, lines, caption


def _binned_groups(fit: FitResult, parts: Sequence[Evaluated], x_name: str) -> tuple[list[plots.Points], list[plots.Line], str]:
    """Runs grouped by the law's second input; a law with two inputs is drawn at each group's value."""
    law = _law(fit)
    others = [name for name in law.inputs if name != x_name]
    group_by = others[0]
    everything = np.concatenate([p.design.inputs[x_name] for p in parts])
    grid = np.geomspace(everything.min() / 1.5, everything.max() * EXTRAPOLATION_FACTOR, 80)
    fitted = parts[0].design
    keys = _group_keys(fitted.inputs[group_by], MAX_GROUPS)
    points, lines = [], []
    for key in np.unique(keys):
        mask = keys == key
        points.append(plots.Points(fitted.inputs[x_name][mask], fitted.loss[mask], f"{_short(group_by)} ≈ {key:.3g}", tips=_tips(fitted, mask)))
        if len(others) == 1:
            band = law_band(fit, law.design_at(**{x_name: grid, group_by: np.full(grid.shape, key)}))
            lines.append(plots.Line(grid, band.loss, "_nolegend_", band.lo, band.hi))
    for part in parts[1:]:
        points.append(plots.Points(part.design.inputs[x_name], part.design.loss, "held-out runs", heldout=True, tips=_tips(part.design)))
    caption = f"Final loss against {plots.axis_label(x_name)}, fitted runs grouped by {plots.axis_label(group_by)}" + (
        ", each group with the law at its value of that variable."
        if len(others) == 1
        else "; the law has more inputs than a line can show, so its fit is judged in the residual plot."
    )
    return points, lines, caption


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


def _curves(fit: FitResult, parts: Sequence[Evaluated]) -> list[plots.Curve]:
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


def _panel_curves(curves: Sequence[plots.Curve]) -> list[plots.Curve]:
    """At most MAX_PANELS curves: every held-out run first, then fitted runs evenly spread."""
    heldout = [c for c in curves if c.observed.heldout]
    fitted = [c for c in curves if not c.observed.heldout]
    room = max(MAX_PANELS - len(heldout), 0)
    if len(fitted) > room:
        fitted = [fitted[i] for i in np.unique(np.linspace(0, len(fitted) - 1, room).round().astype(int))] if room else []
    kept = {id(c) for c in heldout + fitted}
    return [c for c in curves if id(c) in kept]


def _residual_figure(fit: FitResult, parts: Sequence[Evaluated], source: str) -> plots.Figure:
    predicted = np.concatenate([p.band.loss for p in parts])
    observed = np.concatenate([p.design.loss for p in parts])
    heldout = np.concatenate([np.full(p.design.n, p.heldout) for p in parts])
    return plots.residuals_figure(predicted, observed, heldout=heldout, title=f"{_law(fit).name}: residuals on {source}")


def _bootstrap_figure(fit: FitResult) -> plots.Figure | None:
    replicates = _replicates(fit)
    if replicates is None:
        return None
    law = _law(fit)
    names = law.param_names
    # Parameters fitted in log space (coefficients spanning decades) are shown as log10.
    shown = {p.name: (f"log10 {p.name}" if p.log else p.name) for p in law.params}
    samples = {shown[name]: (np.log10(replicates[:, i]) if shown[name] != name else replicates[:, i]) for i, name in enumerate(names)}
    derived_draws = [law.derived(dict(zip(names, row))) for row in replicates]
    for key in fit.derived:
        if key not in names:
            samples[key] = np.array([d.get(key, np.nan) for d in derived_draws], dtype=float)

    def display(name: str, value: float) -> float:
        return float(np.log10(value)) if shown.get(name, name) != name else float(value)

    estimates = {shown.get(k, k): display(k, v) for k, v in {**_values(fit), **fit.derived}.items()}
    intervals = {shown.get(k, k): (display(k, v[0]), display(k, v[1])) for k, v in {**fit.ci, **fit.derived_ci}.items()}
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


def _parameter_rows(fit: FitResult) -> list[dict[str, object]]:
    law = _law(fit)
    values = _values(fit)
    intervals = dict(fit.ci)
    on_bound = set(fit.diagnostics.on_bound)
    rows = []
    for param in law.params:
        value = values[param.name]
        lo, hi = intervals.get(param.name, (None, None))
        held = param.name in fit.options.get("fix", {}) if isinstance(fit.options.get("fix"), Mapping) else False
        note = " (ON A BOUND)" if param.name in on_bound else (" (held fixed)" if held else "")
        rows.append(
            {
                "parameter": param.name,
                "meaning": param.meaning,
                "estimate": value,
                "interval low": None if lo is None else float(lo),
                "interval high": None if hi is None else float(hi),
                "bounds": f"{html.format_number(param.lower)} … {html.format_number(param.upper)}{note}",
            }
        )
    return rows


def _derived_rows(fit: FitResult) -> list[dict[str, object]]:
    intervals = dict(fit.derived_ci)
    rows = []
    for name, value in fit.derived.items():
        lo, hi = intervals.get(name, (None, None))
        rows.append({"quantity": name, "estimate": float(value), "interval low": lo, "interval high": hi})
    return rows


def _evaluation_rows(scores: Mapping[str, Any]) -> list[dict[str, object]]:
    """Scores of the fit's predictions on held-out runs: one row per run, then all together."""
    rows = [dict(row) for row in scores["runs"]]
    overall = {"run": f"all {len(rows)} held-out runs", **scores["overall"]}
    if all(row.get("n") == 1 for row in rows):  # final losses: one point per run, see the residual plot
        return [overall]
    return rows + [overall] if len(rows) > 1 else rows


# -- the section -------------------------------------------------------------------


def fit_section(entry: FitEntry, *, key: str) -> html.Section:
    """Everything about one fit: what was fitted, how well, how sure, and the plots."""
    fit, runs, heldout = entry.fit, entry.runs, entry.heldout
    law = _law(fit)
    level = f"{100 * _level(fit):.0f}%"
    source = _source_name(runs) if runs is not None else "the fit's data"
    summary = [
        html.paragraph(f"Law {law.name}: {law.citation}."),
        html.preformatted(law.formula),
    ]
    scores = fit.evaluate(heldout) if heldout is not None else None
    fitted = f"Fitted on {fit.diagnostics.n_runs} runs ({fit.diagnostics.n_points} points)" + (f" from {source}" if runs is not None else "")
    if scores is not None:
        overall = scores["overall"]
        fitted += (
            f"; on {len(heldout)} held-out runs from {_source_name(heldout)} its predictions are off by "
            f"{100 * overall['mean_rel_error']:.2f}% on average and {100 * overall['worst_rel_error']:.2f}% at worst."
        )
    summary.append(html.paragraph(fitted if fitted.endswith(".") else fitted + "."))
    # Warnings open the section, right under the summary: they say what not to trust below.
    warnings = _warnings(fit)
    summary += [html.notice(w, level="warning") for w in warnings] or [html.notice("No warnings: the fit converged, no parameter sits on a bound and the diagnostics raised nothing.", level="ok")]
    if fit.bootstrap_params is not None and fit.diagnostics.n_runs < MIN_BOOTSTRAP_RUNS:
        summary.append(html.notice(
            f"The intervals come from resampling runs, and this fit has {fit.diagnostics.n_runs} run(s): "
            "they cannot show how much the parameters would change with other runs, so read them as too narrow.",
            level="warning",
        ))
    diagnostics = [
        html.paragraph("Every check the engine ran (the guide's 'Reading the diagnostics' explains each)."),
        html.table(["diagnostic", "value"], _diagnostic_rows(fit)),
    ]
    parameters = [html.table(["parameter", "meaning", "estimate", "interval low", "interval high", "bounds"], _parameter_rows(fit), caption=f"Fitted parameters with {level} intervals")]
    derived = _derived_rows(fit)
    if derived:
        parameters.append(html.table(["quantity", "estimate", "interval low", "interval high"], derived, caption="Derived quantities"))
    children = [
        html.Section("Parameters", parameters),
        html.Section("Plots", _plot_blocks(fit, runs, heldout, source, key)),
    ]
    if scores is not None:
        rows = _evaluation_rows(scores)
        if rows:
            explain = html.paragraph("Predictions for runs the fit never saw: n points, R², mean absolute error, root mean square error, and the mean and worst relative error (PredE and WorstE in Luo et al. 2025).")
            children.append(html.Section("Held-out evaluation", [explain, html.table(list(rows[0]), rows)]))
    children.append(html.Section("Diagnostics", diagnostics))
    reproduce = [
        html.paragraph(f"Options of the fit (data hash {fit.data_hash[:16]}…, fitted range: {_ranges(fit)}):"),
        html.preformatted(json.dumps(_jsonable({"law": law.name, "law_options": law.options(), **fit.options}), indent=2, sort_keys=True)),
    ]
    children.append(html.Section("How this fit was produced", reproduce))
    return html.Section(entry.title or f"Fit: {law.name} on {source}", summary, children)


def _plot_blocks(fit: FitResult, runs: RunSet | None, heldout: RunSet | None, source: str, key: str) -> list[str]:
    law = _law(fit)
    blocks: list[str] = []
    if runs is not None:
        parts = [Evaluated(r, d, law_band(fit, d), h) for r, h in ((runs, False), (heldout, True)) if r is not None for d in [law.design(r)]]
        if law.kind == "final":
            figure, caption = _final_figure(fit, parts, source)
            blocks.append(html.figure(figure, caption=caption, key=f"{key}-final"))
        else:
            curves = _curves(fit, parts)
            overview = plots.loss_curves_figure(curves, title=f"{law.name}: loss curves on {source}")
            blocks.append(html.figure(overview, caption="All runs together: logged loss (dots) with the law fitted to each run (solid) and its prediction for held-out runs (dashed), with prediction-interval bands.", key=f"{key}-curves"))
            shown = _panel_curves(curves)
            panels = plots.loss_curve_panels_figure(shown, title=f"{law.name}: each run on {source}")
            omitted = f" {len(curves) - len(shown)} fitted runs are left out of the panels (all are in the plot above)." if len(shown) < len(curves) else ""
            blocks.append(html.figure(panels, caption="One panel per run, each on its own loss scale: logged loss in black, the fit in blue, the prediction for a held-out run in orange (dashed), bands are prediction intervals." + omitted, key=f"{key}-panels"))
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


def _ranges(fit: FitResult) -> str:
    parts = [f"{name} {html.format_number(lo)} to {html.format_number(hi)}" for name, (lo, hi) in fit.fitted_range.items()]
    return "; ".join(parts) or "not recorded"


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

