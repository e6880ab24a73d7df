"""The report section of one fitted law: summary, parameters, diagnostics, plots, held-out scores.

The figures come from :mod:`scalelaw.report.fit_plots`; this module adds the tables,
the warnings in plain words, and puts them in order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.fit.result import FitResult
from scalelaw.fit.tables import loss_source_text
from scalelaw.report import fit_plots, html, plots, reliability
from scalelaw.selection.table import candidate_rows

#: Fewer runs than this make run-resampling bootstrap intervals meaningless.
MIN_BOOTSTRAP_RUNS = 5


@dataclass(frozen=True)
class FitEntry:
    """One fit to report, with the runs it was fitted on and runs held out from it."""

    fit: FitResult
    runs: RunSet | None = None
    heldout: RunSet | None = None
    title: str | None = None


# -- what the section reads from a fit ---------------------------------------------


def _level(fit: FitResult) -> float:
    return float(fit.options.get("ci_level", 0.95))


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


# -- tables ------------------------------------------------------------------------


def _parameter_rows(fit: FitResult) -> list[dict[str, object]]:
    law = fit.law
    values = {k: float(v) for k, v in fit.params.items()}
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
    law = fit.law
    level = f"{100 * _level(fit):.0f}%"
    plotted = runs if runs is not None else heldout
    source = _source_name(plotted) if plotted is not None else "the fit's data"
    summary = [
        html.paragraph(f"Law {law.name}: {law.citation}."),
        html.preformatted(law.formula),
    ]
    scores = fit.evaluate(heldout) if heldout is not None else None
    fitted = f"Fitted on {fit.diagnostics.n_runs} runs ({fit.diagnostics.n_points} points)" + (f" from {source}" if runs is not None else "")
    if loss_from := loss_source_text(fit):
        fitted += f", loss read from {loss_from}"
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
    caption = (f"Fitted parameters with {level} intervals" if fit.ci else
               "Fitted parameters (no intervals: the fit has no bootstrap; refit with --bootstrap K)")
    parameters = [html.table(["parameter", "meaning", "estimate", "interval low", "interval high", "bounds"], _parameter_rows(fit), caption=caption)]
    derived = _derived_rows(fit)
    if derived:
        parameters.append(html.table(["quantity", "estimate", "interval low", "interval high"], derived, caption="Derived quantities"))
    children = [
        html.Section("Parameters", parameters),
        html.Section("Plots", _plot_blocks(fit, runs, heldout, source, key)),
    ]
    if fit.selection:
        children.insert(0, html.Section("How the law was chosen", _selection_blocks(fit)))
    if scores is not None:
        rows = _evaluation_rows(scores)
        if rows:
            explain = html.paragraph("Predictions for runs the fit never saw: n points, R², mean absolute error, root mean square error, and the mean and worst relative error (PredE and WorstE in Luo et al. 2025).")
            children.append(html.Section("Held-out evaluation", [explain, html.table(list(rows[0]), rows)]))
        observed = reliability.coverage(fit, heldout)
        figure = reliability.reliability_figure({law.name: (reliability.LEVELS, observed)}, title="Do the intervals hold on the held-out runs?")
        children.append(html.Section("Interval coverage", [html.figure(figure, caption="Share of held-out losses inside the prediction interval at each nominal level: on the diagonal the intervals mean what they say, below it they are too narrow, above it too wide.", key=f"{key}-reliability")]))
    children.append(html.Section("Diagnostics", diagnostics))
    reproduce = [
        *([html.paragraph(_inputs_text(fit.source))] if fit.source else []),
        html.paragraph(f"Options of the fit (data hash {fit.data_hash[:16]}…, fitted range: {_ranges(fit)}):"),
        html.preformatted(json.dumps(_jsonable({"law": law.name, "law_options": law.options(), **fit.options}), indent=2, sort_keys=True)),
    ]
    children.append(html.Section("How this fit was produced", reproduce))
    return html.Section(entry.title or f"Fit: {law.name} on {source}", summary, children)


def _inputs_text(source: Mapping[str, Any]) -> str:
    """Where `scalelaw fit` read the runs (the FIT.json's ``source`` record), with the reading options it was given."""
    options = [f"--map {m}" for m in source.get("map") or []] + [f"--set {m}" for m in source.get("set") or []]
    options += [f"--{name.replace('_', '-')} {source[name]}" for name in ("where", "format", "loss", "meta", "pattern")
                if source.get(name)]
    if source.get("loss_unit") not in (None, "nats"):
        options.append(f"--loss-unit {source['loss_unit']}")
    if source.get("bytes_per_token"):
        options.append(f"--bytes-per-token {source['bytes_per_token']:g}")
    data = [str(d) for d in source.get("data") or []]
    paths = any(not d.startswith("dataset:") for d in data)
    return f"Runs read from {', '.join(data)}" + (f" with {' '.join(options)}" if options else "") + \
        (" (paths relative to the FIT.json's folder)." if paths else ".")


def _selection_blocks(fit: FitResult) -> list[str]:
    """The backtest table of --law auto (or --calibrate) and the sentence on why the winner won."""
    selection = fit.selection or {}
    deciding = "; ".join(str(name) for name in selection.get("deciding_folds") or [])
    rows = candidate_rows(selection)
    folds = "; ".join(selection.get("folds", [])) or "none"
    unit = "Errors in accuracy points" if selection.get("unit") == "accuracy" else "Errors in % of the loss"
    caption = f"{unit} on the held-out runs: " + (f"on the deciding folds ({deciding}), then " if deciding else "") + \
        "mean over the folds beyond the data"
    blocks = [
        html.paragraph(f"Backtests across {selection.get('axis', 'scale')} (folds: {folds}). {selection.get('reason', '')}"),
        html.table(list(rows[0]), rows, caption=caption) if rows else "",
    ]
    if fit.calibration is not None:
        text = fit.calibration.describe(fit.diagnostics.residual_rmse)
        blocks.append(html.paragraph(f"The same backtests size the intervals: {text}."))
    else:
        blocks.append(html.notice("No backtest was possible, so the intervals leave out the law's own extrapolation error.", level="warning"))
    return [b for b in blocks if b]


def _plot_blocks(fit: FitResult, runs: RunSet | None, heldout: RunSet | None, source: str, key: str) -> list[str]:
    law = fit.law
    blocks: list[str] = []
    given = [(r, h) for r, h in ((runs, False), (heldout, True)) if r is not None]
    if given:
        parts = [fit_plots.Evaluated(r, d, fit_plots.law_band(fit, d), h) for r, h in given for d in [law.design(r)]]
        if law.kind == "final":
            figure, caption = fit_plots.final_figure(fit, parts, source)
            blocks.append(html.figure(figure, caption=caption, key=f"{key}-final"))
        else:
            curves = fit_plots.run_curves(parts)
            overview = plots.loss_curves_figure(curves, title=f"{law.name}: loss curves on {source}")
            blocks.append(html.figure(overview, caption="All runs together: logged loss (dots) with the law fitted to each run (solid) and its prediction for held-out runs (dashed), with prediction-interval bands.", key=f"{key}-curves"))
            shown = fit_plots.panel_curves(curves)
            panels = plots.loss_curve_panels_figure(shown, title=f"{law.name}: each run on {source}")
            omitted = f" {len(curves) - len(shown)} fitted runs are left out of the panels (all are in the plot above)." if len(shown) < len(curves) else ""
            blocks.append(html.figure(panels, caption="One panel per run, each on its own loss scale: logged loss in black, the fit in blue, the prediction for a held-out run in orange (dashed), bands are prediction intervals." + omitted, key=f"{key}-panels"))
        held = " Held-out points are predictions the fit never saw." if any(p.heldout for p in parts) else ""
        blocks.append(html.figure(fit_plots.residual_figure(fit, parts, source), caption="Left: observed against predicted loss; right: relative residuals in percent." + held, key=f"{key}-residuals"))
        schedules = {name: lr for r, _ in given for name, lr in fit_plots.schedules_of(r).items()}
        if schedules:
            blocks.append(html.figure(plots.schedules_figure(schedules, title=f"Learning-rate schedules of {source}"), caption="The learning-rate schedule of each run.", key=f"{key}-schedules"))
    bootstrap = fit_plots.bootstrap_figure(fit)
    if bootstrap is not None:
        blocks.append(html.figure(bootstrap, caption="Spread of each parameter and derived quantity over the bootstrap replicates: a wide or many-peaked histogram means the data do not pin it down.", key=f"{key}-bootstrap"))
    if not given:
        blocks.insert(0, html.notice(
            "The law is not drawn on its data: the report was given no runs. Give the fitted runs with "
            "`scalelaw report FIT.json --fit-data DATA` (a FIT.json written by `scalelaw fit --out` records them, and "
            "the report reads them back itself while they are unchanged)." + (
                "" if blocks else " Nor are there bootstrap replicates to plot: refit with --bootstrap K."),
            level="warning"))
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

