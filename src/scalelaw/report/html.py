"""A self-contained HTML page: inline CSS, inline SVG figures, no external URL.

The page is built from :class:`Section` objects holding already-escaped HTML blocks;
the helpers here (:func:`paragraph`, :func:`table`, :func:`figure`, ...) escape every
piece of user text, so a run named ``<script>`` stays text. The result opens from
disk with no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from matplotlib.figure import Figure

from scalelaw.report.svg import figure_svg


@dataclass(frozen=True)
class Section:
    """A titled part of the report: a list of HTML blocks, and optional sub-sections."""

    title: str
    blocks: Sequence[str] = ()
    children: Sequence[Section] = field(default_factory=tuple)


_CSS = """
:root { --ink: #1d2430; --muted: #5b6573; --line: #d8dde4; --warn-bg: #fff6e0; --warn: #8a5a00;
        --bad-bg: #fdecea; --bad: #9b1c1c; --ok-bg: #e9f7ef; --ok: #1e6b3a; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--ink);
       margin: 0; line-height: 1.45; background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2rem 1.6rem 3rem; background: #fff; }
h1 { font-size: 1.6rem; margin: 0.4rem 0 0.2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; margin-top: 2.2rem; }
h3 { font-size: 1.08rem; margin-top: 1.6rem; }
p.lead { color: var(--muted); margin-top: 0; }
nav.toc { background: #f0f3f7; padding: 0.6rem 1rem; border-radius: 6px; font-size: 0.92rem; }
nav.toc ul { margin: 0.2rem 0; padding-left: 1.2rem; }
nav.toc ul ul { display: flex; flex-wrap: wrap; gap: 0 1.2rem; list-style: none; padding-left: 0.4rem; font-size: 0.85rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid var(--line); padding: 0.28rem 0.7rem; text-align: left; vertical-align: top; }
th { background: #f0f3f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; font-family: "DejaVu Sans Mono", monospace; }
figure { margin: 1rem 0 1.6rem; }
figure svg { max-width: 100%; height: auto; display: block; cursor: zoom-in; }
figure.zoomed svg { max-width: none; width: 150%; cursor: zoom-out; }
figure.zoomed { overflow-x: auto; }
figcaption { color: var(--muted); font-size: 0.88rem; max-width: 980px; }
.notice { border-left: 4px solid; padding: 0.45rem 0.8rem; margin: 0.4rem 0; border-radius: 3px; }
.notice.warning { background: var(--warn-bg); border-color: var(--warn); }
.notice.error { background: var(--bad-bg); border-color: var(--bad); }
.notice.ok { background: var(--ok-bg); border-color: var(--ok); }
pre { background: #f0f3f7; padding: 0.6rem 0.8rem; overflow-x: auto; border-radius: 4px; font-size: 0.85rem; }
code { font-family: "DejaVu Sans Mono", monospace; }
footer { color: var(--muted); font-size: 0.82rem; margin-top: 2.5rem; }
"""

# Click a figure to enlarge it (and again to shrink it); nothing else runs.
_SCRIPT = """
document.querySelectorAll("figure").forEach(function (fig) {
  fig.addEventListener("click", function () { fig.classList.toggle("zoomed"); });
});
"""


def paragraph(text: str, *, css_class: str | None = None) -> str:
    """A paragraph of plain text."""
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{escape(text)}</p>"


def notice(text: str, *, level: str = "warning") -> str:
    """A highlighted box: ``warning``, ``error`` or ``ok``."""
    if level not in {"warning", "error", "ok"}:
        raise ValueError(f"unknown notice level {level!r}")
    return f'<div class="notice {level}" role="note">{escape(text)}</div>'


def preformatted(text: str) -> str:
    """Text shown verbatim in a monospace box (commands, formulas)."""
    return f"<pre><code>{escape(text)}</code></pre>"


def table(columns: Sequence[str], rows: Sequence[Mapping[str, object]], *, caption: str | None = None) -> str:
    """A table; numbers are right-aligned and formatted to 4 significant digits."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            css = ' class="num"' if numeric else ""
            cells.append(f"<td{css}>{escape(format_number(value) if numeric else _text(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    title = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(fig: Figure, *, caption: str, key: str) -> str:
    """A matplotlib figure inlined as SVG, with a caption; ``key`` must be unique per page."""
    svg = figure_svg(fig, salt=key)
    label = escape(caption, quote=True)
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{label}"', 1)
    return f'<figure id="fig-{escape(key, quote=True)}" class="plot">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def format_number(value: object) -> str:
    """A number to 4 significant digits (scientific notation when very large or small)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _text(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) < 10**6 else f"{value:.4g}"
    if value != value or value in (float("inf"), float("-inf")):
        return "not finite"
    return f"{value:.4g}"


def _text(value: object) -> str:
    return "–" if value is None else str(value)


def _anchor(title: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
    anchor, n = base, 2
    while anchor in used:
        anchor, n = f"{base}-{n}", n + 1
    used.add(anchor)
    return anchor


def _render_section(section: Section, depth: int, used: set[str]) -> tuple[str, str]:
    """The section's HTML and its table-of-contents entry (nested for sub-sections)."""
    anchor = _anchor(section.title, used)
    tag = f"h{min(depth, 6)}"
    parts = [f'<section id="{anchor}"><{tag}>{escape(section.title)}</{tag}>', *section.blocks]
    entries = []
    for child in section.children:
        body, entry = _render_section(child, depth + 1, used)
        parts.append(body)
        entries.append(entry)
    parts.append("</section>")
    nested = f"<ul>{''.join(entries)}</ul>" if entries and depth < 3 else ""
    return "\n".join(parts), f'<li><a href="#{anchor}">{escape(section.title)}</a>{nested}</li>'


def page(title: str, sections: Sequence[Section], *, subtitle: str | None = None, footer: str | None = None) -> str:
    """The whole HTML document: title, a table of contents, the sections, a footer."""
    used: set[str] = set()
    rendered = [_render_section(s, 2, used) for s in sections]
    body = "\n".join(html for html, _ in rendered)
    toc = [entry for _, entry in rendered]
    lead = f'<p class="lead">{escape(subtitle)}</p>' if subtitle else ""
    foot = f"<footer>{escape(footer)}</footer>" if footer else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{escape(title)}</h1>\n{lead}\n"
        f'<nav class="toc"><strong>Contents</strong><ul>{"".join(toc)}</ul></nav>\n'
        f"{body}\n{foot}\n</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )
