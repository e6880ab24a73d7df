"""write_report on real fits: one self-contained file with every part the issue asks for."""

from __future__ import annotations

import dataclasses
import re
import warnings
from html import escape
from pathlib import Path

import pytest

from scalelaw.data.runs import RunSet
from scalelaw.fit import FitResult
from scalelaw.report import FitEntry, Section, document, render_report, write_report
from scalelaw.report import fit_section as fit_section_module
from scalelaw.report.html import format_number

from report_fixtures import REPORT_FIGURES


def test_report_holds_every_part(report_file: Path, chinchilla_fit: FitResult, porian_split: tuple[RunSet, RunSet]) -> None:
    text = report_file.read_text(encoding="utf-8")
    assert text.count('<figure id="') == REPORT_FIGURES
    assert text.count("<h2>") == 5  # one section per item, and how the report was produced
    assert "http" not in text and not re.search(r"""(src|href)=["'](?!#|data:)""", text)
    for name, value in chinchilla_fit.params.items():
        assert format_number(value) in text, name
        assert format_number(chinchilla_fit.ci[name][0]) in text
    for warning in chinchilla_fit.diagnostics.warnings:
        assert escape(warning) in text
    overall = chinchilla_fit.evaluate(porian_split[1])["overall"]
    assert "Held-out evaluation" in text and format_number(overall["mae"]) in text
    assert escape(chinchilla_fit.law.formula) in text
    assert "pytest tests/report" in text  # the command that produced it
    assert escape('"ci_level": 0.95') in text  # the fit's options


def test_bare_fit_takes_runs_and_heldout(chinchilla_fit: FitResult, porian_split: tuple[RunSet, RunSet], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[FitEntry] = []
    monkeypatch.setattr(document, "fit_section", lambda entry, **_: seen.append(entry) or Section("s"))
    render_report([chinchilla_fit, FitEntry(chinchilla_fit, title="own")], runs=porian_split[0], heldout=porian_split[1])
    assert seen[0] == FitEntry(chinchilla_fit, *porian_split)
    assert seen[1].runs is None and seen[1].title == "own"  # an entry keeps its own data


def test_fit_without_data_still_reports_parameters(curve_fit: FitResult, tmp_path: Path) -> None:
    path = write_report(curve_fit, path=tmp_path / "sub" / "alone.html")
    text = path.read_text(encoding="utf-8")
    assert text.count('<figure id="') == 1  # the bootstrap histograms only
    assert format_number(curve_fit.params["alpha"]) in text


def test_strict_fit_is_drawn_quietly(chinchilla_fit: FitResult, porian_split: tuple[RunSet, RunSet]) -> None:
    strict = dataclasses.replace(chinchilla_fit, options={**chinchilla_fit.options, "strict": True})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the plots extrapolate on purpose: that must not warn or raise
        text = render_report(FitEntry(strict, *porian_split))
    assert text.count('<figure id="') == 4  # final loss, residuals, bootstrap, held-out coverage


def test_rendering_is_deterministic(curve_fit: FitResult) -> None:
    assert render_report(curve_fit, command="c") == render_report(curve_fit, command="c")


def test_curve_fit_plots_the_prediction_of_the_heldout_run(report_file: Path) -> None:
    text = report_file.read_text(encoding="utf-8")
    assert "constant_72000 (held out)" in text and "constant_24000 (fitted)" in text


def test_an_empty_report_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        render_report([])


@pytest.mark.parametrize(
    "warning",
    [
        "the optimiser did not converge",
        "parameters on a bound: E",
        "near-degenerate parameters: A and alpha trade off (correlation 0.99999, condition number 1e9)",
        "only 5 points for 7 free parameters",
        "structured residuals: runs test z = -4.32 along params",
        "residuals correlate with params (Spearman 0.50)",
        "only 15% of bootstrap replicates converged",
    ],
)
def test_every_engine_warning_is_explained(chinchilla_fit: FitResult, warning: str) -> None:
    diagnostics = dataclasses.replace(chinchilla_fit.diagnostics, warnings=[warning])
    explained = fit_section_module._warnings(dataclasses.replace(chinchilla_fit, diagnostics=diagnostics))
    assert len(explained) == 1 and explained[0].startswith(warning) and "What it means:" in explained[0]


def test_auto_fit_report_shows_the_backtest_table_and_coverage(tmp_path) -> None:
    import numpy as np
    import pandas as pd

    from scalelaw.data.runs import RunSet
    from scalelaw.selection.auto import fit_auto
    from scalelaw.report.document import render_report
    from scalelaw.report.fit_section import FitEntry

    rng = np.random.default_rng(0)
    flops = np.logspace(17, 21, 12)
    loss = (2.0 + 129.0 * flops**-0.106) * np.exp(rng.normal(0, 0.002, flops.size))
    runs = RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(12)], "flops": flops, "loss": loss}))
    fit = fit_auto(runs.select([f"r{i}" for i in range(10)]), bootstrap=20)
    text = render_report([FitEntry(fit, heldout=runs.select(["r10", "r11"]))])
    assert "How the law was chosen" in text and "power(variable=flops)" in text
    assert "reliability" in text  # the coverage figure of the held-out runs
    # the column the choice was made on is shown, named by its folds (seen missing in a rendered report)
    deciding = fit.selection["deciding_folds"]
    assert deciding and "error on the deciding folds" in text and escape(deciding[0]) in text
    chosen = next(c for c in fit.selection["candidates"] if c["label"] == fit.selection["chosen"])
    # errors in percent of the loss, as the sentence above the table gives them (raw fractions were seen in a report)
    assert f"{100 * chosen['decided_error']:.2f}%" in text
    assert format_number(chosen["decided_error"]) not in text
    # the sentence on the law's error names the residual scatter the interval also carries, with its size (a
    # report read "0.02% inside the range" beside 9% backtest errors, the scatter being 16% and unnamed)
    assert f"residual scatter (RMSE {fit.diagnostics.residual_rmse:.2%})" in text
    assert "Held-out points are predictions the fit never saw" in text
    assert "Held-out points" not in render_report([FitEntry(fit, runs=runs.select([f"r{i}" for i in range(10)]))])


def test_the_fitted_runs_given_as_data_are_not_called_held_out(chinchilla_fit: FitResult, porian_split: tuple[RunSet, RunSet],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`scalelaw report fit.json DATA` with the data the fit was fitted on: those are the fitted runs."""
    seen: list[FitEntry] = []
    monkeypatch.setattr(document, "fit_section", lambda entry, **_: seen.append(entry) or Section("s"))
    fitted, heldout = porian_split
    render_report(chinchilla_fit, heldout=fitted)  # the same runs, passed as held out
    render_report(chinchilla_fit, runs=fitted, heldout=RunSet.concat([fitted, heldout]))
    assert seen[0].runs is fitted and seen[0].heldout is None
    assert seen[1].heldout is not None and not set(seen[1].heldout.runs) & set(fitted.runs)


def test_log_axes_are_drawn_as_plain_text(report_file: Path) -> None:
    """Log-axis ticks read 10¹⁹, not raw mathtext, and no figure text shows TeX markup."""
    text = report_file.read_text(encoding="utf-8")
    assert "mathdefault" not in text and "\\times" not in text
    assert re.search(r">10[⁰¹²³⁴⁵⁶⁷⁸⁹]+<", text)


@pytest.mark.parametrize(("label", "plain"), [
    ("$\\mathdefault{10^{19}}$", "10¹⁹"),
    ("$\\mathdefault{2\\times10^{-3}}$", "2×10⁻³"),
    ("$\\mathdefault{10^{0}}$", "10⁰"),
    ("", ""),
    ("run $a$ b", "run $a$ b"),
])
def test_plain_tick_text(label: str, plain: str) -> None:
    from scalelaw.report.svg import plain_tick_text

    assert plain_tick_text(label) == plain


def test_a_fit_without_intervals_says_so_in_the_parameter_caption(chinchilla_fit: FitResult) -> None:
    """Seen in a screenshot: "Fitted parameters with 95% intervals" above a table of dashes (no bootstrap)."""
    bare = dataclasses.replace(chinchilla_fit, ci={}, bootstrap_params=None)
    text = render_report(FitEntry(bare))
    assert "Fitted parameters (no intervals: the fit has no bootstrap" in text
    assert "Fitted parameters with" not in text
    assert "Fitted parameters with 95% intervals" in render_report(FitEntry(chinchilla_fit))
