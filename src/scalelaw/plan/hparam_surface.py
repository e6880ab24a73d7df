"""One grid cell's loss surface over (log lr, log batch size): a quadratic fitted to the runs
near the cell's best, its minimum over the sampled region (the cell's smooth optimum), and
draws of that minimum from the coefficients' covariance.

A surface smooths the seed noise that makes a raw grid argmin jump by a whole grid step,
and uses every batch size's runs to place the learning rate (and the other way round).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

#: The quadratic's terms, in the order of ``CellSurface.coef``: 1, x, y, x², y², xy (x = log lr, y = log batch size).
TERMS = ("1", "x", "y", "x2", "y2", "xy")


#: Batch sizes searched (log-spaced across those run) when a cell's optimum lies on its region's edge.
REGION_STEPS = 1025
#: Relative loss bands tried, in turn, for the runs of a cell's basin (see ``_basin``).
BANDS = (0.05, 0.1, 0.2, 0.4, 0.8, np.inf)


def _design(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones_like(x), x, y, x * x, y * y, x * y])


@dataclass(frozen=True)
class CellSurface:
    """loss ≈ coef · (1, x, y, x², y², xy) over the region of (log lr, log batch size) its runs span: at each
    batch size the lr range of its kept runs, linear in log batch size between them."""

    coef: np.ndarray
    #: (XᵀX)⁻¹ of the least-squares fit (zero rows and columns for terms the grid cannot identify).
    unscaled_cov: np.ndarray
    rss: float
    dof: int
    #: One row per batch size, by size: [log batch size, lowest log lr, highest log lr] of its kept runs.
    rows: np.ndarray
    #: How far (log lr) a cubic term in log lr moves the optimum along its batch size's row: the quadratic's
    #: own shape error, which is the same sign in every cell of a grid (NaN: too few learning rates to tell).
    shape_shift: float = float("nan")

    def loss(self, lr: np.ndarray | float, batch_size: np.ndarray | float) -> np.ndarray:
        """The smooth loss at (lr, batch size)."""
        x, y = np.atleast_1d(np.log(lr)).astype(float), np.atleast_1d(np.log(batch_size)).astype(float)
        return _design(x, y) @ self.coef

    def lr_bounds(self, log_bs: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """The region's lowest and highest log lr at each log batch size (clamped to the batch sizes run)."""
        y = np.asarray(log_bs, dtype=float)
        return np.interp(y, self.rows[:, 0], self.rows[:, 1]), np.interp(y, self.rows[:, 0], self.rows[:, 2])

    def minimum(self, coef: np.ndarray | None = None) -> tuple[float, float, float]:
        """(log lr, log batch size, loss) of the lowest point of the surface inside its region."""
        return _region_minimum(self.coef if coef is None else coef, self)

    def on_edge(self, log_lr: float, log_bs: float) -> tuple[bool, bool]:
        """Whether a point sits on the region's lr edge, on its batch-size edge (a one-batch-size cell always does)."""
        y0, y1 = self.rows[0, 0], self.rows[-1, 0]
        low, high = (float(b) for b in self.lr_bounds(log_bs))
        tol = 1e-9 * (1 + abs(high - low) + abs(y1 - y0))
        return bool(min(log_lr - low, high - log_lr) <= tol), bool(y1 - y0 <= tol or min(log_bs - y0, y1 - log_bs) <= tol)

    def optimum_draws(self, sigma2: float, draws: int, rng: np.random.Generator) -> np.ndarray:
        """(draws × 2) log lr and log batch size of the region's minimum for coefficients drawn from N(coef, σ²·(XᵀX)⁻¹)."""
        cov = sigma2 * self.unscaled_cov
        active = np.flatnonzero(np.diag(cov) > 0)
        out = np.empty((draws, 2))
        sampled = np.tile(self.coef, (draws, 1))
        if active.size:
            sub = cov[np.ix_(active, active)]
            sampled[:, active] += rng.multivariate_normal(np.zeros(active.size), sub, size=draws, method="eigh")
        for i, coef in enumerate(sampled):
            out[i] = _region_minimum(coef, self)[:2]
        return out


def fit_surface(lr: np.ndarray, batch_size: np.ndarray, loss: np.ndarray, *, window: int = 2) -> CellSurface:
    """The quadratic through one cell's runs near its best: the batch sizes within ``window``
    grid steps of the best one and, per batch size, the runs within ``window`` lr grid steps
    of its best lr, then only those in the basin (see ``_basin``); the optimum is sought, at each
    batch size, within the lr range its kept runs span (interpolated between batch sizes), so it is
    neither taken in a corner no run reached nor pinned to the range every batch size shares (with a
    fine lr grid the large batch sizes' basins sit higher, and that shared range can be one step
    wide). Needs three learning
    rates; fewer than three batch sizes drop the terms they cannot identify (y² with two,
    every y term with one). Raises ValueError."""
    x, y, loss = np.log(np.asarray(lr, float)), np.log(np.asarray(batch_size, float)), np.asarray(loss, float)
    levels = np.unique(y)
    best_level = int(np.argmin([loss[y == level].min() for level in levels]))
    keep = np.zeros(x.size, dtype=bool)
    for level in levels[max(0, best_level - window) : best_level + window + 1]:
        row = np.flatnonzero(y == level)
        ordered = row[np.argsort(x[row])]
        best = int(np.argmin(loss[ordered]))
        keep[ordered[max(0, best - window) : best + window + 1]] = True
    if np.unique(x).size < 3:
        raise ValueError(f"a cell needs at least three learning rates, got {np.unique(x).size}")
    keep, active = _basin(x, y, loss, keep)
    design = _design(x[keep], y[keep])[:, active]
    coef_active, *_ = np.linalg.lstsq(design, loss[keep], rcond=None)
    residual = loss[keep] - design @ coef_active
    coef = np.zeros(len(TERMS))
    coef[active] = coef_active
    unscaled = np.zeros((len(TERMS), len(TERMS)))
    unscaled[np.ix_(active, active)] = np.linalg.pinv(design.T @ design)
    rows = np.array([[level, x[keep & (y == level)].min(), x[keep & (y == level)].max()]
                     for level in np.unique(y[keep])])
    surface = CellSurface(coef, unscaled, float(residual @ residual), int(keep.sum() - len(active)), rows)
    return replace(surface, shape_shift=_cubic_shift(surface, x[keep], y[keep], loss[keep], active))


#: Points of the lr row searched for the cubic's minimum (:func:`_cubic_shift`).
CUBIC_GRID = 401


def _cubic_shift(surface: CellSurface, x: np.ndarray, y: np.ndarray, loss: np.ndarray, active: list[int]) -> float:
    """log lr of the minimum of the surface refitted with an x³ term, less the quadratic's, along the
    quadratic optimum's batch-size row inside the region; NaN with fewer than four learning rates or no spare point.

    A loss rises faster above the best lr than below it (the stability cliff), so a quadratic's vertex sits
    on the gentle side of the true optimum by an amount the seed noise does not show: the same in every
    cell, it biases the law's coefficient and no resampling of cells sees it. The cubic is the next term of
    the Taylor model; how far it moves the optimum is that shape error's size."""
    if np.unique(x).size < 4 or x.size <= len(active) + 1:
        return float("nan")
    coef, *_ = np.linalg.lstsq(np.column_stack([_design(x, y)[:, active], x**3]), loss, rcond=None)
    log_lr, log_bs, _ = surface.minimum()
    row = np.linspace(*(float(b) for b in surface.lr_bounds(log_bs)), CUBIC_GRID)
    values = np.column_stack([_design(row, np.full_like(row, log_bs))[:, active], row**3]) @ coef
    return float(row[int(np.argmin(values))] - log_lr)


def _basin(x: np.ndarray, y: np.ndarray, loss: np.ndarray, window: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The windowed runs whose loss is within a band of their batch size's best, and the terms they identify.

    The quadratic is a Taylor model of the basin; a run past the stability cliff (a learning
    rate one step too high ends near the unigram loss, twice the best) would bend it. The
    band is relative to each batch size's own best, so every batch size keeps its basin; it
    starts at 5% and doubles until the runs identify the terms with a residual to spare
    (three lrs at least); failing that, every run of the cell is used.
    """
    for band in BANDS:
        keep = window.copy()
        for level in np.unique(y[window]):
            row = window & (y == level)
            keep[row] = loss[row] <= loss[row].min() * (1 + band)
        active = _identifiable_terms(np.unique(y[keep]).size)
        if keep.sum() > len(active) and np.unique(x[keep]).size >= 3:
            return keep, active
    return np.ones_like(window), _identifiable_terms(np.unique(y).size)


def _identifiable_terms(batch_levels: int) -> list[int]:
    """Indices into TERMS a grid with this many batch sizes can fit: y² needs three, y and xy two."""
    return [0, 1, 3] + ([2, 5] if batch_levels >= 2 else []) + ([4] if batch_levels >= 3 else [])


def relative_penalty(surface: CellSurface, lr: float, batch_size: float) -> float:
    """(smooth loss at (lr, batch size) − the surface's minimum in its region) / that minimum.

    Outside the region the quadratic is extrapolated; callers flag that case."""
    best = surface.minimum()[2]
    return float((surface.loss(lr, batch_size)[0] - best) / best)


def _region_minimum(coef: np.ndarray, surface: CellSurface) -> tuple[float, float, float]:
    """Minimum of the quadratic over the surface's region: the stationary point when the surface is convex
    and it lies inside, else, on a fine grid of batch sizes (:data:`REGION_STEPS`, every batch size run among
    them), the exact minimum in lr within that batch size's bounds, and the best of those."""
    c0, cx, cy, cxx, cyy, cxy = coef
    levels = surface.rows[:, 0]
    if levels.size > 1 and cxx > 0 and 4 * cxx * cyy - cxy * cxy > 0:
        x, y = np.linalg.solve(np.array([[2 * cxx, cxy], [cxy, 2 * cyy]]), [-cx, -cy])
        low, high = surface.lr_bounds(y)
        if levels[0] <= y <= levels[-1] and low <= x <= high:
            return float(x), float(y), float(c0 + cx * x + cy * y + cxx * x * x + cyy * y * y + cxy * x * y)
    y = np.union1d(np.linspace(levels[0], levels[-1], REGION_STEPS), levels) if levels.size > 1 else levels
    low, high = surface.lr_bounds(y)
    slope = cx + cxy * y
    if cxx > 0:
        x = np.clip(-slope / (2 * cxx), low, high)
    else:  # concave or flat in lr: an end of the row
        x = np.where(cxx * low * low + slope * low <= cxx * high * high + slope * high, low, high)
    values = c0 + cx * x + cy * y + cxx * x * x + cyy * y * y + cxy * x * y
    best = int(np.argmin(values))
    return float(x[best]), float(y[best]), float(values[best])
