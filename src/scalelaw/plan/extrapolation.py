"""Warnings for planning answers that reach beyond the data a law was fitted on.

The range of each scale input (N, steps, tokens, C) is the fit's ``fitted_range``
(the engine's FitResult and the step-by-step fit both record it); an answer asked at a larger value gets a warning saying how many
decades beyond the largest fitted value it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from scalelaw.plan.intervals import Fitted


def ranges_of(fitted: Fitted) -> dict[str, tuple[float, float]]:
    """(smallest, largest) fitted value of each scale input; empty when the fit does not say."""
    return {name: (float(lo), float(hi)) for name, (lo, hi) in (getattr(fitted, "fitted_range", None) or {}).items()}


def scale_ranges(scales: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """(min, max) over the finite positive values of each scale array."""
    out = {}
    for name, values in scales.items():
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values) & (values > 0)]
        if values.size:
            out[name] = (float(values.min()), float(values.max()))
    return out


def beyond(ranges: Mapping[str, tuple[float, float]], **asked: float) -> list[str]:
    """One message per asked value above the largest fitted one, in decades."""
    messages = []
    for name, value in asked.items():
        if name in ranges and np.isfinite(value) and value > ranges[name][1]:
            decades = math.log10(value / ranges[name][1])
            messages.append(
                f"extrapolating {name} = {value:.3g}, {decades:.1f} decades beyond the largest fitted value "
                f"({ranges[name][1]:.3g})"
            )
    return messages
