"""Open a real report in headless Chromium: no console errors, no network, every figure visible.

The browser is driven through the DevTools pipe (``chromium_cdp``). A screenshot of
the report is kept in ``artifacts/`` at the repository root. Without Chromium the test
fails under CI (``CI`` set) and is skipped elsewhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from chromium_cdp import Browser, evaluate, find_chromium, open_page, problems, screenshot
from report_fixtures import REPORT_FIGURES

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

# Per figure: is it rendered with a real size, inside the layout, not hidden?
_FIGURE_STATE = """
Array.from(document.querySelectorAll("figure.plot")).map(function (fig) {
  const svg = fig.querySelector("svg");
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const style = svg ? getComputedStyle(svg) : null;
  return {id: fig.id, width: box.width, height: box.height,
          visible: !!style && style.display !== "none" && style.visibility !== "hidden" && style.opacity !== "0",
          texts: svg ? svg.querySelectorAll("text").length : 0,
          caption: (fig.querySelector("figcaption") || {}).textContent || ""};
})
"""


# Every text drawn in the figures, and per axis the tick labels' boxes as the reader sees them.
_FIGURE_TEXTS = """
Array.from(document.querySelectorAll("figure.plot svg")).map(function (svg) {
  const texts = Array.from(svg.querySelectorAll("text")).map(t => t.textContent);
  const axes = Array.from(svg.querySelectorAll('g[id^="axes_"]')).map(function (ax) {
    return ["xtick_", "ytick_"].map(function (kind) {
      return Array.from(ax.querySelectorAll('g[id^="' + kind + '"] text')).map(function (t) {
        const b = t.getBoundingClientRect();
        return {text: t.textContent, left: b.left, right: b.right, top: b.top, bottom: b.bottom};
      });
    });
  });
  return {texts: texts, axes: axes};
})
"""


def overlapping_ticks(labels: list[dict]) -> list[tuple[str, str]]:
    """Pairs of tick labels of one axis whose drawn boxes overlap (a 1-pixel slack)."""
    shown = [b for b in labels if b["text"].strip() and b["right"] > b["left"]]
    pairs = []
    for i, a in enumerate(shown):
        for b in shown[i + 1:]:
            if a["left"] < b["right"] - 1 and b["left"] < a["right"] - 1 and a["top"] < b["bottom"] - 1 and b["top"] < a["bottom"] - 1:
                pairs.append((a["text"], b["text"]))
    return pairs


def unreadable_texts(texts: list[str]) -> list[str]:
    """Texts that show TeX markup instead of what it stands for."""
    return [t for t in texts if "\\mathdefault" in t or "\\times" in t or re.search(r"\$[^$]*[\\^_{][^$]*\$", t)]


def _chromium() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("headless Chromium is required in CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed")
    return path


def test_report_opens_cleanly_in_chromium(report_file: Path) -> None:
    executable = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with Browser(executable) as browser:
        session = open_page(browser, report_file.resolve().as_uri())
        title = evaluate(browser, session, "document.title")
        figures = evaluate(browser, session, _FIGURE_STATE)
        drawn = evaluate(browser, session, _FIGURE_TEXTS)
        tooltips = evaluate(browser, session, 'Array.from(document.querySelectorAll("figure svg use > title")).map(t => t.textContent)')
        toc_targets_exist = evaluate(
            browser, session, 'Array.from(document.querySelectorAll("nav a")).every(a => document.getElementById(a.getAttribute("href").slice(1)))'
        )
        top = screenshot(browser, session, ARTIFACTS / "report-top.png")
        full = screenshot(browser, session, ARTIFACTS / "report-full.png", full_page=True)
        evaluate(browser, session, 'document.querySelector("figure.plot").click()')
        zoomed = evaluate(browser, session, 'document.querySelector("figure.plot").classList.contains("zoomed")')
        found = problems(browser.events)
    print(f"screenshots: {top} {full}")
    assert title == "Browser test report"
    assert found == [], found
    assert len(figures) == REPORT_FIGURES
    for figure in figures:
        assert figure["visible"], figure
        assert figure["width"] > 300 and figure["height"] > 150, figure
        assert figure["texts"] >= 5, f"figure {figure['id']} has no readable labels"
        assert figure["caption"].strip(), figure
    assert toc_targets_exist
    assert len(drawn) == REPORT_FIGURES
    for svg in drawn:
        assert unreadable_texts(svg["texts"]) == []
        for axis_labels in (labels for ax in svg["axes"] for labels in ax):
            assert overlapping_ticks(axis_labels) == []
    assert any("10" in t and any(c in t for c in "⁰¹²³⁴⁵⁶⁷⁸⁹") for svg in drawn for t in svg["texts"]), "no log axis drawn"
    assert len(tooltips) >= 100 and all("loss =" in t for t in tooltips)  # hover texts on final-loss points
    assert zoomed, "clicking a figure should enlarge it"
    assert top.stat().st_size > 20_000 and full.stat().st_size > top.stat().st_size


def test_readability_checks_catch_raw_tex_and_overlaps() -> None:
    """The text checks above could fail: raw mathtext and overlapping tick boxes are found."""
    assert unreadable_texts(["$\\mathdefault{10^{19}}$", "10¹⁹", "cost $5"]) == ["$\\mathdefault{10^{19}}$"]
    a = {"text": "10¹⁸", "left": 0, "right": 40, "top": 0, "bottom": 10}
    b = {"text": "10¹⁹", "left": 30, "right": 70, "top": 0, "bottom": 10}
    c = {"text": "10²⁰", "left": 80, "right": 120, "top": 0, "bottom": 10}
    assert overlapping_ticks([a, b, c]) == [("10¹⁸", "10¹⁹")]


def test_harness_catches_errors_and_network_requests(tmp_path: Path) -> None:
    """The checks above could fail: a page with a remote image and a script error trips them."""
    executable = _chromium()
    page = tmp_path / "broken.html"
    page.write_text('<html><body><img src="https://example.invalid/x.png"><script>console.error("boom"); missing();</script></body></html>')
    with Browser(executable) as browser:
        session = open_page(browser, page.as_uri())
        evaluate(browser, session, "1")
        found = problems(browser.events)
    assert any(p.startswith("network request: https://example.invalid") for p in found)
    assert any("boom" in p for p in found)
    assert any(p.startswith("exception:") for p in found)
