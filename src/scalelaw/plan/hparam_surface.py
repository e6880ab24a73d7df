"""One grid cell's loss surface over (log lr, log batch size): a quadratic fitted to the runs
near the cell's best, its minimum over the sampled box (the cell's smooth optimum), and
draws of that minimum from the coefficients' covariance.

A surface smooths the seed noise that makes a raw grid argmin jump by a whole grid step,
and uses every batch size's runs to place the learning rate (and the other way round).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The quadratic's terms, in the order of ``CellSurface.coef``: 1, x, y, x², y², xy (x = log lr, y = log batch size).
TERMS = ("1", "x", "y", "x2", "y2", "xy")


#: Relative loss bands tried, in turn, for the runs of a cell's basin (see ``_basin``).
BANDS = (0.05, 0.1, 0.2, 0.4, 0.8, np.inf)


def _design(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones_like(x), x, y, x * x, y * y, x * y])


@dataclass(frozen=True)
class CellSurface:
    """loss ≈ coef · (1, x, y, x², y², xy) over the box of (log lr, log batch size) spanned by the runs it was fitted to."""

    coef: np.ndarray
    #: (XᵀX)⁻¹ of the least-squares fit (zero rows and columns for terms the grid cannot identify).
    unscaled_cov: np.ndarray
    rss: float
    dof: int
    box: np.ndarray  # [[log lr min, max], [log bs min, max]]

    def loss(self, lr: np.ndarray | float, batch_size: np.ndarray | float) -> np.ndarray:
        """The smooth loss at (lr, batch size)."""
        x, y = np.atleast_1d(np.log(lr)).astype(float), np.atleast_1d(np.log(batch_size)).astype(float)
        return _design(x, y) @ self.coef

    def minimum(self, coef: np.ndarray | None = None) -> tuple[float, float, float]:
        """(log lr, log batch size, loss) of the lowest point of the surface inside the box."""
        return _box_minimum(self.coef if coef is None else coef, self.box)

    def on_edge(self, log_lr: float, log_bs: float) -> tuple[bool, bool]:
        """Whether a point sits on the box's lr edge, on its batch-size edge (a one-batch-size cell always does)."""
        (x0, x1), (y0, y1) = self.box
        tol = 1e-9 * (1 + abs(x1 - x0) + abs(y1 - y0))
        return bool(min(log_lr - x0, x1 - log_lr) <= tol), bool(y1 - y0 <= tol or min(log_bs - y0, y1 - log_bs) <= tol)

    def optimum_draws(self, sigma2: float, draws: int, rng: np.random.Generator) -> np.ndarray:
        """(draws × 2) log lr and log batch size of the box minimum for coefficients drawn from N(coef, σ²·(XᵀX)⁻¹)."""
        cov = sigma2 * self.unscaled_cov
        active = np.flatnonzero(np.diag(cov) > 0)
        out = np.empty((draws, 2))
        sampled = np.tile(self.coef, (draws, 1))
        if active.size:
            sub = cov[np.ix_(active, active)]
            sampled[:, active] += rng.multivariate_normal(np.zeros(active.size), sub, size=draws, method="eigh")
        for i, coef in enumerate(sampled):
            out[i] = _box_minimum(coef, self.box)[:2]
        return out


def fit_surface(lr: np.ndarray, batch_size: np.ndarray, loss: np.ndarray, *, window: int = 2) -> CellSurface:
    """The quadratic through one cell's runs near its best: the batch sizes within ``window``
    grid steps of the best one and, per batch size, the runs within ``window`` lr grid steps
    of its best lr, then only those in the basin (see ``_basin``); the optimum is sought over
    the lr range all batch sizes' kept runs share. Needs three learning
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
    box = np.array([_lr_range(x[keep], y[keep]), [y[keep].min(), y[keep].max()]])
    return CellSurface(coef, unscaled, float(residual @ residual), int(keep.sum() - len(active)), box)


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


def _lr_range(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The log-lr range every batch size's kept runs span (so the optimum is not taken in a corner no run
    of that batch size reached); the range of all kept runs when the batch sizes share less than a segment."""
    lows, highs = [], []
    for level in np.unique(y):
        row = x[y == level]
        if row.size >= 2:
            lows.append(row.min())
            highs.append(row.max())
    if lows and max(lows) < min(highs):
        return float(max(lows)), float(min(highs))
    return float(x.min()), float(x.max())


def _identifiable_terms(batch_levels: int) -> list[int]:
    """Indices into TERMS a grid with this many batch sizes can fit: y² needs three, y and xy two."""
    return [0, 1, 3] + ([2, 5] if batch_levels >= 2 else []) + ([4] if batch_levels >= 3 else [])


def relative_penalty(surface: CellSurface, lr: float, batch_size: float) -> float:
    """(smooth loss at (lr, batch size) − the surface's minimum in the box) / that minimum.

    Outside the box the quadratic is extrapolated; callers flag that case."""
    best = surface.minimum()[2]
    return float((surface.loss(lr, batch_size)[0] - best) / best)


def _box_minimum(coef: np.ndarray, box: np.ndarray) -> tuple[float, float, float]:
    """Exact minimum of the quadratic over the box: the stationary point when the surface is convex
    and it lies inside, else the best of the four edges' one-dimensional minima."""
    c0, cx, cy, cxx, cyy, cxy = coef
    (x0, x1), (y0, y1) = box

    def value(x: float, y: float) -> float:
        return c0 + cx * x + cy * y + cxx * x * x + cyy * y * y + cxy * x * y

    hessian = np.array([[2 * cxx, cxy], [cxy, 2 * cyy]])
    if y1 > y0 and cxx > 0 and np.linalg.det(hessian) > 0:
        x, y = np.linalg.solve(hessian, [-cx, -cy])
        if x0 <= x <= x1 and y0 <= y <= y1:
            return float(x), float(y), float(value(x, y))
    candidates = []
    for y in (y0, y1):  # edges of fixed batch size: a quadratic in x
        x = _interval_argmin(cxx, cx + cxy * y, x0, x1)
        candidates.append((x, y))
    for x in (x0, x1):  # edges of fixed lr: a quadratic in y
        y = _interval_argmin(cyy, cy + cxy * x, y0, y1)
        candidates.append((x, y))
    x, y = min(candidates, key=lambda p: value(*p))
    return float(x), float(y), float(value(x, y))


def _interval_argmin(curvature: float, slope: float, low: float, high: float) -> float:
    """Argmin of curvature·t² + slope·t over [low, high]."""
    if curvature > 0:
        return float(np.clip(-slope / (2 * curvature), low, high))
    return low if curvature * low * low + slope * low <= curvature * high * high + slope * high else high
