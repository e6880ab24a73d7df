"""Fit Step-Law hyperparameter laws from a grid of runs over learning rate and batch size.

For each (N, D) cell of a grid, a quadratic surface in (log lr, log batch size) is fitted
to the runs near the cell's best (``rule="surface"``, the default); its minimum over the
sampled box is the cell's smooth optimum, and draws of the surface's coefficients from
their covariance give the optimum's uncertainty. ``vertex`` and ``argmin`` are the older
per-row rules (a three-point parabola in log lr; the best grid point), kept for the bench.
Then log η_opt = log a + α·log N + β·log D and log B_opt = log b + γ·log D are fitted by
least squares through the optima. Intervals come from refits on cells resampled with
replacement, each cell's optimum redrawn from its surface, plus the law's own scatter
around the cells (a prediction interval for a new cell's optimum), plus the error of a
held-out check at the next size (the law of the smaller sizes predicting the largest one's
optima), so a law that drifts with size carries its drift in the interval. The penalty of
the predicted lr (relative loss above the best) follows from the surfaces' curvature. A
batch-size law whose optimum sits on the grid's edge is reported as not identified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws.hparams import DEEPSEEK_2024, StepLaw
from scalelaw.plan.answers import Answer
from scalelaw.plan.extrapolation import beyond
from scalelaw.plan.hparam_surface import CellSurface, fit_surface
from scalelaw.plan.intervals import Estimate

STEP_LAW_FIELDS = ("lr_coef", "lr_params_exp", "lr_tokens_exp", "bs_coef", "bs_tokens_exp")
#: Draws of each cell's surface coefficients (its optimum's uncertainty).
SURFACE_DRAWS = 400
#: Runs of a batch size kept for its cell's surface: this many lr grid steps either side of that batch size's best.
LR_WINDOW = 2


@dataclass(frozen=True)
class HparamFit:
    """A fitted Step Law, its bootstrap draws (K × 5, each with the law's scatter drawn in), the per-cell optima
    and the fitted range."""

    law: StepLaw
    bootstrap: np.ndarray
    optima: pd.DataFrame
    fitted_range: Mapping[str, tuple[float, float]]
    #: Per draw, the log-space scatter of a new cell's optimum around the law: (K × 2), lr then batch size.
    scatter: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    #: Whether the grid identifies the batch-size law, and why not.
    bs_identified: bool = True
    bs_note: str = ""
    #: The held-out check at the next size: per cell of the largest size, the lr the smaller sizes' law predicts
    #: and the log error against the cell's optimum; ``transfer_sd`` is their root mean square (0: no check).
    transfer: tuple[dict[str, float], ...] = ()
    transfer_sd: float = 0.0
    #: Median over cells of the loss surface's relative curvature in log lr at the optimum (d²L/dx² / L).
    lr_curvature: float = float("nan")
    #: Root mean square over cells of how far a cubic term moves the optimal lr (log): the surface's shape
    #: error, shared by every cell, so drawn once per draw like the held-out check's (0: not measured).
    shape_sd: float = 0.0
    #: Medians over cells of the relative curvature in log batch size (2·c_yy / L) and of the cross term
    #: (c_xy / L) at the optimum, for the penalty of a predicted (lr, batch size) pair (NaN: not measured).
    bs_curvature: float = float("nan")
    cross_curvature: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON content of a hyperparameter fit file (``kind: hparams``)."""
        return {
            "kind": "hparams",
            "law": {f: getattr(self.law, f) for f in STEP_LAW_FIELDS},
            "bootstrap": self.bootstrap.tolist(),
            "scatter": self.scatter.tolist(),
            "optima": self.optima.to_dict(orient="list"),
            "fitted_range": {k: list(v) for k, v in self.fitted_range.items()},
            "bs_identified": self.bs_identified,
            "bs_note": self.bs_note,
            "transfer": list(self.transfer),
            "transfer_sd": self.transfer_sd,
            "lr_curvature": None if not np.isfinite(self.lr_curvature) else self.lr_curvature,
            "shape_sd": self.shape_sd,
            "bs_curvature": None if not np.isfinite(self.bs_curvature) else self.bs_curvature,
            "cross_curvature": None if not np.isfinite(self.cross_curvature) else self.cross_curvature,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str) -> HparamFit:
        """Rebuild from :meth:`to_dict` output; a malformed field is an InputError naming ``source``."""
        try:
            law = StepLaw(**{f: float(data["law"][f]) for f in STEP_LAW_FIELDS})
            draws = np.array(data.get("bootstrap", []), dtype=float).reshape(-1, len(STEP_LAW_FIELDS))
            scatter = np.array(data.get("scatter", []), dtype=float).reshape(-1, 2)
            if len(scatter) and len(scatter) != len(draws):
                raise ValueError(f"{len(scatter)} scatter draws for {len(draws)} bootstrap draws")
            ranges = {k: (float(v[0]), float(v[1])) for k, v in data.get("fitted_range", {}).items()}
            transfer = tuple({k: float(v) for k, v in row.items()} for row in data.get("transfer", []))
            transfer_sd, shape_sd = float(data.get("transfer_sd", 0.0)), float(data.get("shape_sd", 0.0))
            curvature = data.get("lr_curvature")
            curvature = float("nan") if curvature is None else float(curvature)
            if not all(np.isfinite(v) and v >= 0 for v in (transfer_sd, shape_sd)):
                raise ValueError("transfer_sd and shape_sd must be finite and >= 0")
            if not (np.isnan(curvature) or curvature > 0):
                raise ValueError("lr_curvature must be positive")
            bs_curvature, cross = (float("nan") if data.get(k) is None else float(data[k])
                                   for k in ("bs_curvature", "cross_curvature"))
            if not (np.isnan(bs_curvature) or bs_curvature > 0) or np.isinf(cross):
                raise ValueError("bs_curvature must be positive and cross_curvature finite")
            return cls(law, draws, pd.DataFrame(data.get("optima", {})), ranges, scatter,
                       bool(data.get("bs_identified", True)), str(data.get("bs_note", "")), transfer, transfer_sd,
                       curvature, shape_sd, bs_curvature, cross)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"not a valid hyperparameter fit: {exc!r}", file=source) from None


def grid_table(runs: RunSet) -> pd.DataFrame:
    """One row per run: params, tokens (the run's last), peak lr, batch_size and final loss."""
    runs.require(["params", "tokens", "lr", "batch_size"], purpose="the hyperparameter fit")
    final = runs.final().set_index("run")
    peak_lr = runs.table.groupby("run", sort=False)["lr"].max()  # the peak of the schedule, not its last value
    table = final[["params", "tokens", "batch_size", "loss"]].assign(lr=peak_lr).reset_index()
    for column in ("params", "tokens", "batch_size", "loss", "lr"):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values) | (values <= 0))
        if bad.size:
            run = str(table["run"].iloc[bad[0]])
            raise InputError(
                f"the hyperparameter fit needs a positive finite {column!r}, got {values[bad[0]]:g}",
                file=runs.source(run), run=run, column=column,
            )
    return table


Rule = Literal["surface", "vertex", "argmin"]
RULES: tuple[str, ...] = ("surface", "vertex", "argmin")


def vertex(x: np.ndarray, y: np.ndarray, rule: Rule = "vertex") -> tuple[float, float, bool]:
    """Minimiser and minimum of y over log x: three-point parabola at the best point; flags an edge.

    ``rule="argmin"`` returns the best grid point itself (for comparison in the bench).
    """
    order = np.argsort(x)
    log_x, y = np.log(np.asarray(x, dtype=float)[order]), np.asarray(y, dtype=float)[order]
    i = int(np.argmin(y))
    if i == 0 or i == y.size - 1 or rule == "argmin":
        return float(np.exp(log_x[i])), float(y[i]), i == 0 or i == y.size - 1
    c2, c1, c0 = np.polyfit(log_x[i - 1 : i + 2], y[i - 1 : i + 2], 2)
    if c2 <= 0:
        return float(np.exp(log_x[i])), float(y[i]), False
    best = float(np.clip(-c1 / (2 * c2), log_x[i - 1], log_x[i + 1]))
    return float(np.exp(best)), float(c0 + c1 * best + c2 * best**2), False


def seed_means(table: pd.DataFrame) -> pd.DataFrame:
    """One row per grid point (params, tokens, lr, batch size): the mean final loss of its runs (seeds) and
    their count in ``seeds``; the first run's name is kept.

    Replicates are averaged before any optimum is sought: a surface windowed by lr grid steps, or a
    three-point parabola, needs one value per point, and the mean is the smooth loss a seed's draw scatters
    around (the minimum over seeds would favour the points that happen to have more of them)."""
    keys = ["params", "tokens", "lr", "batch_size"]
    grouped = table.groupby(keys, sort=False)
    means = grouped.agg(run=("run", "first"), loss=("loss", "mean"), seeds=("loss", "size")).reset_index()
    return means[["run", "params", "tokens", "batch_size", "loss", "lr", "seeds"]]


def grid_optima(table: pd.DataFrame, rule: Rule = "vertex") -> pd.DataFrame:
    """Per (params, tokens) cell, by the per-row ``vertex`` or ``argmin`` rule: optimal lr and batch size,
    the best loss, and edge flags (replicates averaged, :func:`seed_means`)."""
    rows = []
    for (n, d), group in seed_means(table).groupby(["params", "tokens"], sort=True):
        per_batch = []
        for bs, sub in group.groupby("batch_size", sort=True):
            best = sub.groupby("lr")["loss"].min()
            lr, loss, edge = vertex(best.index.to_numpy(), best.to_numpy(), rule)
            per_batch.append((float(bs), lr, loss, edge))
        batches = np.array([p[0] for p in per_batch])
        losses = np.array([p[2] for p in per_batch])
        bs_opt, loss_opt, bs_edge = (
            vertex(batches, losses, rule) if batches.size >= 3 else (batches[np.argmin(losses)], losses.min(), True)
        )
        at = per_batch[int(np.argmin(losses))]
        rows.append({"params": n, "tokens": d, "lr": at[1], "batch_size": bs_opt, "loss": loss_opt,
                     "lr_on_edge": at[3], "batch_on_edge": bs_edge})
    return pd.DataFrame(rows)


def cell_surfaces(table: pd.DataFrame, *, source: str | None = None) -> dict[tuple[float, float], CellSurface]:
    """The loss surface of every (params, tokens) cell of a grid table (replicates averaged, :func:`seed_means`);
    a cell that cannot be fitted is an InputError."""
    surfaces = {}
    for (n, d), group in seed_means(table).groupby(["params", "tokens"], sort=True):
        try:
            surfaces[(float(n), float(d))] = fit_surface(group["lr"].to_numpy(), group["batch_size"].to_numpy(),
                                                         group["loss"].to_numpy(), window=LR_WINDOW)
        except ValueError as exc:
            raise InputError(f"cell params={n:g}, tokens={d:g}: {exc}", file=source) from None
    return surfaces


def surface_optima(
    surfaces: Mapping[tuple[float, float], CellSurface], *, draws: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """Each cell's smooth optimum with edge flags and log-space sds, and (cells × draws × 2) draws of
    its log lr and log batch size; σ² is pooled over the cells' residuals."""
    dof = sum(s.dof for s in surfaces.values())
    sigma2 = sum(s.rss for s in surfaces.values()) / dof if dof else 0.0
    rows, all_draws = [], []
    for (n, d), surface in surfaces.items():
        log_lr, log_bs, loss = surface.minimum()
        lr_edge, bs_edge = surface.on_edge(log_lr, log_bs)
        cell_draws = surface.optimum_draws(sigma2, draws, rng) if draws else np.zeros((0, 2))
        spread = cell_draws.std(axis=0) if draws else np.full(2, np.nan)
        rows.append({"params": n, "tokens": d, "lr": float(np.exp(log_lr)), "batch_size": float(np.exp(log_bs)),
                     "loss": loss, "lr_on_edge": lr_edge, "batch_on_edge": bs_edge,
                     "lr_log_sd": float(spread[0]), "bs_log_sd": float(spread[1])})
        all_draws.append(cell_draws)
    return pd.DataFrame(rows), np.array(all_draws)


def _regress(optima: pd.DataFrame) -> np.ndarray:
    """The Step Law through the cells' optima: lr through every cell; batch size through the cells whose best
    batch is interior when they span two token counts (an optimum on the grid's edge is only a bound), else
    through every cell."""
    log_n, log_d = np.log(optima["params"].to_numpy()), np.log(optima["tokens"].to_numpy())
    x = np.column_stack([np.ones_like(log_n), log_n, log_d])
    lr = np.linalg.lstsq(x, np.log(optima["lr"].to_numpy()), rcond=None)[0]
    batch = _batch_cells(optima)
    bs = np.polyfit(log_d[batch], np.log(optima["batch_size"].to_numpy()[batch]), 1)
    return np.array([np.exp(lr[0]), lr[1], lr[2], np.exp(bs[1]), bs[0]])


def _batch_cells(optima: pd.DataFrame) -> np.ndarray:
    """The cells the batch-size law goes through: those with an interior best batch when they span two token
    counts, else all."""
    interior = ~optima["batch_on_edge"].to_numpy(dtype=bool)
    return interior if np.unique(optima["tokens"].to_numpy()[interior]).size >= 2 else np.ones_like(interior)


def _scatter(optima: pd.DataFrame, law: StepLaw) -> tuple[np.ndarray, np.ndarray]:
    """Log residuals of the cells' optima around the law (the batch size's of the cells its law goes through),
    inflated for the parameters fitted (3 for lr, 2 for batch)."""
    n = len(optima)
    lr = np.log(optima["lr"].to_numpy() / law.learning_rate(optima["params"].to_numpy(), optima["tokens"].to_numpy()))
    cells = optima[_batch_cells(optima)]
    bs = np.log(cells["batch_size"].to_numpy() / law.batch_size(cells["tokens"].to_numpy()))
    return lr * np.sqrt(n / max(n - 3, 1)), bs * np.sqrt(len(cells) / max(len(cells) - 2, 1))


def batch_identified(optima: pd.DataFrame) -> tuple[bool, str]:
    """Whether the cells identify B_opt = b·D^γ: interior batch optima in three cells over two token counts."""
    interior = optima[~optima["batch_on_edge"].astype(bool)]
    if len(interior) >= 3 and interior["tokens"].nunique() >= 2:
        return True, ""
    return False, (f"the best batch size sits on the grid's edge in {len(optima) - len(interior)} of {len(optima)} "
                   "cells, so the grid cannot place the optimum; sweep larger and smaller batch sizes")


def next_size_check(optima: pd.DataFrame) -> tuple[tuple[dict[str, float], ...], float]:
    """Fit the lr law on every size but the largest and predict the largest size's cells: per cell the
    prediction and log error, and their root mean square (empty and 0 when fewer than three sizes)."""
    largest = optima["params"].max()
    smaller = optima[optima["params"] < largest]
    if optima["params"].nunique() < 3 or smaller["tokens"].nunique() < 2:
        return (), 0.0
    law = StepLaw(*_regress(smaller))
    rows = []
    for cell in optima[optima["params"] == largest].itertuples():
        predicted = float(law.learning_rate(cell.params, cell.tokens))
        rows.append({"params": float(cell.params), "tokens": float(cell.tokens), "lr_predicted": predicted,
                     "lr_optimum": float(cell.lr), "log_error": float(np.log(cell.lr / predicted))})
    return tuple(rows), float(np.sqrt(np.mean([r["log_error"] ** 2 for r in rows])))


def curvatures(surfaces: Mapping[tuple[float, float], CellSurface]) -> tuple[float, float, float]:
    """Medians over cells of the loss's relative curvature at each optimum: in log lr (2·c_xx / L_min, cells with
    c_xx > 0), in log batch size (2·c_yy / L_min) and across (c_xy / L_min), both over the cells with a y² term;
    NaN where no cell qualifies."""
    lr, batch, cross = [], [], []
    for surface in surfaces.values():
        best = surface.minimum()[2]
        if best <= 0:
            continue
        if surface.coef[3] > 0:
            lr.append(2 * surface.coef[3] / best)
        if surface.coef[4] > 0:
            batch.append(2 * surface.coef[4] / best)
            cross.append(surface.coef[5] / best)
    k_lr, k_batch, k_cross = (float(np.median(v)) if v else float("nan") for v in (lr, batch, cross))
    return k_lr, k_batch, k_cross


def fit_hparams(runs: RunSet, *, rule: Rule = "surface", bootstrap: int = 200, seed: int = 0) -> HparamFit:
    """Fit η_opt(N, D) and B_opt(D) from a grid of runs; needs three or more (N, D) cells."""
    table = grid_table(runs)
    rng = np.random.default_rng(seed)
    curvature, shape_sd, bs_curvature, cross = float("nan"), 0.0, float("nan"), float("nan")
    if rule == "surface":
        surfaces = cell_surfaces(table, source=runs.source(str(table["run"].iloc[0])))
        optima, draws = surface_optima(surfaces, draws=max(bootstrap, 1), rng=rng)
        curvature, bs_curvature, cross = curvatures(surfaces)
        shifts = np.array([s.shape_shift for s in surfaces.values()])
        shape_sd = float(np.sqrt(np.mean(shifts[np.isfinite(shifts)] ** 2))) if np.isfinite(shifts).any() else 0.0
    else:
        optima, draws = grid_optima(table, rule), None
    if len(optima) < 3 or optima["params"].nunique() < 2 or optima["tokens"].nunique() < 2:
        raise InputError("the hyperparameter fit needs (N, D) groups with at least two sizes and two token counts")
    point = _regress(optima)
    lr_scatter, bs_scatter = _scatter(optima, StepLaw(*point))
    laws, scatter = [], []
    for replicate in range(bootstrap):
        cells = rng.integers(0, len(optima), len(optima))
        sample = optima.iloc[cells].copy()
        if sample["params"].nunique() < 2 or sample["tokens"].nunique() < 2:
            continue
        if draws is not None:
            sample["lr"] = np.exp(draws[cells, replicate, 0])
            sample["batch_size"] = np.exp(draws[cells, replicate, 1])
        laws.append(_regress(sample))
        scatter.append((lr_scatter[rng.integers(len(lr_scatter))], bs_scatter[rng.integers(len(bs_scatter))]))
    ranges = {c: (float(optima[c].min()), float(optima[c].max())) for c in ("params", "tokens")}
    identified, note = batch_identified(optima)
    transfer, transfer_sd = next_size_check(optima)
    return HparamFit(StepLaw(*point), np.array(laws).reshape(-1, 5), optima, ranges, np.array(scatter).reshape(-1, 2),
                     identified, note, transfer, transfer_sd, curvature, shape_sd, bs_curvature, cross)


def predict_hparams(fit: HparamFit, *, params: float, tokens: float, level: float = 0.95) -> Answer:
    """Optimal peak lr and batch size at (N, D), with prediction intervals for a new cell's optimum (the
    law's uncertainty and its scatter around the cells); DeepSeek LLM's values at C = 6ND beside them."""
    laws = [StepLaw(*row) for row in fit.bootstrap]
    tail = 100 * (1 - level) / 2

    def estimate(point: float, draws: list[float]) -> Estimate:
        if not draws:
            return Estimate(point, float("nan"), float("nan"))
        low, high = np.percentile(draws, [tail, 100 - tail])
        return Estimate(point, float(low), float(high))

    scatter = np.exp(fit.scatter) if len(fit.scatter) == len(laws) else np.ones((len(laws), 2))
    # The held-out check's error at the next size and the surfaces' shape error, both shared by every cell, drawn
    # in (seeded: the same fit gives the same interval).
    shared_sd = float(np.hypot(fit.transfer_sd, fit.shape_sd))
    transfer = np.exp(shared_sd * np.random.default_rng(0).standard_normal(len(laws)))
    point_lr = float(fit.law.learning_rate(params, tokens))
    lr_draws = np.array([float(w.learning_rate(params, tokens)) for w in laws]) * scatter[:, 0] * transfer
    lr = estimate(point_lr, list(lr_draws))
    nan = float("nan")
    notes = list(beyond(dict(fit.fitted_range), params=params, tokens=tokens))
    both = Estimate(nan, nan, nan)
    if fit.bs_identified:
        notes.extend(_outside_batch_cells(fit.optima, tokens))
        point_bs = float(fit.law.batch_size(tokens))
        bs_draws = np.array([float(w.batch_size(tokens)) * f for w, f in zip(laws, scatter[:, 1], strict=True)])
        bs = estimate(point_bs, list(bs_draws))
        both = _joint_penalty(fit, (point_lr, point_bs), (lr_draws, bs_draws), tail)
    else:
        bs = Estimate(nan, nan, nan)
        notes.append(f"batch-size law not identified: {fit.bs_note}")
    flops = 6.0 * params * tokens
    values = {
        "lr": lr,
        "batch_size": bs,
        "lr_penalty": _penalty(fit.lr_curvature, point_lr, lr_draws, tail),
        "penalty": both,
        "deepseek_lr": Estimate(float(DEEPSEEK_2024.learning_rate(flops)), nan, nan),
        "deepseek_batch_size": Estimate(float(DEEPSEEK_2024.batch_size(flops)), nan, nan),
    }
    if fit.shape_sd > 0:
        notes.append(f"surface shape: a cubic term in log lr moves the cells' optimal lr by {np.expm1(fit.shape_sd):.0%} "
                     "(root mean square); a quadratic's bias of that size, the same in every cell, is in the interval")
    if fit.transfer:
        worst = max(fit.transfer, key=lambda r: abs(r["log_error"]))
        notes.append(f"held-out check at the largest fitted size (N = {worst['params']:.3g}): the smaller sizes' law "
                     f"missed its optimal lr by up to {np.expm1(abs(worst['log_error'])):.0%}; that error is in the "
                     "interval")
    return Answer(values, tuple(notes))


def _outside_batch_cells(optima: pd.DataFrame, tokens: float) -> list[str]:
    """A note when ``tokens`` lies outside the token range of the cells the batch-size law went through (its
    interior cells: the grid's whole range can be wider, so the general extrapolation note would stay silent)."""
    if optima.empty or "batch_on_edge" not in optima:
        return []
    cells = optima[_batch_cells(optima)]
    low, high = float(cells["tokens"].min()), float(cells["tokens"].max())
    if low <= tokens <= high:
        return []
    side, edge = ("below", low) if tokens < low else ("beyond", high)
    return [f"the batch-size law went through cells of D = {low:.3g} to {high:.3g} (its best batch interior there); "
            f"D = {tokens:.3g} lies {abs(np.log10(tokens / edge)):.1f} decades {side} them, so its batch size is "
            "an extrapolation"]


def _joint_penalty(fit: HparamFit, point: tuple[float, float], draws: tuple[np.ndarray, np.ndarray],
                   tail: float) -> Estimate:
    """Relative loss above the best at the predicted lr and batch size together: ½·Δᵀ K Δ over the draws of the
    optimum, Δ the log offsets and K the cells' median relative curvature (the cross term dropped when the
    medians do not make K positive definite); the mean with a one-sided interval, as :func:`_penalty`."""
    k_x, k_y, k_xy = fit.lr_curvature, fit.bs_curvature, fit.cross_curvature
    if not (np.isfinite(k_x) and np.isfinite(k_y)) or draws[0].size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"))
    k_xy = k_xy if np.isfinite(k_xy) and k_xy * k_xy < k_x * k_y else 0.0
    dx, dy = np.log(draws[0] / point[0]), np.log(draws[1] / point[1])
    return _one_sided(0.5 * (k_x * dx * dx + 2 * k_xy * dx * dy + k_y * dy * dy), tail)


def _penalty(curvature: float, point: float, draws: np.ndarray, tail: float) -> Estimate:
    """Relative loss above the best of training at the predicted lr: ½·k·Δ² with Δ = log(optimum / prediction)
    over the draws of the optimum, k the surfaces' relative curvature; the mean, with a one-sided interval
    (:func:`_one_sided`): a penalty is never below 0, and a prediction on the optimum has none, so a
    lower percentile above 0 would promise a loss the user cannot have."""
    if not np.isfinite(curvature) or draws.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"))
    return _one_sided(0.5 * curvature * np.log(draws / point) ** 2, tail)


def _one_sided(penalty: np.ndarray, tail: float) -> Estimate:
    """The mean penalty over the draws, with the interval [0, the level's quantile]."""
    return Estimate(float(penalty.mean()), 0.0, float(np.percentile(penalty, 100 - 2 * tail)))
