"""Shared check of the loss-curve laws' tests: an analytic Jacobian against central differences."""

from __future__ import annotations

import numpy as np

from scalelaw.laws.base import Design, Law


def assert_jacobian_matches(law: Law, design: Design, theta: np.ndarray, *, step: float = 1e-6) -> None:
    """Every column of ``law.jacobian`` equals the central difference of ``law.predict``."""
    _, grad = law.jacobian(theta, design)
    for j in range(theta.shape[1]):
        h = step * max(1.0, abs(theta[0, j]))
        up, down = theta.copy(), theta.copy()
        up[0, j] += h
        down[0, j] -= h
        fd = (law.predict(up, design) - law.predict(down, design)) / (2 * h)
        np.testing.assert_allclose(grad[0, :, j], fd[0], rtol=1e-5, atol=1e-9)
