"""Figures of one fitted law on its runs: final loss, loss curves, residuals, bootstrap, schedules.

Every curve and band comes from the fit's own ``predict_design`` (the law at the
fitted parameters, and the prediction interval from the bootstrap replicates plus
resampled residuals), so the plots show exactly the fit the tables describe.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning
from scalelaw.fit.result import FitResult
from scalelaw.laws.base import Design
from scalelaw.report import plots

#: How far beyond the data the law's line is drawn, as a factor on the largest input.
EXTRAPOLATION_FACTOR = 10.0
#: At most this many groups of runs get their own colour and law line.
MAX_GROUPS = 6
#: At most this many per-run loss-curve panels (held-out runs first).
MAX_PANELS = 12
#: With more law lines than this in one plot, only predicted lines keep their band.
MAX_BANDS = 4
#: Runs with at most this many distinct FLOP budgets are drawn as isoFLOP profiles.
MAX_BUDGETS = 16


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


def _replicates(fit: FitResult) -> np.ndarray | None:
    if fit.bootstrap_params is None:
        return None
    samples = np.asarray(fit.bootstrap_params, dtype=float)
    return samples if samples.ndim == 2 and samples.shape[0] >= 2 else None


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


def final_figure(fit: FitResult, parts: Sequence[Evaluated], source: str) -> tuple[plots.Figure, str]:
    """Final loss against the law's main variable, with the law drawn for groups of runs."""
    law = fit.law
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
    law = fit.law
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
    law = fit.law
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
    law = fit.law
    others = [name for name in law.inputs if name != x_name]
    group_by = others[0]
    everything = np.concatenate([p.design.inputs[x_name] for p in parts])
    grid = np.geomspace(everything.min() / 1.5, everything.max() * EXTRAPOLATION_FACTOR, 80)
    grouped = parts[0]  # the fitted runs, or the held-out ones when the fit's own are not given
    design = grouped.design
    keys = _group_keys(design.inputs[group_by], MAX_GROUPS)
    points, lines = [], []
    for key in np.unique(keys):
        mask = keys == key
        label = f"{_short(group_by)} ≈ {key:.3g}" + (" (held out)" if grouped.heldout else "")
        points.append(plots.Points(design.inputs[x_name][mask], design.loss[mask], label, heldout=grouped.heldout, tips=_tips(design, mask)))
        if len(others) == 1:
            band = law_band(fit, law.design_at(**{x_name: grid, group_by: np.full(grid.shape, key)}))
            lines.append(plots.Line(grid, band.loss, "_nolegend_", band.lo, band.hi, predicted=grouped.heldout))
    for part in parts[1:]:
        points.append(plots.Points(part.design.inputs[x_name], part.design.loss, "held-out runs", heldout=True, tips=_tips(part.design)))
    caption = f"Final loss against {plots.axis_label(x_name)}, runs grouped by {plots.axis_label(group_by)}" + (
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


def run_curves(parts: Sequence[Evaluated]) -> list[plots.Curve]:
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


def panel_curves(curves: Sequence[plots.Curve]) -> list[plots.Curve]:
    """At most MAX_PANELS curves: every held-out run first, then fitted runs evenly spread."""
    heldout = [c for c in curves if c.observed.heldout]
    fitted = [c for c in curves if not c.observed.heldout]
    room = max(MAX_PANELS - len(heldout), 0)
    if len(fitted) > room:
        fitted = [fitted[i] for i in np.unique(np.linspace(0, len(fitted) - 1, room).round().astype(int))] if room else []
    kept = {id(c) for c in heldout + fitted}
    return [c for c in curves if id(c) in kept]


def residual_figure(fit: FitResult, parts: Sequence[Evaluated], source: str) -> plots.Figure:
    """Observed against predicted loss, fitted and held-out points apart."""
    predicted = np.concatenate([p.band.loss for p in parts])
    observed = np.concatenate([p.design.loss for p in parts])
    heldout = np.concatenate([np.full(p.design.n, p.heldout) for p in parts])
    return plots.residuals_figure(predicted, observed, heldout=heldout, title=f"{fit.law.name}: residuals on {source}")


def bootstrap_figure(fit: FitResult) -> plots.Figure | None:
    """Histograms of the bootstrap replicates of every parameter and derived quantity (None without)."""
    replicates = _replicates(fit)
    if replicates is None:
        return None
    law = fit.law
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

    estimates = {shown.get(k, k): display(k, float(v)) for k, v in {**fit.params, **fit.derived}.items()}
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
