"""The Kaplan law: formula and its limits (pure N and pure D power laws)."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw import laws

KAPLAN = np.array([[8.8e13, 5.4e13, 0.076, 0.095]])


def test_formula_at_a_known_point() -> None:
    law = laws.get("kaplan")
    value = law.predict(KAPLAN, law.design_at(params=1e9, tokens=1e10))[0, 0]
    assert value == pytest.approx(((8.8e13 / 1e9) ** (0.076 / 0.095) + 5.4e13 / 1e10) ** 0.095)


def test_infinite_data_limit_is_the_model_size_power_law() -> None:
    law = laws.get("kaplan")
    value = law.predict(KAPLAN, law.design_at(params=1e9, tokens=1e30))[0, 0]
    assert value == pytest.approx((8.8e13 / 1e9) ** 0.076, rel=1e-9)


def test_jacobian_matches_finite_differences() -> None:
    law = laws.get("kaplan")
    design = law.design_at(params=np.logspace(7, 10, 5), tokens=np.logspace(9, 12, 5))
    _, grad = law.jacobian(KAPLAN, design)
    for j in range(4):
        h = np.zeros((1, 4))
        h[0, j] = 1e-6 * KAPLAN[0, j]
        numeric = (law.predict(KAPLAN + h, design) - law.predict(KAPLAN - h, design)) / (2 * h[0, j])
        assert np.allclose(grad[0, :, j], numeric[0], rtol=1e-5)
