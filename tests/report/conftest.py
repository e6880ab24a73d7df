"""Real fits on the bundled data, fitted once per test session and shared by the report tests."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import scalelaw
import scalelaw.datasets as datasets
from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning
from scalelaw.fit import FitResult
from scalelaw.report import FitEntry, IsoflopEntry, Section
from scalelaw.report.html import paragraph

from report_fixtures import isoflop_entry, porian_tuned

#: Budgets below this are fitted, the others held out.
SPLIT_FLOPS = 3e18


def _fit(runs: RunSet, law: str, **options: object) -> FitResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        return scalelaw.fit(runs, law=law, bootstrap=10, seed=0, **options)


@pytest.fixture(scope="session")
def porian_split() -> tuple[RunSet, RunSet]:
    runs = porian_tuned()
    return runs.where(f"flops < {SPLIT_FLOPS}"), runs.where(f"flops >= {SPLIT_FLOPS}")


@pytest.fixture(scope="session")
def chinchilla_fit(porian_split: tuple[RunSet, RunSet]) -> FitResult:
    return _fit(porian_split[0], "chinchilla")


@pytest.fixture(scope="session")
def curve_runs() -> tuple[RunSet, RunSet]:
    """A 24k-step constant-LR curve to fit, and the 72k-step one to predict."""
    runs = datasets.load("multipowerlaw-25m")
    return runs.select(["constant_24000"]), runs.select(["constant_72000"])


@pytest.fixture(scope="session")
def curve_fit(curve_runs: tuple[RunSet, RunSet]) -> FitResult:
    return _fit(curve_runs[0], "power", law_options={"variable": "step"})


@pytest.fixture(scope="session")
def isoflop() -> IsoflopEntry:
    return isoflop_entry(porian_tuned())


@pytest.fixture(scope="session")
def report_items(
    chinchilla_fit: FitResult,
    porian_split: tuple[RunSet, RunSet],
    curve_fit: FitResult,
    curve_runs: tuple[RunSet, RunSet],
    isoflop: IsoflopEntry,
) -> list[object]:
    """Everything a demo report holds: two fits with held-out data, an isoFLOP analysis, a note."""
    return [
        Section("About", [paragraph("Fits on bundled public data.")]),
        FitEntry(chinchilla_fit, *porian_split, title="Chinchilla on Porian et al.'s tuned setup"),
        FitEntry(curve_fit, *curve_runs, title="A loss curve: 24k steps fitted, 72k predicted"),
        isoflop,
    ]


@pytest.fixture(scope="session")
def report_file(report_items: list[object], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from scalelaw.report import write_report

    path = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(report_items, path=path, command="pytest tests/report", title="Browser test report")
