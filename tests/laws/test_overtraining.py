"""The over-training law: equivalence with Chinchilla at α = β, and the optimal token multiplier."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw import laws


def test_equals_chinchilla_with_tied_exponents() -> None:
    # Chinchilla with alpha = beta = 2*eta is E + (A*6^eta*M^eta + B*6^eta*M^-eta)*C^-eta.
    e, big_a, big_b, eta = 1.8, 400.0, 900.0, 0.15
    n, d = np.logspace(7, 10, 6), np.logspace(9, 12, 6)[::-1]
    chinchilla = laws.get("chinchilla")
    over = laws.get("overtraining")
    expected = chinchilla.predict(np.array([[e, big_a, big_b, 2 * eta, 2 * eta]]), chinchilla.design_at(params=n, tokens=d))
    got = over.predict(np.array([[e, big_a * 6**eta, big_b * 6**eta, eta]]), over.design_at(params=n, tokens=d))
    assert np.allclose(got, expected, rtol=1e-12)


def test_optimal_multiplier_minimises_loss_at_fixed_compute() -> None:
    law = laws.get("overtraining")
    values = {"E": 1.8, "a": 400.0, "b": 1000.0, "eta": 0.15}  # M* = 2.5^(1/0.3) ≈ 21
    m_opt = law.derived(values)["tokens_per_param_optimal"]
    flops = 1e22
    m = np.logspace(-1, 4, 50001)
    n = np.sqrt(flops / (6 * m))
    loss = law.predict(np.array([[1.8, 400.0, 1000.0, 0.15]]), law.design_at(params=n, tokens=m * n))[0]
    assert m_opt == pytest.approx(m[np.argmin(loss)], rel=1e-3)
    out = law.optimal_allocation(values, np.array([flops]))
    assert out["loss"][0] == pytest.approx(loss.min(), rel=1e-9)
    assert 6 * out["params"][0] * out["tokens"][0] == pytest.approx(flops)
