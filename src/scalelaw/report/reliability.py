"""Do the intervals mean what they say? Coverage of held-out truths against the nominal level.

:func:`coverage` measures, for a fit and runs it never saw, the share of observed
losses inside the prediction interval at each nominal level; :func:`reliability_figure`
draws nominal against observed coverage (the diagonal is a promise kept, below it
intervals too narrow, above it too wide), one line per series, from plain arrays.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from scalelaw.data.runs import RunSet
from scalelaw.errors import ScalelawWarning
from scalelaw.fit.result import FitResult
from scalelaw.report.plots_style import colors_for, new_figure, styled_axes

#: Nominal levels at which coverage is measured.
LEVELS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def coverage(fit: FitResult, heldout: RunSet, levels: Sequence[float] = LEVELS) -> np.ndarray:
    """Share of the held-out runs' logged losses inside the fit's interval at each level
    (a ``strict`` fit is measured too: the report shows its extrapolations, it does not refuse them)."""
    if fit.options.get("strict"):
        fit = dataclasses.replace(fit, options={**fit.options, "strict": False})
    design = fit.law.design(heldout)
    observed = np.asarray(design.loss, dtype=float)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalelawWarning)
        for level in levels:
            prediction = fit.predict_design(design, level=float(level))
            out.append(float(np.mean((prediction.lo <= observed) & (observed <= prediction.hi))))
    return np.array(out)


def reliability_figure(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, title: str = "Interval coverage", counts: Mapping[str, int] | None = None
) -> Figure:
    """Nominal (x) against observed (y) coverage, one line per series label → (nominal, observed)."""
    fig = new_figure(5.2, 4.6)
    ax = styled_axes(fig, 1, 1, 1)
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="promise kept")
    for color, (label, (nominal, observed)) in zip(colors_for(len(series)), series.items()):
        n = (counts or {}).get(label)
        shown = f"{label} (n = {n})" if n else label
        ax.plot(np.asarray(nominal, dtype=float), np.asarray(observed, dtype=float), marker="o", color=color, label=shown)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Nominal coverage of the interval")
    ax.set_ylabel("Share of held-out truths inside")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return fig
