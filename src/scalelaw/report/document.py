"""Assemble one self-contained HTML report from fits, isoFLOP analyses and custom sections.

:func:`write_report` is the public entry point: it takes one item or a list of them,
so a demo can put several fits and an isoFLOP analysis into a single file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import scalelaw
from scalelaw.data.runs import RunSet
from scalelaw.fit.two_step import TwoStepFit
from scalelaw.report import html
from scalelaw.report.fit_section import FitEntry, fit_section
from scalelaw.report.isoflop import IsoflopEntry, isoflop_section
from scalelaw.report.tasks import metric_view, two_step_section

#: Anything :func:`write_report` accepts as one part of a report.
ReportItem = Any  # a FitResult, TwoStepFit, FitEntry, IsoflopEntry or html.Section


def _as_items(fit: ReportItem | Sequence[ReportItem]) -> list[ReportItem]:
    if isinstance(fit, (list, tuple)):
        return list(fit)
    return [fit]


def report_sections(
    fit: ReportItem | Sequence[ReportItem],
    *,
    runs: RunSet | None = None,
    heldout: RunSet | None = None,
    command: str | None = None,
) -> list[html.Section]:
    """One section per item; a bare fit gets ``runs`` and ``heldout`` as its data."""
    sections = []
    for i, item in enumerate(_as_items(fit)):
        key = f"s{i + 1}"
        if isinstance(item, html.Section):
            sections.append(item)
        elif isinstance(item, IsoflopEntry):
            sections.append(isoflop_section(item, key=key))
        elif isinstance(item, TwoStepFit):
            sections.append(two_step_section(item, runs, key=key))
        else:
            if not isinstance(item, FitEntry):  # a fit of another metric is drawn against that metric
                item = FitEntry(item, runs=metric_view(item, runs), heldout=metric_view(item, heldout))
            sections.append(fit_section(item, key=key))
    if not sections:
        raise ValueError("a report needs at least one fit, isoFLOP analysis or section")
    if command:
        sections.append(html.Section("How this report was produced", [html.paragraph("The command:"), html.preformatted(command)]))
    return sections


def render_report(
    fit: ReportItem | Sequence[ReportItem],
    *,
    runs: RunSet | None = None,
    heldout: RunSet | None = None,
    command: str | None = None,
    title: str = "scalelaw report",
) -> str:
    """The report as an HTML string (see :func:`write_report`)."""
    sections = report_sections(fit, runs=runs, heldout=heldout, command=command)
    fits = sum(1 for item in _as_items(fit) if not isinstance(item, (html.Section, IsoflopEntry)))
    subtitle = f"{fits} fit{'s' if fits != 1 else ''}, {len(sections)} sections. Click a figure to enlarge it; hover a point to see its run."
    return html.page(title, sections, subtitle=subtitle, footer=f"Made by scalelaw {scalelaw.__version__}. The file is self-contained: it needs no network.")


def write_report(
    fit: ReportItem | Sequence[ReportItem],
    runs: RunSet | None = None,
    path: str | Path = "report.html",
    heldout: RunSet | None = None,
    command: str | None = None,
    *,
    title: str = "scalelaw report",
) -> Path:
    """Write one self-contained HTML report and return its path.

    ``fit`` is a fit result, or a list mixing fit results, :class:`FitEntry` (a fit
    with its own runs, held-out runs and title), :class:`IsoflopEntry` and
    :class:`~scalelaw.report.html.Section`; one section per item, in order. ``runs`` and
    ``heldout`` are the data of the bare fit results; ``command``, the command that
    produced the report, gets a closing section of its own.
    """
    text = render_report(fit, runs=runs, heldout=heldout, command=command, title=title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
