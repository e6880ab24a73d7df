"""Figures to files and to inline SVG: deterministic bytes, and hover tips on markers.

:func:`figure_svg` is what the HTML report inlines: text kept as text, element ids
salted per figure, no date, and a ``<title>`` on every marker of a scatter whose
group id starts with :data:`TIP_PREFIX` (the plot functions register the texts).
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from scalelaw.data.atomic import atomic_write

#: Prefix of the SVG group ids of scatters that carry hover texts.
TIP_PREFIX = "tips-"
#: Attribute of a Figure holding ``{group id: hover texts}``.
TIPS_ATTRIBUTE = "scalelaw_tips"


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG or SVG, chosen by the file's suffix, without a timestamp."""
    path = Path(path)
    suffix = path.suffix.lower()
    plain_log_ticks(fig)
    wrap_titles(fig)
    if suffix == ".svg":
        data = figure_svg(fig, standalone=True).encode("utf-8")
    elif suffix == ".png":
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=150, metadata={"Software": None})
        data = buffer.getvalue()
    else:
        raise ValueError(f"cannot save a figure as {suffix!r}; use .png or .svg")
    atomic_write(path, lambda handle: handle.write(data))  # never over a device, FIFO or symlink
    return path


def figure_svg(fig: Figure, *, salt: str = "scalelaw", standalone: bool = False) -> str:
    """The figure as SVG text: text kept as text, ids salted, no date, hover tips added.

    With ``standalone=False`` the XML prologue, namespaces and metadata are dropped so
    the SVG can be inlined in HTML; ``salt`` keeps element ids unique across figures.
    """
    plain_log_ticks(fig)
    wrap_titles(fig)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", dpi=150, metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = _add_tips(buffer.getvalue(), fig.__dict__.get(TIPS_ATTRIBUTE, {}), salt)
    if standalone:
        return svg
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)
    return svg


_SUPERSCRIPT = str.maketrans("0123456789-−+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻⁺")


def plain_tick_text(label: str) -> str:
    """A log axis' mathtext tick label as plain Unicode: ``$\\mathdefault{2\\times10^{-3}}$`` → ``2×10⁻³``."""
    if not (label.startswith("$") and label.endswith("$")):
        return label
    text = label.strip("$").replace("\\mathdefault", "").replace("\\times", "×").replace("{", "").replace("}", "")
    base, caret, power = text.partition("^")
    return base + power.translate(_SUPERSCRIPT) if caret else base


class _PlainLogFormatter(Formatter):
    """Matplotlib's own log-axis labels, turned from mathtext into plain text.

    The report draws user text (run names may hold ``$``) with math parsing off, and
    then mathtext tick labels would print raw (``$\\mathdefault{10^{19}}$``); wrapping the
    axis' formatter keeps matplotlib's choice of which ticks to label.
    """

    def __init__(self, inner: Formatter) -> None:
        self.inner = inner

    def set_axis(self, axis: object) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def set_locs(self, locs: object) -> None:
        self.inner.set_locs(locs)

    def get_offset(self) -> str:
        return plain_tick_text(self.inner.get_offset())

    def __call__(self, x: float, pos: int | None = None) -> str:
        return plain_tick_text(self.inner(x, pos))


def plain_log_ticks(fig: Figure) -> None:
    """Give every log axis of ``fig`` plain-text tick labels (see :class:`_PlainLogFormatter`)."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() not in ("log", "symlog"):
                continue
            for get, set_ in ((axis.get_major_formatter, axis.set_major_formatter),
                              (axis.get_minor_formatter, axis.set_minor_formatter)):
                current = get()
                if not isinstance(current, _PlainLogFormatter):
                    set_(_PlainLogFormatter(current))


#: Width of an average character as a fraction of the font size (DejaVu Sans, with a margin).
CHARACTER_WIDTH = 0.6


def wrap_titles(fig: Figure) -> None:
    """Break every title wider than the room it is centred in (its axes, or the figure for a suptitle) into
    lines: a title naming a long source path would otherwise run off the figure's left edge."""
    width = fig.get_figwidth() * 72.0
    titled = [(ax.title, ax.get_position().width * width) for ax in fig.axes]
    if fig._suptitle is not None:  # noqa: SLF001  # matplotlib keeps the suptitle there and nowhere public
        titled.append((fig._suptitle, width))  # noqa: SLF001
    for text, room in titled:
        words = text.get_text()
        if "\n" in words or not words:
            continue
        per_line = max(int(room / (CHARACTER_WIDTH * text.get_fontsize())), 16)
        if len(words) > per_line:
            text.set_text(textwrap.fill(words, per_line, break_on_hyphens=False))


def _add_tips(svg: str, tips: Mapping[str, Sequence[str]], salt: str) -> str:
    """Put a ``<title>`` (a hover tooltip in browsers) on each marker of tipped scatters.

    Matplotlib writes a scatter's markers as ``<use>`` elements after a ``<defs>`` block,
    or, for few points, as one ``<path>`` each; both get titles, in drawing order.
    """
    for gid, texts in tips.items():
        opening = f'<g id="{gid}">'
        if opening not in svg:
            continue
        start = svg.index(opening)
        end = _group_end(svg, start)
        block = svg[start + len(opening) : end]
        cut = block.index("</defs>") + len("</defs>") if "</defs>" in block else 0
        counter = iter(texts)

        def titled(match: re.Match[str]) -> str:
            tip = next(counter, None)
            tag = match.group(1)
            return match.group(0) if tip is None else f"{match.group(0)[:-2]}><title>{escape(tip)}</title></{tag}>"

        markers = re.sub(r"<(use|path) [^>]*/>", titled, block[cut:])
        svg = svg[:start] + f'<g id="{salt}-{gid}">' + block[:cut] + markers + svg[end:]
    return svg


def _group_end(svg: str, start: int) -> int:
    """The index of the ``</g>`` closing the group opened at ``start``."""
    depth = 0
    for match in re.finditer(r"<g[\s>]|</g>", svg[start:]):
        depth += -1 if match.group(0) == "</g>" else 1
        if depth == 0:
            return start + match.start()
    raise ValueError("unbalanced <g> in matplotlib's SVG")
