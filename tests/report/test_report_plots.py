"""The plot functions: labelled axes, log scales, tooltips, deterministic SVG/PNG output."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from scalelaw.report import plots


def _final_loss_figure() -> plots.Figure:
    n = np.geomspace(1e7, 1e9, 6)
    loss = 1.8 + 400 * n**-0.34
    grid = np.geomspace(5e6, 1e10, 40)
    fitted = 1.8 + 400 * grid**-0.34
    return plots.final_loss_figure(
        [plots.Points(n, loss, "fitted runs", tips=[f"run {i}" for i in range(6)])],
        [plots.Line(grid, fitted, "law", fitted - 0.01, fitted + 0.01)],
        variable="params",
        title="Final loss against N (synthetic)",
    )


def test_final_loss_figure_has_units_log_x_and_title() -> None:
    fig = _final_loss_figure()
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Model size N (parameters)"
    assert "nats" in ax.get_ylabel()
    assert ax.get_title() == "Final loss against N (synthetic)"
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"fitted runs", "law"}


def test_svg_inlines_cleanly_with_tooltips_and_no_url() -> None:
    svg = plots.figure_svg(_final_loss_figure(), salt="a")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "http" not in svg and "<metadata" not in svg
    assert svg.count("<title>run ") == 6
    assert "<text" in svg  # text stays text (searchable, small)


def test_svg_is_deterministic_and_salted() -> None:
    first = plots.figure_svg(_final_loss_figure(), salt="a")
    assert first == plots.figure_svg(_final_loss_figure(), salt="a")
    assert first != plots.figure_svg(_final_loss_figure(), salt="b")


def test_thinning_keeps_long_curves_small() -> None:
    steps = np.arange(20_000.0)
    curve = plots.Curve("long", plots.Points(steps, 3 + 1 / np.sqrt(steps + 1), "obs"))
    fig = plots.loss_curves_figure([curve], title="one long curve")
    drawn = fig.axes[0].collections[0].get_offsets()
    assert len(drawn) <= plots.MAX_POINTS_PER_CURVE
    assert drawn[0][0] == 0 and drawn[-1][0] == steps[-1]


def test_residuals_are_relative_percent_and_split_heldout() -> None:
    predicted = np.array([2.0, 2.5, 3.0, 3.5])
    observed = np.array([2.02, 2.5, 2.97, 3.5])
    fig = plots.residuals_figure(predicted, observed, title="r", heldout=np.array([False, False, True, True]))
    spread = fig.axes[1]
    fitted, heldout = (c.get_offsets()[:, 1] for c in spread.collections[:2])
    np.testing.assert_allclose(fitted, [1.0, 0.0])
    np.testing.assert_allclose(heldout, [-1.0, 0.0])
    assert "%" in spread.get_ylabel()


def test_bootstrap_figure_one_panel_per_finite_quantity() -> None:
    rng = np.random.default_rng(0)
    fig = plots.bootstrap_figure(
        {"E": rng.normal(1.8, 0.05, 100), "alpha": rng.normal(0.3, 0.01, 100), "empty": np.full(100, np.nan)},
        title="bootstrap",
        estimates={"E": 1.8},
        intervals={"E": (1.7, 1.9)},
    )
    assert [ax.get_title() for ax in fig.axes] == ["E", "alpha"]


def test_isoflop_figure_has_optimum_panel() -> None:
    sizes = np.geomspace(1e7, 1e9, 7)
    profiles = [plots.IsoflopProfile(c, sizes, 2 + 0.05 * np.log(sizes / 1e8) ** 2, optimum=(1e8, 2.0)) for c in (1e17, 1e18)]
    fig = plots.isoflop_figure(profiles, title="iso")
    assert len(fig.axes) == 2
    assert fig.axes[1].get_yscale() == "log" and "FLOPs" in fig.axes[1].get_xlabel()


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_save_figure_writes_deterministic_files(tmp_path: Path, suffix: str) -> None:
    first = plots.save_figure(_final_loss_figure(), tmp_path / f"a{suffix}").read_bytes()
    second = plots.save_figure(_final_loss_figure(), tmp_path / f"b{suffix}").read_bytes()
    assert first == second and len(first) > 1000
    if suffix == ".png":
        assert first.startswith(b"\x89PNG")


def test_save_figure_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="png or .svg"):
        plots.save_figure(_final_loss_figure(), tmp_path / "a.jpg")


@pytest.mark.parametrize("count", [3, 300])  # few points: one <path> each; many: <use> of one marker
def test_every_point_gets_its_own_tooltip_and_nothing_else(count: int) -> None:
    x = np.geomspace(1e7, 1e9, count)
    groups = [
        plots.Points(x, 3 - 0.1 * np.log10(x), "fitted", tips=[f"fit {i}" for i in range(count)]),
        plots.Points(x * 2, 2.9 - 0.1 * np.log10(x), "held out", heldout=True, tips=[f"held {i}" for i in range(count)]),
    ]
    svg = plots.figure_svg(plots.final_loss_figure(groups, [], variable="params", title="t"), salt="s")
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    assert titles == [f"fit {i}" for i in range(count)] + [f"held {i}" for i in range(count)]


def test_bootstrap_panel_titles_keep_short_symbols() -> None:
    """A report drew 'log10 R D' for the parameter R_D; long snake_case names still read as words."""
    from scalelaw.report.plots_checks import _readable

    assert _readable("log10 R_D") == "log10 R_D" and _readable("E") == "E"
    assert _readable("tokens_per_param_at_1e21_flops") == "tokens per param at 1e21 flops"


def test_a_title_naming_a_long_source_stays_inside_its_figure() -> None:
    """A title with a long path ran off the figure's left edge ("i-power: loss curves on /tmp/..."): every title
    and suptitle must lie within the figure once drawn."""
    source = "/tmp/hfs/out/w16-s120/checkpoint-120/trainer_state.json and 2 more"
    steps = np.arange(1.0, 200.0)
    curve = plots.Curve("w16-s120", plots.Points(steps, 3 + 1 / np.sqrt(steps), "obs"))
    figures = [plots.loss_curves_figure([curve], title=f"multi-power: loss curves on {source}"),
               plots.loss_curve_panels_figure([curve], title=f"multi-power: each run on {source}"),
               plots.residuals_figure(np.array([2.0, 2.5]), np.array([2.1, 2.4]), title=f"chinchilla: residuals on {source}")]
    for fig in figures:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        plots.figure_svg(fig)  # what the report does: wraps the titles, then draws
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
        box = fig.bbox
        texts = [ax.title for ax in fig.axes] + [t for t in [fig._suptitle] if t is not None]  # noqa: SLF001
        texts += [ax.yaxis.label for ax in fig.axes]
        for text in texts:
            if not text.get_text():
                continue
            extent = text.get_window_extent(renderer)
            assert extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1, (text.get_text(), extent, box)
            assert extent.y0 >= box.y0 - 1 and extent.y1 <= box.y1 + 1, (text.get_text(), extent, box)
