"""The task page: for each task, accuracy against bits per byte with the fitted sigmoid, and the forecast.

One figure per task shows every checkpoint step 2 was fitted on, the sigmoid with a band
from its bootstrap parameter sets, and each forecast as a point with its interval in
both bpb (step 1) and accuracy (both steps); the part of the curve beyond the bpb seen
is dashed, since there the sigmoid extrapolates.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from scalelaw.data.runs import RunSet
from scalelaw.fit.result import FitResult
from scalelaw.fit.two_step import TwoStepFit
from scalelaw.laws.base import Design
from scalelaw.plan.tasks import Task, TaskForecast, forecast_table
from scalelaw.report import html

_STYLE = {"font.size": 10, "axes.titlesize": 11, "legend.fontsize": 8.5, "axes.grid": True, "grid.alpha": 0.3}
#: Checkpoints drawn per task at most (evenly thinned), so the inline SVG stays small.
MAX_POINTS = 400


def _curve(forecast: TaskForecast, x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The step-2 sigmoid at ``x`` and the percentile band of its bootstrap parameter sets."""
    fit = forecast.fit.step2
    design = Design(inputs={fit.law.inputs[0]: x}, loss=np.full(x.size, np.nan), run=np.array(["curve"] * x.size))
    point = fit.law.predict(fit.theta[None, :], design)[0]
    draws = fit.bootstrap_params
    if draws is None:
        return point, None, None
    values = fit.law.predict(draws[np.all(np.isfinite(draws), axis=1)], design)
    lo, hi = np.nanquantile(values, ((1 - level) / 2, (1 + level) / 2), axis=0)
    return point, lo, hi


def task_figure(forecast: TaskForecast, *, level: float) -> Figure:
    """Accuracy against bpb: fitted checkpoints, the sigmoid (dashed beyond the bpb seen) and the forecasts."""
    step2 = forecast.fit.step2
    x_seen, y_seen = np.empty(0), np.empty(0)
    if forecast.runs is not None and forecast.task.accuracy in forecast.runs.columns:
        design = step2.law.design(forecast.runs.target(forecast.task.accuracy))
        keep = ~design.anchor if design.anchor is not None else np.ones(design.n, dtype=bool)
        x_seen, y_seen = np.asarray(design.inputs[step2.law.inputs[0]])[keep], design.loss[keep]
    if x_seen.size > MAX_POINTS:
        pick = np.unique(np.linspace(0, x_seen.size - 1, MAX_POINTS).round().astype(int))
        x_seen, y_seen = x_seen[pick], y_seen[pick]
    via = np.array([row["via_lo"] for row in forecast.rows] + [row["via_hi"] for row in forecast.rows])
    low, high = forecast.fit.via_range
    left = min(low, float(np.nanmin(via))) if via.size else low
    grid = np.linspace(left - 0.05 * (high - left), high, 200)
    value, lo, hi = _curve(forecast, grid, level)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(6.4, 4.2), layout="constrained")
        ax = fig.add_subplot(1, 1, 1)
        if x_seen.size:
            ax.scatter(x_seen, 100 * y_seen, s=6, color="tab:blue", alpha=0.35, label="checkpoints (fitted)", zorder=2)
        inside = grid >= low
        if lo is not None and hi is not None:
            ax.fill_between(grid, 100 * lo, 100 * hi, color="tab:orange", alpha=0.2, linewidth=0, zorder=1)
        ax.plot(grid[inside], 100 * value[inside], color="tab:orange", linewidth=1.8, label="sigmoid (fitted range)", zorder=3)
        ax.plot(grid[~inside], 100 * value[~inside], color="tab:orange", linewidth=1.8, linestyle="--",
                label="sigmoid (extrapolated)", zorder=3)
        for i, row in enumerate(forecast.rows):
            ax.errorbar(
                [row["via"]], [100 * row["value"]],
                xerr=[[row["via"] - row["via_lo"]], [row["via_hi"] - row["via"]]],
                yerr=[[100 * (row["value"] - row["lo"])], [100 * (row["hi"] - row["value"])]],
                fmt="*", color="tab:red", markersize=11, capsize=3, zorder=4,
                label=f"forecast ({level:.0%} interval)" if i == 0 else "_nolegend_",
            )  # fmt: skip
        ax.set_xlabel("bits per byte")  # the columns' full names are in the caption
        ax.set_ylabel("accuracy (%)")
        ax.set_title(forecast.task.name)
        ax.legend(loc="best")
    return fig


def tasks_section(forecasts: Sequence[TaskForecast], *, level: float, key: str = "tasks") -> html.Section:
    """A report section: the forecast table, then one figure and its notes per task."""
    rows = [_display_row(row, level) for row in forecast_table(forecasts)]
    blocks = [
        html.paragraph(
            "Each task is forecast in two steps (Bhagia et al. 2024): a Chinchilla law from model and data size to the "
            "task's bits per byte, then a sigmoid from bits per byte to accuracy, fitted on every checkpoint. The interval "
            f"({level:.0%}) carries both steps' uncertainty, step 1's backtested error included. Where the forecast bits per byte is lower than any seen in "
            "fitting, the sigmoid extrapolates (the column 'sigmoid extrapolates')."
        ),
        html.table(list(rows[0]) if rows else ["task"], rows,
                   caption="Forecasts: accuracy in percent with its interval, the forecast bits per byte, whether the "
                           "sigmoid extrapolates there, and the highest accuracy any fitted checkpoint reached"),
    ]
    children = []
    for i, forecast in enumerate(forecasts):
        parts = [html.figure(task_figure(forecast, level=level), caption=_caption(forecast), key=f"{key}-{i}")]
        parts += [html.notice(note) for note in forecast.notes]
        children.append(html.Section(forecast.task.name, parts))
    return html.Section("Task forecasts", blocks, children)


_SHOWN = {"value", "lo", "hi", "via", "via_lo", "via_hi", "extrapolation_decades", "step2_extrapolates", "accuracy_seen_max"}


def _display_row(row: dict, level: float) -> dict[str, object]:
    """A forecast row as people read it: accuracy and its interval in percent, yes/no for the extrapolation."""
    inputs = {k: v for k, v in row.items() if k not in _SHOWN and k != "task"}
    return {
        "task": row["task"],
        **inputs,
        "accuracy %": f"{100 * row['value']:.1f}",
        f"{level:.0%} interval %": f"{100 * row['lo']:.1f} – {100 * row['hi']:.1f}",
        "bits per byte": row["via"],
        "sigmoid extrapolates": "yes" if row["step2_extrapolates"] else "no",
        "highest seen %": f"{100 * row['accuracy_seen_max']:.1f}",
    }


def _caption(forecast: TaskForecast) -> str:
    a, x0, k, b = (forecast.fit.step2.params[name] for name in ("a", "x0", "k", "b"))
    low, high = forecast.fit.via_range
    return (f"{forecast.task.accuracy} against {forecast.task.bpb}: ACC = {a:.3f} / (1 + exp(-{k:.2f} (bpb - {x0:.3f}))) "
            f"+ {b:.3f}, fitted on bpb {low:.3f}-{high:.3f}; stars: forecasts with their intervals.")


def metric_view(fit: FitResult, runs: RunSet | None) -> RunSet | None:
    """The runs as the fit saw them: its ``metric`` in the loss slot, smoothed as fitted."""
    metric = fit.options.get("metric")
    if runs is None or not isinstance(metric, str) or metric == "loss" or metric not in runs.columns:
        return runs
    return runs.target(metric, window=int(fit.options.get("window", 1) or 1))


def two_step_section(fit: TwoStepFit, runs: RunSet | None, *, key: str) -> html.Section:
    """A saved two-step fit: its sigmoid (or loss-to-loss) over the checkpoints of ``runs`` when given."""
    level = float(fit.step1.options.get("ci_level", 0.95))
    forecast = TaskForecast(Task(fit.metric, fit.metric, fit.via), fit, runs, [], [])  # type: ignore[arg-type]
    blocks = [
        html.paragraph(
            f"{fit.metric} forecast in two steps: {fit.step1.law.name} from (N, D) to {fit.via}, then "
            f"{fit.step2.law.name} from {fit.via} to {fit.metric}. Step 2 was fitted on {fit.via} in "
            f"[{fit.via_range[0]:.4g}, {fit.via_range[1]:.4g}]; forecasts outside it extrapolate."
        ),
        html.table(["name", "step 1", "step 2"], _parameter_rows(fit)),
    ]
    if fit.step2.law.name == "sigmoid":
        blocks.append(html.figure(task_figure(forecast, level=level), caption=_caption(forecast), key=f"{key}-sigmoid"))
    blocks += [html.notice(w) for w in fit.step1.diagnostics.warnings + fit.step2.diagnostics.warnings]
    return html.Section(f"Two-step fit of {fit.metric}", blocks)


def _parameter_rows(fit: TwoStepFit) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [{"name": k, "step 1": v, "step 2": ""} for k, v in fit.step1.params.items()]
    rows += [{"name": k, "step 1": "", "step 2": v} for k, v in fit.step2.params.items()]
    return rows
