"""The report section of an isoFLOP (Chinchilla approach 2) analysis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.plan.isoflop import IsoflopFit
from scalelaw.report import html, plots


@dataclass(frozen=True)
class IsoflopEntry:
    """An isoFLOP analysis to report, with the points it was computed from (one per model per budget)."""

    result: IsoflopFit
    flops: np.ndarray
    params: np.ndarray
    loss: np.ndarray
    title: str = "Compute-optimal allocation from isoFLOP profiles"

    @classmethod
    def from_runs(cls, result: IsoflopFit, runs: RunSet, *, title: str | None = None) -> IsoflopEntry:
        """The entry for ``result`` computed from the final losses of ``runs`` (flops, params, loss)."""
        rows = runs.final()
        columns = [rows[c].to_numpy(dtype=float) for c in ("flops", "params", "loss")]
        return cls(result, *columns, **({"title": title} if title else {}))


def isoflop_section(entry: IsoflopEntry, *, key: str) -> html.Section:
    """Profiles with their optima, N*(C) with its power law, and tables of both."""
    result = entry.result
    flops = np.asarray(entry.flops, dtype=float)
    params = np.asarray(entry.params, dtype=float)
    loss = np.asarray(entry.loss, dtype=float)
    optima = {b.flops: (b.params, b.loss) for b in result.budgets if b.used}
    profiles = [
        plots.IsoflopProfile(float(c), params[flops == c], loss[flops == c], optimum=optima.get(float(c)))
        for c in np.unique(flops)
    ]
    budgets = np.array([b.flops for b in result.used_budgets])
    grid = np.geomspace(budgets.min(), budgets.max(), 50)
    law = plots.Line(grid, result.params(grid), f"N* = {result.params.coef:.3g} · C^{result.params.exponent:.3f}")
    figure = plots.isoflop_figure(profiles, title=f"{entry.title}: {len(profiles)} budgets, {len(loss)} models", optimum_law=law)
    level = f"{100 * result.level:.0f}%"
    exponents = [
        {
            "quantity": name,
            "exponent": power.exponent,
            f"{level} interval": f"{html.format_number(power.exponent_low)} – {html.format_number(power.exponent_high)}",
            "coefficient": power.coef,
        }
        for name, power in (("N*(C) ∝ C^a", result.params), ("D*(C) ∝ C^b", result.tokens))
    ]
    rows = [
        {
            "compute C (FLOPs)": b.flops,
            "N* (parameters)": b.params,
            "D* (tokens)": b.tokens,
            "loss at optimum": b.loss,
            "models": b.n_models,
            "used": "yes" if b.used else f"no: {b.reason}",
        }
        for b in result.budgets
    ]
    blocks = [
        html.paragraph(
            f"For each compute budget the loss of the models trained with it is interpolated "
            f"({result.method}) and its minimum gives the compute-optimal size N* and data D*; "
            f"power laws in C are then fitted to the optima of the budgets marked used."
        ),
        html.table(list(exponents[0]), exponents, caption="Compute-optimal exponents"),
        html.figure(figure, caption="Left: loss against model size at each compute budget, stars at the optima. Right: the optimal size against compute and the fitted power law.", key=key),
        html.table(list(rows[0]), rows, caption="Optimum per compute budget"),
    ]
    dropped = [b for b in result.budgets if not b.used]
    if dropped:
        blocks.insert(1, html.notice(f"{len(dropped)} of {len(result.budgets)} budgets were not used (see the last column of the table)."))
    return html.Section(entry.title, blocks)
