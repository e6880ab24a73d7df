"""Figures of scaling laws: final loss against N, D or C, and isoFLOP profiles with their optima."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from scalelaw.report.plots_style import (
    LOSS_LABEL,
    Line,
    Points,
    axis_label,
    colors_for,
    draw_line,
    draw_points,
    legend,
    new_figure,
    styled_axes,
)


@dataclass(frozen=True)
class IsoflopProfile:
    """Losses of models of several sizes trained with one compute budget."""

    flops: float
    params: np.ndarray
    loss: np.ndarray
    fit: Line | None = None
    optimum: tuple[float, float] | None = None


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
    fig = new_figure()
    ax = styled_axes(fig, 1, 1, 1)
    colors = colors_for(max(len(points), len(lines), 1))
    for i, line in enumerate(lines):
        draw_line(ax, line, colors[i % len(colors)])
    for i, group in enumerate(points):
        draw_points(ax, group, colors[i % len(colors)])
    ax.set_xscale("log")
    _fit_y_to_points(ax, points)
    ax.set_xlabel(axis_label(variable))
    ax.set_ylabel(LOSS_LABEL)
    ax.set_title(title)
    legend(ax)
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
    fig = new_figure(11.0 if has_optima else 7.0, 4.6)
    ax = styled_axes(fig, 1, 2 if has_optima else 1, 1)
    ordered = sorted(profiles, key=lambda p: p.flops)
    many = len(ordered) > 6
    norm = matplotlib.colors.LogNorm(ordered[0].flops, ordered[-1].flops) if many and ordered[0].flops < ordered[-1].flops else None
    colors = [matplotlib.colormaps["viridis"](norm(p.flops)) for p in ordered] if norm else colors_for(len(ordered))
    for profile, color in zip(ordered, colors):
        label = "_nolegend_" if norm else f"C = {profile.flops:.3g} FLOPs"
        order = np.argsort(profile.params)
        ax.plot(np.asarray(profile.params)[order], np.asarray(profile.loss)[order], color=color, linewidth=0.8, alpha=0.6, zorder=2)
        ax.scatter(profile.params, profile.loss, s=20, color=color, label=label, zorder=3)
        if profile.fit is not None:
            draw_line(ax, Line(profile.fit.x, profile.fit.y, "_nolegend_", profile.fit.lo, profile.fit.hi), color)
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
        legend(ax)
    if has_optima:
        right = styled_axes(fig, 1, 2, 2)
        optima = [(p.flops, p.optimum[0]) for p in ordered if p.optimum is not None]
        right.scatter([c for c, _ in optima], [n for _, n in optima], marker="*", s=140, color="black", label="optimum per budget", zorder=3)
        if optimum_law is not None:
            draw_line(right, optimum_law, "tab:red")
        right.set_xscale("log")
        right.set_yscale("log")
        right.set_xlabel(axis_label("flops"))
        right.set_ylabel("Optimal model size N* (parameters)")
        right.set_title("Compute-optimal model size")
        legend(right)
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
