"""Assemble one self-contained HTML report from fits, isoFLOP analyses and custom sections.

:func:`write_report` is the public entry point: it takes one item or a list of them,
so a demo can put several fits and an isoFLOP analysis into a single file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import scalelaw
from scalelaw.data.atomic import atomic_write
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
    """One section per item; a bare fit gets ``runs`` and ``heldout`` as its data.

    Run names and other labels are user text: matplotlib's math parsing is off, so a ``$``
    in a run name is drawn as a dollar sign instead of starting (possibly broken) math.
    """
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        return _sections(fit, runs=runs, heldout=heldout, command=command)


def _sections(fit: ReportItem | Sequence[ReportItem], *, runs: RunSet | None, heldout: RunSet | None,
              command: str | None) -> list[html.Section]:
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
                fitted, unseen = split_fitted(item, metric_view(item, runs), metric_view(item, heldout))
                item = FitEntry(item, runs=fitted, heldout=unseen)
            sections.append(fit_section(item, key=key))
    if not sections:
        raise ValueError("a report needs at least one fit, isoFLOP analysis or section")
    if command:
        sections.append(html.Section("How this report was produced", [html.paragraph("The command:"), html.preformatted(command)]))
    return sections


def split_fitted(fit: Any, runs: RunSet | None, heldout: RunSet | None) -> tuple[RunSet | None, RunSet | None]:
    """The runs the fit was fitted on and those it never saw, from what the user passed as held out.

    Data whose content hash is the fit's own are the fitted runs, not held-out ones; with
    the fitted runs given, held-out runs of the same name are dropped from the held-out set.
    """
    if heldout is None:
        return runs, None
    if heldout.data_hash() == getattr(fit, "data_hash", None):
        return (runs if runs is not None else heldout), None
    if runs is not None:
        unseen = [run for run in heldout.runs if run not in runs]
        if len(unseen) < len(heldout):
            heldout = heldout.select(unseen) if unseen else None
    return runs, heldout


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
    counts = ([f"{fits} fit{'s' if fits != 1 else ''}"] if fits else []) + \
        [f"{len(sections)} section{'s' if len(sections) != 1 else ''}"]
    subtitle = f"{', '.join(counts)}. Click a figure to enlarge it; hover a point to see its run."
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
    data = text.encode("utf-8")
    atomic_write(path, lambda handle: handle.write(data))
    return path
