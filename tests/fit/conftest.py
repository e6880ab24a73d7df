"""Fixtures of the fitting tests."""

from __future__ import annotations

import pytest
from fit_synthetic import chinchilla_runs

from scalelaw.data.runs import RunSet
from scalelaw.fit import FitResult, fit_law


@pytest.fixture(scope="session")
def chinchilla_data() -> RunSet:
    return chinchilla_runs()


@pytest.fixture(scope="session")
def chinchilla_fit(chinchilla_data: RunSet) -> FitResult:
    """The one full Chinchilla fit (with a small bootstrap) the tests share."""
    return fit_law(chinchilla_data, "chinchilla", bootstrap=40, seed=1, progress=False)
