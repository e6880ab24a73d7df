"""A cell's quadratic loss surface: exact optimum of a tilted bowl, edges, draws and penalties."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw.plan.hparam_surface import fit_surface, relative_penalty


def _bowl(lr_opt: float = 0.01, bs_opt: float = 512.0, noise: float = 0.0, seed: int = 0):
    """A tilted quadratic bowl in (log lr, log bs) sampled on a factor-2 grid of 6 lrs x 4 batch sizes."""
    rng = np.random.default_rng(seed)
    lr, bs = np.meshgrid(0.01 * 2.0 ** np.arange(-3, 3), 512 * 2.0 ** np.arange(-2, 2))
    x, y = np.log(lr / lr_opt), np.log(bs / bs_opt)
    loss = 2.0 + 0.03 * x**2 + 0.02 * y**2 + 0.01 * x * y + noise * rng.standard_normal(x.shape)
    return lr.ravel(), bs.ravel(), loss.ravel()


def test_recovers_the_optimum_between_grid_points() -> None:
    surface = fit_surface(*_bowl(lr_opt=0.013, bs_opt=600.0))
    log_lr, log_bs, best = surface.minimum()
    assert np.exp(log_lr) == pytest.approx(0.013, rel=1e-9) and np.exp(log_bs) == pytest.approx(600.0, rel=1e-9)
    assert best == pytest.approx(2.0) and surface.on_edge(log_lr, log_bs) == (False, False)
    assert relative_penalty(surface, 0.013, 600.0) == pytest.approx(0.0, abs=1e-12)
    assert relative_penalty(surface, 0.026, 600.0) == pytest.approx(0.03 * np.log(2) ** 2 / 2.0, rel=1e-9)


def test_an_optimum_beyond_the_grid_is_on_its_edge() -> None:
    lr, bs, loss = _bowl(lr_opt=1.0)
    surface = fit_surface(lr, bs, loss)
    log_lr, log_bs, _ = surface.minimum()
    assert surface.on_edge(log_lr, log_bs)[0] and np.exp(log_lr) == pytest.approx(lr.max())


def test_optimum_draws_match_the_seed_to_seed_spread() -> None:
    """The draws' sd of the optimum agrees with how much the fitted optimum really moves between noise draws."""
    rng = np.random.default_rng(0)
    assert fit_surface(*_bowl()).optimum_draws(0.0, 50, rng).std(axis=0) == pytest.approx([0.0, 0.0])
    fitted, predicted = [], []
    for seed in range(40):
        surface = fit_surface(*_bowl(noise=0.003, seed=seed))
        fitted.append(surface.minimum()[:2])
        predicted.append(surface.optimum_draws(surface.rss / surface.dof, 200, rng).std(axis=0))
    ratio = np.std(fitted, axis=0) / np.mean(predicted, axis=0)
    assert np.all((ratio > 0.6) & (ratio < 1.6)), ratio


def test_one_batch_size_fits_lr_only_and_too_few_lrs_fail() -> None:
    lr, bs, loss = _bowl()
    row = bs == bs[0]
    surface = fit_surface(lr[row], bs[row], loss[row])
    log_lr, log_bs, _ = surface.minimum()
    assert surface.on_edge(log_lr, log_bs)[1] and np.isfinite(log_lr)
    with pytest.raises(ValueError, match="three learning rates"):
        fit_surface(lr[:2], bs[:2], loss[:2])


def _cliff(steep_above: float, noise: float = 0.0, seed: int = 0):
    """A bowl in log lr that rises ``steep_above`` times faster above the optimum (0.01) than below it."""
    rng = np.random.default_rng(seed)
    lr, bs = np.meshgrid(0.01 * 2.0 ** np.arange(-2.0, 2.5, 0.5), 512 * 2.0 ** np.arange(-1, 2))
    x, y = np.log(lr / 0.01), np.log(bs / 512)
    loss = 2.0 + np.where(x > 0, 0.03 * steep_above, 0.03) * x**2 + 0.02 * y**2 + noise * rng.standard_normal(x.shape)
    return lr.ravel(), bs.ravel(), loss.ravel()


def test_the_cubic_term_measures_the_quadratics_shape_error() -> None:
    """A loss that rises faster above the best lr puts the quadratic's optimum too low; the cubic term's
    shift points up, toward the truth, and is about the size of that bias; a true quadratic shows none."""
    assert fit_surface(*_cliff(1.0)).shape_shift == pytest.approx(0.0, abs=1e-9)
    surface = fit_surface(*_cliff(3.0))
    bias = surface.minimum()[0] - np.log(0.01)
    assert bias < -0.05
    assert 0.3 * abs(bias) < surface.shape_shift < 1.5 * abs(bias)
    lr, bs, loss = _cliff(3.0)
    three = np.isin(np.round(np.log2(lr / 0.01), 3), [-1.0, 0.0, 1.0])
    assert np.isnan(fit_surface(lr[three], bs[three], loss[three]).shape_shift)  # three lrs cannot show a cubic


def test_the_optimum_is_not_pinned_to_the_lr_range_every_batch_size_shares() -> None:
    """On a fine lr grid the large batch sizes' basins sit higher: the range all rows share can end above the
    small batch's best lr. The optimum is sought within each batch size's own range, so it is found, inside."""
    lr, bs = np.meshgrid(0.01 * 2.0 ** np.arange(-2.0, 2.5, 0.5), np.array([32.0, 64.0, 128.0]))
    x, y = np.log(lr / 0.01), np.log(bs / 32)
    shift = 0.9 * y  # each batch size's best lr: 0.01 at 32, about 0.019 at 64, 0.037 at 128
    loss = 2.0 + 0.03 * (x - shift) ** 2 + 0.02 * y**2
    surface = fit_surface(lr.ravel(), bs.ravel(), loss.ravel(), window=1)
    low, high = surface.lr_bounds(np.log(32.0))
    assert np.exp(low) < 0.01 < np.exp(high)
    log_lr, log_bs, best = surface.minimum()
    assert np.exp(log_lr) == pytest.approx(0.01, rel=1e-6) and np.exp(log_bs) == pytest.approx(32.0, rel=1e-6)
    assert surface.on_edge(log_lr, log_bs) == (False, True) and best == pytest.approx(2.0)
    assert np.exp(max(surface.rows[:, 1])) > 0.01  # the shared range alone would have excluded the optimum
