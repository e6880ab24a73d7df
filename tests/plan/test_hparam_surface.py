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
