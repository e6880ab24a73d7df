"""Matplotlib figures of scaling-law fits, built from plain arrays.

Every function takes numbers (no fit objects, no files) and returns a
:class:`matplotlib.figure.Figure` made without pyplot, so plotting has no global
state and works headless. :func:`save_figure` (PNG or SVG) and :func:`figure_svg`
(the SVG text the HTML report inlines) come from :mod:`scalelaw.report.svg`. The
figures live in one module per kind (``plots_scaling``, ``plots_curves``,
``plots_checks``, sharing ``plots_style``); this module gathers them.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from scalelaw.report.plots_checks import bootstrap_figure, residuals_figure
from scalelaw.report.plots_curves import Curve, loss_curve_panels_figure, loss_curves_figure, schedules_figure
from scalelaw.report.plots_scaling import IsoflopProfile, final_loss_figure, isoflop_figure
from scalelaw.report.plots_style import (
    AXIS_LABELS,
    LOSS_LABEL,
    MAX_POINTS_PER_CURVE,
    RASTER_ABOVE,
    Line,
    Points,
    axis_label,
)
from scalelaw.report.svg import figure_svg, save_figure

__all__ = [
    "AXIS_LABELS", "LOSS_LABEL", "MAX_POINTS_PER_CURVE", "RASTER_ABOVE", "Curve", "Figure", "IsoflopProfile", "Line", "Points", "axis_label",
    "bootstrap_figure", "figure_svg", "final_loss_figure", "isoflop_figure", "loss_curve_panels_figure",
    "loss_curves_figure", "residuals_figure", "save_figure", "schedules_figure",
]
