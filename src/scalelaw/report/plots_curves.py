"""Figures of loss curves: runs with the law fitted or predicted, one panel per run, and lr schedules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from scalelaw.report.plots_style import (
    LOSS_LABEL,
    RASTER_ABOVE,
    Line,
    Points,
    axis_label,
    colors_for,
    draw_line,
    new_figure,
    styled_axes,
    thin,
)


@dataclass(frozen=True)
class Curve:
    """One run's loss curve: observations, and the law's curve (fitted or predicted)."""

    name: str
    observed: Points
    law: Line | None = None


def loss_curves_figure(curves: Sequence[Curve], *, title: str, x_variable: str = "step") -> Figure:
    """Loss curves of several runs: the logged loss, and the law fitted or predicted.

    Fitted runs have a solid law line; held-out runs a dashed prediction, with its
    band, over their hollow (held-out truth) markers.
    """
    fig = new_figure(9.0, 4.8)
    ax = styled_axes(fig, 1, 1, 1)
    colors = colors_for(len(curves))
    for curve, color in zip(curves, colors):
        observed = thin(curve.observed)
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
            draw_line(ax, Line(curve.law.x, curve.law.y, curve.name, curve.law.lo, curve.law.hi, curve.law.predicted), color)
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
    fig = new_figure(max(7.0, 3.3 * columns + 0.4), 2.5 * rows + 0.6)
    for i, curve in enumerate(curves):
        ax = styled_axes(fig, rows, columns, i + 1)
        observed = thin(curve.observed)
        ax.scatter(observed.x, observed.y, s=6, color="black", alpha=0.5, linewidths=0, label="logged loss", zorder=2, rasterized=len(observed.x) > RASTER_ABOVE // 4)
        if curve.law is not None:
            color = "tab:orange" if curve.law.predicted else "tab:blue"
            label = "prediction" if curve.law.predicted else "fit"
            draw_line(ax, Line(curve.law.x, curve.law.y, label, curve.law.lo, curve.law.hi, curve.law.predicted), color)
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


def schedules_figure(schedules: Mapping[str, tuple[np.ndarray, np.ndarray]], *, title: str) -> Figure:
    """Learning rate against step, one line per run."""
    fig = new_figure(8.5, 3.8)
    ax = styled_axes(fig, 1, 1, 1)
    colors = colors_for(len(schedules))
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
