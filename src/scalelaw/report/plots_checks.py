"""Figures that check a fit: observed against predicted loss with residuals, and bootstrap histograms."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from scalelaw.report.plots_style import LOSS_LABEL, RASTER_ABOVE, axis_label, legend, new_figure, styled_axes


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
    fig = new_figure(10.0, 4.2)
    parity = styled_axes(fig, 1, 2, 1)
    spread = styled_axes(fig, 1, 2, 2)
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
    spread.set_ylabel("Observed / predicted − 1 (%)")
    if x is None:
        spread.set_xlabel(f"Predicted {LOSS_LABEL[0].lower()}{LOSS_LABEL[1:]}")
    else:
        spread.set_xlabel(axis_label(x_variable or "x"))
        spread.set_xscale("log")
    spread.set_title("Relative residuals")
    legend(parity)
    legend(spread)
    fig.suptitle(title)
    return fig


def _bin_edges(values: np.ndarray) -> np.ndarray:
    """Histogram bins; (nearly) identical replicates, which numpy cannot split into bins, get one bar."""
    try:
        edges = np.histogram_bin_edges(values, bins=min(30, max(5, values.size // 10)))
        if np.all(np.diff(edges) > 0):
            return edges
    except ValueError:
        pass
    center = float(values[0]) if values.size else 0.0
    pad = max(abs(center), 1.0) * 1e-6
    return np.array([center - pad, center + pad])


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
    fig = new_figure(2.6 * columns + 0.6, 2.3 * rows + 0.6)
    for i, name in enumerate(names):
        ax = styled_axes(fig, rows, columns, i + 1)
        values = np.asarray(samples[name], dtype=float)
        values = values[np.isfinite(values)]
        ax.hist(values, bins=_bin_edges(values), color="tab:blue", alpha=0.7)
        if estimates is not None and name in estimates:
            ax.axvline(estimates[name], color="black", linewidth=1.5)
        if intervals is not None and name in intervals:
            for end in intervals[name]:
                ax.axvline(end, color="tab:red", linestyle="--", linewidth=1.2)
        ax.set_title(textwrap.shorten(_readable(name), width=26, placeholder="…"), fontsize=9.5)
        ax.set_xlabel("value")
        ax.set_ylabel("replicates")
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"{title} (solid: estimate, dashed: interval ends)")
    return fig


def _readable(name: str) -> str:
    """A parameter's name for a panel title: long snake_case names as words, short symbols (R_D, E) as written."""
    return " ".join(word.replace("_", " ") if len(word) > 4 else word for word in name.split(" "))
