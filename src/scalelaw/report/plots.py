"""Matplotlib figures of scaling-law fits, built from plain arrays.

Every function takes numbers (no fit objects, no files) and returns a
:class:`matplotlib.figure.Figure` made without pyplot, so plotting has no global
state and works headless. :func:`save_figure` (PNG or SVG) and :func:`figure_svg`
(the SVG text the HTML report inlines) come from :mod:`scalelaw.report.svg`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from scalelaw.report.svg import TIP_PREFIX, TIPS_ATTRIBUTE, figure_svg, save_figure

#: Axis labels, with units, for the columns of the run table.
AXIS_LABELS: dict[str, str] = {
    "params": "Model size N (parameters)",
    "non_embedding_params": "Non-embedding model size N (parameters)",
    "tokens": "Training data D (tokens)",
    "unique_tokens": "Unique data U (tokens)",
    "flops": "Compute C (FLOPs)",
    "step": "Training step",
    "batch_size": "Batch size (tokens per step)",
    "lr": "Learning rate",
}
LOSS_LABEL = "Loss (nats per token)"

#: Most points drawn per curve; long curves are thinned evenly so the SVG stays small.
MAX_POINTS_PER_CURVE = 250
#: Scatters with more points than this are drawn as an embedded bitmap inside the SVG.
RASTER_ABOVE = 400

_STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Points:
    """Observed losses to draw as markers; ``tips`` are hover texts, one per point."""

    x: np.ndarray
    y: np.ndarray
    label: str
    heldout: bool = False
    tips: Sequence[str] | None = None


@dataclass(frozen=True)
class Line:
    """A fitted or predicted curve, with an optional interval band ``lo``..``hi``."""

    x: np.ndarray
    y: np.ndarray
    label: str
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    predicted: bool = False


@dataclass(frozen=True)
class Curve:
    """One run's loss curve: observations, and the law's curve (fitted or predicted)."""

    name: str
    observed: Points
    law: Line | None = None


@dataclass(frozen=True)
class IsoflopProfile:
    """Losses of models of several sizes trained with one compute budget."""

    flops: float
    params: np.ndarray
    loss: np.ndarray
    fit: Line | None = None
    optimum: tuple[float, float] | None = None


def axis_label(variable: str) -> str:
    """The axis label with units for a run-table column (the column name if unknown)."""
    return AXIS_LABELS.get(variable, variable)


def _new_figure(width: float = 7.0, height: float = 4.4) -> Figure:
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def _styled_axes(fig: Figure, *args: int) -> matplotlib.axes.Axes:
    with matplotlib.rc_context(_STYLE):
        return fig.add_subplot(*args)


def _colors(count: int) -> list[tuple[float, float, float, float]]:
    """Distinct colours: tab10 for up to ten series, viridis beyond."""
    cmap = matplotlib.colormaps["tab10" if count <= 10 else "viridis"]
    if count <= 10:
        return [cmap(i) for i in range(count)]
    return [cmap(i / max(count - 1, 1)) for i in range(count)]


def _thin(points: Points, limit: int = MAX_POINTS_PER_CURVE) -> Points:
    n = len(points.x)
    if n <= limit:
        return points
    keep = np.unique(np.linspace(0, n - 1, limit).round().astype(int))
    tips = [points.tips[i] for i in keep] if points.tips is not None else None
    return Points(np.asarray(points.x)[keep], np.asarray(points.y)[keep], points.label, points.heldout, tips)


def _draw_points(ax: matplotlib.axes.Axes, points: Points, color: object, *, size: float = 22) -> None:
    """Every point (one per run: none is thinned away), hollow diamonds when held out."""
    marker = "D" if points.heldout else "o"
    collection = ax.scatter(
        points.x,
        points.y,
        s=size,
        marker=marker,
        facecolors="none" if points.heldout else color,
        edgecolors=color,
        linewidths=1.2,
        label=points.label,
        zorder=3,
    )
    if points.tips is not None:
        tips: dict[str, list[str]] = ax.figure.__dict__.setdefault(TIPS_ATTRIBUTE, {})
        gid = f"{TIP_PREFIX}{len(tips)}"
        tips[gid] = list(points.tips)
        collection.set_gid(gid)


def _draw_line(ax: matplotlib.axes.Axes, line: Line, color: object) -> None:
    if line.lo is not None and line.hi is not None:
        ax.fill_between(line.x, line.lo, line.hi, color=color, alpha=0.18, linewidth=0, zorder=1)
    ax.plot(line.x, line.y, color=color, linestyle="--" if line.predicted else "-", linewidth=1.8, label=line.label, zorder=2)


def final_loss_figure(
    points: Sequence[Points],
    lines: Sequence[Line],
    *,
    variable: str,
    title: str,
) -> Figure:
    """Final loss against one scale variable (N, D or C): data, fitted law and its band.

    ``points`` and ``lines`` are paired by position for colour (a group of runs and
    the law evaluated for that group); extra lines get their own colours.
    """
    fig = _new_figure()
    ax = _styled_axes(fig, 1, 1, 1)
    colors = _colors(max(len(points), len(lines), 1))
    for i, line in enumerate(lines):
        _draw_line(ax, line, colors[i % len(colors)])
    for i, group in enumerate(points):
        _draw_points(ax, group, colors[i % len(colors)])
    ax.set_xscale("log")
    _fit_y_to_points(ax, points)
    ax.set_xlabel(axis_label(variable))
    ax.set_ylabel(LOSS_LABEL)
    ax.set_title(title)
    _legend(ax)
    return fig


def _fit_y_to_points(ax: matplotlib.axes.Axes, points: Sequence[Points]) -> None:
    """Scale the loss axis to the observations, so a wide band or a runaway line cannot hide them."""
    ys = np.concatenate([np.asarray(p.y, dtype=float) for p in points]) if points else np.array([])
    ys = ys[np.isfinite(ys)]
    if ys.size:
        low, high = float(ys.min()), float(ys.max())
        pad = 0.08 * (high - low or abs(high) or 1.0)
        ax.set_ylim(low - pad, high + pad)


def isoflop_figure(profiles: Sequence[IsoflopProfile], *, title: str, optimum_law: Line | None = None) -> Figure:
    """IsoFLOP profiles (loss against N at fixed compute) with their optima.

    With any optimum, a second panel shows the optimal size N* against compute C,
    with ``optimum_law`` (e.g. the fitted power law N* = k C^a) when given.
    """
    has_optima = any(p.optimum is not None for p in profiles)
    fig = _new_figure(11.0 if has_optima else 7.0, 4.6)
    ax = _styled_axes(fig, 1, 2 if has_optima else 1, 1)
    ordered = sorted(profiles, key=lambda p: p.flops)
    many = len(ordered) > 6
    norm = matplotlib.colors.LogNorm(ordered[0].flops, ordered[-1].flops) if many and ordered[0].flops < ordered[-1].flops else None
    colors = [matplotlib.colormaps["viridis"](norm(p.flops)) for p in ordered] if norm else _colors(len(ordered))
    for profile, color in zip(ordered, colors):
        label = "_nolegend_" if norm else f"C = {profile.flops:.3g} FLOPs"
        order = np.argsort(profile.params)
        ax.plot(np.asarray(profile.params)[order], np.asarray(profile.loss)[order], color=color, linewidth=0.8, alpha=0.6, zorder=2)
        ax.scatter(profile.params, profile.loss, s=20, color=color, label=label, zorder=3)
        if profile.fit is not None:
            _draw_line(ax, Line(profile.fit.x, profile.fit.y, "_nolegend_", profile.fit.lo, profile.fit.hi), color)
        if profile.optimum is not None:
            ax.scatter([profile.optimum[0]], [profile.optimum[1]], marker="*", s=160, color=color, edgecolors="black", linewidths=0.7, zorder=4)
    ax.set_xscale("log")
    _focus_on_optima(ax, ordered)
    ax.set_xlabel(axis_label("params"))
    ax.set_ylabel(LOSS_LABEL)
    ax.set_title("Loss at fixed compute (stars: optima)")
    if norm:
        fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax, label="Compute budget C (FLOPs)")
    else:
        _legend(ax)
    if has_optima:
        right = _styled_axes(fig, 1, 2, 2)
        optima = [(p.flops, p.optimum[0]) for p in ordered if p.optimum is not None]
        right.scatter([c for c, _ in optima], [n for _, n in optima], marker="*", s=140, color="black", label="optimum per budget", zorder=3)
        if optimum_law is not None:
            _draw_line(right, optimum_law, "tab:red")
        right.set_xscale("log")
        right.set_yscale("log")
        right.set_xlabel(axis_label("flops"))
        right.set_ylabel("Optimal model size N* (parameters)")
        right.set_title("Compute-optimal model size")
        _legend(right)
    fig.suptitle(title)
    return fig


def _focus_on_optima(ax: matplotlib.axes.Axes, profiles: Sequence[IsoflopProfile]) -> None:
    """Cut the loss axis above the optima, so far-off-optimum models do not flatten the profiles."""
    optima = [p.optimum[1] for p in profiles if p.optimum is not None]
    losses = np.concatenate([np.asarray(p.loss, dtype=float) for p in profiles]) if profiles else np.array([])
    if not optima or not losses.size:
        return
    low, high = min(optima), max(optima)
    top = high + max(1.0 * (high - low), 0.05 * high)
    if top < losses.max():
        ax.set_ylim(min(losses.min(), low) - 0.02 * (top - low), top)


def loss_curves_figure(curves: Sequence[Curve], *, title: str, x_variable: str = "step") -> Figure:
    """Loss curves of several runs: the logged loss, and the law fitted or predicted.

    Fitted runs have a solid law line; held-out runs a dashed prediction, with its
    band, over their hollow (held-out truth) markers.
    """
    fig = _new_figure(9.0, 4.8)
    ax = _styled_axes(fig, 1, 1, 1)
    colors = _colors(len(curves))
    for curve, color in zip(curves, colors):
        observed = _thin(curve.observed)
        ax.scatter(
            observed.x,
            observed.y,
            s=7,
            color=color,
            alpha=0.45 if not observed.heldout else 0.8,
            marker="o",
            linewidths=0,
            zorder=2,
            rasterized=sum(len(c.observed.x) for c in curves) > RASTER_ABOVE,
        )
        if curve.law is not None:
            _draw_line(ax, Line(curve.law.x, curve.law.y, curve.name, curve.law.lo, curve.law.hi, curve.law.predicted), color)
        else:
            ax.plot([], [], color=color, label=curve.name)
    ys = np.concatenate([np.asarray(c.observed.y, dtype=float) for c in curves]) if curves else np.array([])
    ys = ys[np.isfinite(ys)]
    if ys.size:
        low, high = np.quantile(ys, [0.0, 0.98])
        pad = 0.05 * (high - low or 1.0)
        ax.set_ylim(low - pad, high + pad)
    ax.set_xlabel(axis_label(x_variable))
    ax.set_ylabel(LOSS_LABEL)
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    style = [
        matplotlib.lines.Line2D([], [], color="grey", linestyle="-", label="law fitted to this run"),
        matplotlib.lines.Line2D([], [], color="grey", linestyle="--", label="law's prediction (held-out run)"),
        matplotlib.lines.Line2D([], [], color="grey", marker="o", linestyle="", markersize=3, label="logged loss"),
    ]
    ax.legend(handles=handles + style, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def loss_curve_panels_figure(curves: Sequence[Curve], *, title: str, x_variable: str = "step") -> Figure:
    """One small panel per run, each on its own loss scale, so close curves can be told apart."""
    columns = min(3, max(len(curves), 1))
    rows = max(1, -(-len(curves) // columns))
    fig = _new_figure(max(7.0, 3.3 * columns + 0.4), 2.5 * rows + 0.6)
    for i, curve in enumerate(curves):
        ax = _styled_axes(fig, rows, columns, i + 1)
        observed = _thin(curve.observed)
        ax.scatter(observed.x, observed.y, s=6, color="black", alpha=0.5, linewidths=0, label="logged loss", zorder=2, rasterized=len(observed.x) > RASTER_ABOVE // 4)
        if curve.law is not None:
            color = "tab:orange" if curve.law.predicted else "tab:blue"
            label = "prediction" if curve.law.predicted else "fit"
            _draw_line(ax, Line(curve.law.x, curve.law.y, label, curve.law.lo, curve.law.hi, curve.law.predicted), color)
        ys = np.asarray(curve.observed.y, dtype=float)
        ys = ys[np.isfinite(ys)]
        if ys.size:
            low, high = np.quantile(ys, [0.0, 0.95])
            pad = 0.06 * (high - low or 1.0)
            ax.set_ylim(low - pad, high + pad)
        ax.set_title(f"{curve.name} ({'held out' if curve.observed.heldout else 'fitted'})", fontsize=9)
        ax.tick_params(labelsize=7.5)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        if i % columns == 0:
            ax.set_ylabel("Loss (nats/token)", fontsize=8.5)
        if i >= (rows - 1) * columns:
            ax.set_xlabel(axis_label(x_variable), fontsize=8.5)
        if i == 0:
            ax.legend(fontsize=7, frameon=False)
    fig.suptitle(title)
    return fig


def residuals_figure(
    predicted: np.ndarray,
    observed: np.ndarray,
    *,
    title: str,
    heldout: np.ndarray | None = None,
    x: np.ndarray | None = None,
    x_variable: str | None = None,
) -> Figure:
    """Observed against predicted loss (left) and relative residuals in percent (right).

    ``heldout`` marks points the law was not fitted on; ``x`` puts the residuals
    against a scale variable instead of the predicted loss.
    """
    predicted = np.asarray(predicted, dtype=float)
    observed = np.asarray(observed, dtype=float)
    mask = np.zeros(predicted.shape, dtype=bool) if heldout is None else np.asarray(heldout, dtype=bool)
    fig = _new_figure(10.0, 4.2)
    parity = _styled_axes(fig, 1, 2, 1)
    spread = _styled_axes(fig, 1, 2, 2)
    relative = 100.0 * (observed - predicted) / predicted
    along = predicted if x is None else np.asarray(x, dtype=float)
    finite = np.isfinite(predicted) & np.isfinite(observed)
    for subset, label, style in ((~mask, "fitted points", "o"), (mask, "held-out points", "D")):
        subset = subset & finite
        if not subset.any():
            continue
        color = "tab:blue" if style == "o" else "tab:orange"
        dense = int(finite.sum()) > RASTER_ABOVE
        parity.scatter(predicted[subset], observed[subset], s=14, marker=style, color=color, label=label, alpha=0.75, rasterized=dense)
        spread.scatter(along[subset], relative[subset], s=14, marker=style, color=color, label=label, alpha=0.75, rasterized=dense)
    if finite.any():
        low = float(min(predicted[finite].min(), observed[finite].min()))
        high = float(max(predicted[finite].max(), observed[finite].max()))
        parity.plot([low, high], [low, high], color="black", linewidth=1, label="observed = predicted")
    spread.axhline(0.0, color="black", linewidth=1)
    parity.set_xlabel(f"Predicted {LOSS_LABEL[0].lower()}{LOSS_LABEL[1:]}")
    parity.set_ylabel(f"Observed {LOSS_LABEL[0].lower()}{LOSS_LABEL[1:]}")
    parity.set_title("Observed against predicted")
    spread.set_ylabel("Residual (observed − predicted) / predicted (%)")
    if x is None:
        spread.set_xlabel(f"Predicted {LOSS_LABEL[0].lower()}{LOSS_LABEL[1:]}")
    else:
        spread.set_xlabel(axis_label(x_variable or "x"))
        spread.set_xscale("log")
    spread.set_title("Relative residuals")
    _legend(parity)
    _legend(spread)
    fig.suptitle(title)
    return fig


def bootstrap_figure(
    samples: Mapping[str, np.ndarray],
    *,
    title: str,
    estimates: Mapping[str, float] | None = None,
    intervals: Mapping[str, tuple[float, float]] | None = None,
) -> Figure:
    """Histograms of bootstrap replicates, one panel per parameter or derived quantity.

    The point estimate is a solid line and the interval's ends dashed lines.
    """
    names = [n for n, v in samples.items() if np.isfinite(np.asarray(v, dtype=float)).any()]
    columns = min(4, max(len(names), 1))
    rows = max(1, -(-len(names) // columns))
    fig = _new_figure(2.6 * columns + 0.6, 2.3 * rows + 0.6)
    for i, name in enumerate(names):
        ax = _styled_axes(fig, rows, columns, i + 1)
        values = np.asarray(samples[name], dtype=float)
        values = values[np.isfinite(values)]
        ax.hist(values, bins=min(30, max(5, values.size // 10)), color="tab:blue", alpha=0.7)
        if estimates is not None and name in estimates:
            ax.axvline(estimates[name], color="black", linewidth=1.5)
        if intervals is not None and name in intervals:
            for end in intervals[name]:
                ax.axvline(end, color="tab:red", linestyle="--", linewidth=1.2)
        ax.set_title(textwrap.shorten(name.replace("_", " "), width=26, placeholder="…"), fontsize=9.5)
        ax.set_xlabel("value")
        ax.set_ylabel("replicates")
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"{title} (solid: estimate, dashed: interval ends)")
    return fig


def schedules_figure(schedules: Mapping[str, tuple[np.ndarray, np.ndarray]], *, title: str) -> Figure:
    """Learning rate against step, one line per run."""
    fig = _new_figure(8.5, 3.8)
    ax = _styled_axes(fig, 1, 1, 1)
    colors = _colors(len(schedules))
    for (name, (step, lr)), color in zip(schedules.items(), colors):
        keep = _schedule_points(np.asarray(lr, dtype=float))
        ax.plot(np.asarray(step)[keep], np.asarray(lr)[keep], color=color, linewidth=1.6, label=name)
    ax.set_xlabel(axis_label("step"))
    ax.set_ylabel(axis_label("lr"))
    ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    ax.set_title(title)
    if len(schedules) > 1:
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _schedule_points(lr: np.ndarray, limit: int = 1500) -> np.ndarray:
    """Indices that draw a schedule faithfully: evenly spaced ones plus both sides of every jump."""
    n = lr.size
    if n <= limit:
        return np.arange(n)
    steps = np.abs(np.diff(lr))
    jumps = np.flatnonzero(steps > 1e-3 * (np.nanmax(lr) - np.nanmin(lr) or 1.0) * 50)
    keep = np.concatenate([np.linspace(0, n - 1, limit).round().astype(int), jumps, jumps + 1])
    return np.unique(keep)


def _legend(ax: matplotlib.axes.Axes) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False)


__all__ = [
    "AXIS_LABELS", "LOSS_LABEL", "Curve", "Figure", "IsoflopProfile", "Line", "Points", "axis_label",
    "bootstrap_figure", "figure_svg", "final_loss_figure", "isoflop_figure", "loss_curve_panels_figure",
    "loss_curves_figure", "residuals_figure", "save_figure", "schedules_figure",
]
