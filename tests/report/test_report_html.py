"""The HTML page builder: escaping, self-containment, structure."""

from __future__ import annotations

import re

import numpy as np
import pytest

from scalelaw.report import html, plots


def _figure() -> plots.Figure:
    x = np.geomspace(1e7, 1e9, 5)
    return plots.final_loss_figure([plots.Points(x, 2 + x**-0.2, "runs")], [], variable="params", title="t")


def test_user_text_is_escaped_everywhere() -> None:
    evil = "<script>alert(1)</script>"
    page = html.page(
        evil,
        [html.Section(evil, [html.paragraph(evil), html.notice(evil), html.preformatted(evil), html.table(["run"], [{"run": evil}])])],
        subtitle=evil,
        footer=evil,
    )
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;") >= 7


def test_page_is_self_contained_with_figures_and_toc() -> None:
    page = html.page(
        "Report",
        [
            html.Section("Fit A", [html.figure(_figure(), caption="first", key="a")], children=[html.Section("Details", ["<p>x</p>"])]),
            html.Section("Fit A", [html.figure(_figure(), caption="second", key="b")]),
        ],
    )
    assert "http" not in page
    assert not re.search(r"""(src|href)=["'](?!#|data:)""", page), "only in-page links are allowed"
    assert page.count("<figure") == 2 and page.count("<svg") == 2
    assert 'id="fit-a"' in page and 'id="fit-a-2"' in page and 'href="#details"' in page
    assert page.count('<h3>') == 1


def test_table_formats_numbers_and_missing_values() -> None:
    out = html.table(["name", "value", "count"], [{"name": "E", "value": 1.23456789, "count": 3}, {"name": "A", "value": 4.2e-7}])
    assert "1.235" in out and "4.2e-07" in out and "–" in out
    assert out.count('class="num"') == 3


@pytest.mark.parametrize("value, text", [(float("nan"), "not finite"), (12_345_678, "1.235e+07"), (True, "True"), (None, "–")])
def test_format_number_edge_cases(value: object, text: str) -> None:
    assert html.format_number(value) == text


def test_notice_rejects_unknown_level() -> None:
    with pytest.raises(ValueError):
        html.notice("x", level="shout")
