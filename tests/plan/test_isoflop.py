"""Approach 2 recovers the compute-optimal exponent of a known law and refuses bad profiles."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw.errors import InputError
from scalelaw.plan.isoflop import isoflop_fit


def _chinchilla_isoflops(alpha: float, beta: float, noise: float, seed: int) -> tuple[np.ndarray, ...]:
    """Isofop points of L = 1.7 + 400/N^α + 400/D^β, 9 sizes around the optimum per budget."""
    rng = np.random.default_rng(seed)
    e, a, b = 1.7, 400.0, 400.0
    g = (alpha * a / (beta * b)) ** (1 / (alpha + beta))
    rows = []
    for c in 1e17 * 2.0 ** np.arange(0, 10):
        n_star = g * (c / 6) ** (beta / (alpha + beta))
        for n in n_star * np.geomspace(0.1, 10, 9):
            d = c / (6 * n)
            rows.append((c, n, d, e + a / n**alpha + b / d**beta + noise * rng.standard_normal()))
    return tuple(np.array(col) for col in zip(*rows))


@pytest.mark.parametrize("method", ["akima", "parabola"])
def test_recovers_known_exponent(method: str) -> None:
    flops, params, tokens, loss = _chinchilla_isoflops(0.34, 0.28, noise=0.0, seed=0)
    fit = isoflop_fit(flops, params, tokens, loss, method=method, bootstrap=0)
    assert fit.params.exponent == pytest.approx(0.28 / 0.62, abs=0.01)
    assert fit.tokens.exponent == pytest.approx(0.34 / 0.62, abs=0.01)
    assert len(fit.used_budgets) == 10


def test_interval_covers_truth_with_noise_and_is_deterministic() -> None:
    covered = 0
    for data_seed in range(12):
        flops, params, tokens, loss = _chinchilla_isoflops(0.3, 0.3, noise=0.003, seed=data_seed)
        fit = isoflop_fit(flops, params, tokens, loss, bootstrap=200, noise=0.003, seed=7)
        covered += fit.params.exponent_low < 0.5 < fit.params.exponent_high
        assert fit.params.exponent_high - fit.params.exponent_low < 0.1
    assert covered >= 9  # a 95% interval; 12 independent data sets
    again = isoflop_fit(flops, params, tokens, loss, bootstrap=200, noise=0.003, seed=7)
    assert again.params == fit.params


def test_edge_minimum_drops_the_budget() -> None:
    flops, params, tokens, loss = _chinchilla_isoflops(0.34, 0.28, noise=0.0, seed=0)
    monotone = flops == flops.max()
    loss = loss.copy()
    loss[monotone] = np.linspace(3.0, 2.0, monotone.sum())  # best at the largest size
    fit = isoflop_fit(flops, params, tokens, loss, bootstrap=0)
    dropped = [b for b in fit.budgets if not b.used]
    assert [b.flops for b in dropped] == [flops.max()] and "edge" in dropped[0].reason


def test_bad_values_name_row_and_column() -> None:
    flops, params, tokens, loss = _chinchilla_isoflops(0.34, 0.28, noise=0.0, seed=0)
    loss = loss.copy()
    loss[4] = np.nan
    with pytest.raises(InputError, match="row 5, column 'loss'"):
        isoflop_fit(flops, params, tokens, loss, bootstrap=0)


def test_too_few_budgets_is_an_input_error() -> None:
    with pytest.raises(InputError, match="two or more FLOP budgets"):
        isoflop_fit([1e18] * 3, [1e7, 2e7, 4e7], [1e10, 5e9, 2.5e9], [3.0, 2.9, 3.1], bootstrap=0)
