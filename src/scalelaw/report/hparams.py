"""The hyperparameter page: each cell's loss against learning rate with the optimum the law uses, and the law through them.

One panel per (N, D) cell shows the seed-averaged final loss against peak lr, one line per
batch size, with the cell's optimum as the law uses it; runs past the
stability cliff are cut from the view so the basin stays readable. A second figure draws the
cells' optimal lr against N, one colour per D, with the fitted law and its 90% band, and, when
the grid identifies it, the best batch size against D with its law.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from scalelaw.laws.hparams import StepLaw
from scalelaw.plan.hparams import HparamFit
from scalelaw.report import html
from scalelaw.report.plots_style import colors_for, new_figure, styled_axes
from scalelaw.report.svg import plain_log_ticks

#: The view of a cell's panel ends this far above its best loss (relative): the cliff's runs are off the scale.
VIEW_ABOVE_BEST = 0.25
#: Cells drawn at most (one panel each); the rest are in the table.
MAX_CELLS = 24
#: How each ``--rule`` places a cell's optimum, for the caption.
RULE_WORDS = {
    "surface": "the minimum of a quadratic surface in log lr and log batch size near the cell's best runs",
    "vertex": "a three-point parabola in log lr through each batch size's best run, the best batch size's",
    "argmin": "the best run of the grid",
}


def cells_figure(points: pd.DataFrame, optima: pd.DataFrame) -> object:
    """Loss against lr per cell (seed means from :func:`~scalelaw.plan.hparams.seed_means`), one line per batch size,
    and the optimum the fit placed in each cell (the points the law goes through)."""
    cells = [((float(r["params"]), float(r["tokens"])), r) for r in optima.to_dict(orient="records")][:MAX_CELLS]
    columns = min(4, len(cells))
    rows = math.ceil(len(cells) / columns)
    batches = sorted(points["batch_size"].unique())
    colors = dict(zip(batches, colors_for(len(batches)), strict=True))
    fig = new_figure(3.2 * columns, 2.6 * rows + 0.6)
    for i, ((n, d), optimum) in enumerate(cells):
        ax = styled_axes(fig, rows, columns, i + 1)
        cell = points[(points["params"] == n) & (points["tokens"] == d)]
        best = float(cell["loss"].min())
        for batch, line in cell.groupby("batch_size", sort=True):
            line = line.sort_values("lr")
            ax.plot(line["lr"], line["loss"], marker="o", markersize=3, linewidth=1, color=colors[batch],
                    label=f"batch {batch:g}")
        loss = float(optimum["loss"])
        ax.plot([optimum["lr"]], [loss], marker="*", markersize=12, color="black", linestyle="none")
        ax.set_xscale("log")
        _ticks_at(ax.xaxis, cell["lr"].unique())
        low = min(best, loss)
        ax.set_ylim(low - 0.02 * VIEW_ABOVE_BEST * low, best * (1 + VIEW_ABOVE_BEST))
        ax.set_title(f"N = {n:.3g}, D = {d:.3g}", fontsize=9.5)
        ax.set_xlabel("peak learning rate")
        if i % columns == 0:
            ax.set_ylabel("final loss")
    handles = [Line2D([], [], color=colors[b], marker="o", markersize=3, label=f"batch {b:g}") for b in batches]
    handles.append(Line2D([], [], color="black", marker="*", markersize=10, linestyle="none", label="the cell's optimum"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
    fig.suptitle("Each cell's final loss against peak learning rate (seed means), and its optimum")
    plain_log_ticks(fig)
    return fig


def law_figure(fit: HparamFit, level: float = 0.9) -> object:
    """The cells' optimal lr against N (one colour per D) with the law and its band; best batch against D."""
    optima = fit.optima
    tokens = sorted(optima["tokens"].unique())
    colors = dict(zip(tokens, colors_for(len(tokens)), strict=True))
    panels = 2 if fit.bs_identified else 1
    fig = new_figure(5.2 * panels, 4.0)
    ax = styled_axes(fig, 1, panels, 1)
    sizes = np.geomspace(optima["params"].min() / 1.5, optima["params"].max() * 3.0, 60)
    tail = 100 * (1 - level) / 2
    laws = [StepLaw(*row) for row in fit.bootstrap]
    for d in tokens:
        mine = optima[optima["tokens"] == d]
        ax.scatter(mine["params"], mine["lr"], color=colors[d], s=28, zorder=3, label=f"D = {d:.3g}")
        ax.plot(sizes, fit.law.learning_rate(sizes, d), color=colors[d], linewidth=1.2)
        if laws:
            draws = np.array([w.learning_rate(sizes, d) for w in laws])
            low, high = np.percentile(draws, [tail, 100 - tail], axis=0)
            ax.fill_between(sizes, low, high, color=colors[d], alpha=0.12, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ticks_at(ax.xaxis, optima["params"].unique())
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("optimal peak learning rate")
    ax.set_title(f"lr_opt = {fit.law.lr_coef:.3g}·N^{fit.law.lr_params_exp:.3f}·D^{fit.law.lr_tokens_exp:.3f}",
                 fontsize=9.5)
    ax.legend(fontsize=7.5)
    if fit.bs_identified:
        ax = styled_axes(fig, 1, panels, 2)
        edge = optima["batch_on_edge"].astype(bool)
        ax.scatter(optima.loc[~edge, "tokens"], optima.loc[~edge, "batch_size"], color="tab:blue", s=28, zorder=3,
                   label="interior optimum")
        ax.scatter(optima.loc[edge, "tokens"], optima.loc[edge, "batch_size"], facecolors="none",
                   edgecolors="tab:gray", s=28, zorder=3, label="on the grid's edge (a bound)")
        span = np.geomspace(optima["tokens"].min() / 1.5, optima["tokens"].max() * 3.0, 60)
        ax.plot(span, fit.law.batch_size(span), color="tab:blue", linewidth=1.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _ticks_at(ax.xaxis, optima["tokens"].unique())
        batch = optima["batch_size"].to_numpy(dtype=float)  # optima fall between grid sizes: tick powers of two
        _ticks_at(ax.yaxis, 2.0 ** np.arange(np.floor(np.log2(batch.min())), np.ceil(np.log2(batch.max())) + 1))
        ax.set_xlabel("training tokens D")
        ax.set_ylabel("optimal batch size (tokens)")
        ax.set_title(f"B_opt = {fit.law.bs_coef:.3g}·D^{fit.law.bs_tokens_exp:.3f}", fontsize=9.5)
        ax.legend(fontsize=7.5)
    fig.suptitle("The cells' optima and the law through them" + (f" ({level:.0%} band)" if laws else ""))
    plain_log_ticks(fig)
    return fig


def _ticks_at(axis: object, values: np.ndarray, most: int = 5) -> None:
    """Ticks of a log axis at the grid's own values (at most ``most``, evenly spread), labelled as plain numbers: a
    panel spans a decade or less, where matplotlib's labels either vanish or collide."""
    values = np.unique(np.asarray(values, dtype=float))
    if values.size > most:
        values = values[np.unique(np.linspace(0, values.size - 1, most).round().astype(int))]
    axis.set_major_locator(FixedLocator(values))
    axis.set_major_formatter(FixedFormatter([f"{v:.2g}" for v in values]))
    axis.set_minor_locator(NullLocator())


def hparams_section(fit: HparamFit, points: pd.DataFrame, *, source: str, rule: str = "surface") -> html.Section:
    """The page's one section: the law in words, both figures, the cells' optima."""
    batch = (f"B_opt = {fit.law.bs_coef:.3g}·D^{fit.law.bs_tokens_exp:.3f}" if fit.bs_identified
             else f"the batch-size law is not identified: {fit.bs_note}")
    seeds = int(points["seeds"].max()) if "seeds" in points else 1
    blocks = [
        html.paragraph(f"Fitted on {len(points)} grid points ({len(fit.optima)} cells"
                       + (f", up to {seeds} seeds averaged per point" if seeds > 1 else "") + f") from {source}: "
                       f"lr_opt = {fit.law.lr_coef:.3g}·N^{fit.law.lr_params_exp:.3f}·D^{fit.law.lr_tokens_exp:.3f}; "
                       f"{batch}."),
        html.figure(cells_figure(points, fit.optima), key="hparam-cells",
                    caption="One panel per (N, D) cell: final loss against peak learning rate, one line per batch "
                            f"size; the star is the cell's optimum as the law uses it ({RULE_WORDS.get(rule, rule)}). "
                            "Runs past the stability cliff are above the view."),
        html.figure(law_figure(fit), key="hparam-law",
                    caption="Left: each cell's optimal lr against model size, one colour per token budget, with the "
                            "fitted law and the band of its bootstrap refits. Right (when identified): the best batch "
                            "size against tokens; hollow points sit on the grid's edge and do not enter the law."),
        html.table(["N", "D", "best lr", "best batch", "loss", "on the edge"],
                   [{"N": f"{r['params']:.3g}", "D": f"{r['tokens']:.3g}", "best lr": f"{r['lr']:.3g}",
                     "best batch": f"{r['batch_size']:.3g}", "loss": f"{r['loss']:.4f}",
                     "on the edge": ", ".join(k for k, f in (("lr", r["lr_on_edge"]), ("batch", r["batch_on_edge"]))
                                              if f) or "-"}
                    for r in fit.optima.to_dict(orient="records")], caption="Each cell's optimum"),
    ]
    return html.Section("Hyperparameter laws", blocks)
