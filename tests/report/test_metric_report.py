"""Reports of fits of other metrics: a two-step fit gets its own section, a metric fit is drawn against its metric."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

from scalelaw.fit.metric_fit import fit_metric
from scalelaw.fit.two_step import fit_two_step
from scalelaw.report.document import render_report
from scalelaw.report.tasks import metric_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fit"))
from metric_data import ACC, BPB, ladder  # noqa: E402


@pytest.fixture(scope="module")
def runs():
    return ladder(checkpoints=8)


def test_two_step_fit_has_a_section_with_the_sigmoid_over_the_checkpoints(runs) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_two_step(runs, ACC, BPB, bootstrap=5)
    page = render_report(fit, runs=runs)
    assert f"Two-step fit of {ACC}" in page and page.count("<figure") == 1 and "checkpoints (fitted)" in page
    bare = render_report(fit)
    assert "checkpoints (fitted)" not in bare and bare.count("<figure") == 1


def test_a_metric_fit_is_reported_against_its_metric(runs) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_metric(runs, BPB)
    view = metric_view(fit, runs)
    assert view is not None and view.table["loss"].equals(runs.table[BPB])
    assert "<figure" in render_report(fit, runs=runs)
