"""Fixtures of the fitting tests."""

from __future__ import annotations

import pytest
from fit_synthetic import chinchilla_runs

from scalelaw.data.runs import RunSet


@pytest.fixture(scope="session")
def chinchilla_data() -> RunSet:
    return chinchilla_runs()
