"""What every scalelaw figure shares: axis labels, style, colours, and the drawing of points and lines.

The figures themselves are grouped by kind in ``plots_scaling`` (final loss, isoFLOP
profiles), ``plots_curves`` (loss curves, schedules) and ``plots_checks`` (residuals,
bootstrap); :mod:`scalelaw.report.plots` gathers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from scalelaw.report.svg import TIP_PREFIX, TIPS_ATTRIBUTE

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


def axis_label(variable: str) -> str:
    """The axis label with units for a run-table column (the column name if unknown)."""
    return AXIS_LABELS.get(variable, variable)


def new_figure(width: float = 7.0, height: float = 4.4) -> Figure:
    """A pyplot-free figure in the report's style."""
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def styled_axes(fig: Figure, *args: int) -> matplotlib.axes.Axes:
    """``fig.add_subplot(*args)`` in the report's style."""
    with matplotlib.rc_context(_STYLE):
        return fig.add_subplot(*args)


def colors_for(count: int) -> list[tuple[float, float, float, float]]:
    """Distinct colours: tab10 for up to ten series, viridis beyond."""
    cmap = matplotlib.colormaps["tab10" if count <= 10 else "viridis"]
    if count <= 10:
        return [cmap(i) for i in range(count)]
    return [cmap(i / max(count - 1, 1)) for i in range(count)]


def thin(points: Points, limit: int = MAX_POINTS_PER_CURVE) -> Points:
    """At most ``limit`` evenly spaced points (with their tips), so long curves keep the SVG small."""
    n = len(points.x)
    if n <= limit:
        return points
    keep = np.unique(np.linspace(0, n - 1, limit).round().astype(int))
    tips = [points.tips[i] for i in keep] if points.tips is not None else None
    return Points(np.asarray(points.x)[keep], np.asarray(points.y)[keep], points.label, points.heldout, tips)


def draw_points(ax: matplotlib.axes.Axes, points: Points, color: object, *, size: float = 22) -> None:
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


def draw_line(ax: matplotlib.axes.Axes, line: Line, color: object) -> None:
    """A law's line, dashed when predicted, over its interval band when it has one."""
    if line.lo is not None and line.hi is not None:
        ax.fill_between(line.x, line.lo, line.hi, color=color, alpha=0.18, linewidth=0, zorder=1)
    ax.plot(line.x, line.y, color=color, linestyle="--" if line.predicted else "-", linewidth=1.8, label=line.label, zorder=2)


def legend(ax: matplotlib.axes.Axes) -> None:
    """A frameless legend, only when something is labelled."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False)
