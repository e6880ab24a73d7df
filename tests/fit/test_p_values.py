"""The diagnostics' p-values, computed without scipy.special, against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from scalelaw.fit.diagnostics import two_sided_normal_p, two_sided_t_p


@pytest.mark.parametrize("dof", [1, 2, 3, 7, 30, 238, 5000, 1e6])
def test_student_t_tail_matches_scipy(dof: float) -> None:
    for t in (0.0, 0.05, 0.7, 1.5, 3.0, 5.0, 12.0, 40.0):
        assert two_sided_t_p(t, dof) == pytest.approx(2.0 * special.stdtr(dof, -t), rel=1e-8, abs=1e-300)


def test_normal_tail_matches_scipy() -> None:
    for z in (-4.0, -1.0, 0.0, 0.5, 3.3, 8.0):
        assert two_sided_normal_p(z) == pytest.approx(float(special.erfc(abs(z) / np.sqrt(2.0))), rel=1e-12)
