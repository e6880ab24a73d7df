"""Plots and the self-contained HTML report of fits, for looking at the curves before trusting a number."""

from scalelaw.report.document import render_report, report_sections, write_report
from scalelaw.report.fit_section import FitEntry
from scalelaw.report.html import Section
from scalelaw.report.isoflop import IsoflopEntry

__all__ = ["FitEntry", "IsoflopEntry", "Section", "render_report", "report_sections", "write_report"]
