"""A fit and a prediction as tables people read: a text summary, HTML for notebooks, DataFrames.

The layout follows statsmodels' ``summary()``: a header (law, formula, data, how the fit was
made), the parameters with their intervals, the derived quantities, then what the
diagnostics, the backtest calibration and ``--law auto`` found. The command line prints
the same parameter rows (:func:`parameter_rows`).
"""

from __future__ import annotations

import html
import math
import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from scalelaw._lazy import lazy

if TYPE_CHECKING:
    import pandas as pd

    from scalelaw.fit.result import FitResult, Prediction
else:
    pd = lazy("pandas")

#: Width of the text summary (characters).
WIDTH = 78


def parameter_rows(fit: FitResult, *, repeats: bool = True) -> list[dict[str, Any]]:
    """One row per parameter and derived quantity: name, value, lo, hi, kind (fitted, fixed, on bound, derived).

    ``repeats=False`` leaves out derived quantities named like a parameter (Chinchilla's E is both).
    """
    rows = []
    on_bound = set(fit.diagnostics.on_bound)
    for name, value in fit.params.items():
        lo, hi = fit.ci.get(name, (None, None))
        kind = "fixed" if name in fit.options.get("fix", {}) else "on bound" if name in on_bound else "fitted"
        rows.append({"name": name, "value": value, "lo": lo, "hi": hi, "kind": kind})
    for name, value in fit.derived.items():
        if not repeats and name in fit.params:
            continue
        lo, hi = fit.derived_ci.get(name, (None, None))
        rows.append({"name": name, "value": value, "lo": lo, "hi": hi, "kind": "derived"})
    return rows


def parameter_frame(fit: FitResult) -> pd.DataFrame:
    """:func:`parameter_rows` as a DataFrame indexed by name, with each parameter's meaning."""
    meaning = {p.name: p.meaning for p in fit.law.params}
    frame = pd.DataFrame(parameter_rows(fit, repeats=False), columns=["name", "value", "lo", "hi", "kind"])
    frame["meaning"] = [meaning.get(name, "") for name in frame["name"]]
    return frame.astype({"value": float, "lo": float, "hi": float}).set_index("name")


def prediction_frame(prediction: Prediction) -> pd.DataFrame:
    """One row per predicted point: the inputs it was predicted at, loss, lo, hi and decades beyond the fitted range."""
    columns: dict[str, Any] = {}
    if prediction.run is not None:
        columns["run"] = prediction.run
    columns.update(prediction.inputs)
    columns.update({"loss": prediction.loss, "lo": prediction.lo, "hi": prediction.hi,
                    "decades_beyond": prediction.extrapolation})
    columns.update({f"decades_beyond_{name}": values for name, values in prediction.extrapolation_by.items()})
    return pd.DataFrame(columns)


def loss_source_text(fit: FitResult) -> str | None:
    """Which logged loss a loss fit was fitted to, e.g. 'eval/loss' (None when it says nothing: a column named
    loss, or a fit of another --metric)."""
    if fit.options.get("metric") not in (None, "loss"):
        return None
    named = [str(s) for s in fit.options.get("loss_source") or [] if str(s) != "loss"]
    return ", ".join(named) or None


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{float(value):.4g}"


def _header(fit: FitResult) -> list[tuple[str, str]]:
    """(label, text) pairs of the summary's header."""
    d, options = fit.diagnostics, fit.options
    level = float(options.get("ci_level", 0.95))
    objective = str(options.get("objective", fit.law.objective))
    if options.get("delta") is not None and objective == "huber":
        objective += f" (delta {options['delta']:g})"
    replicates = 0 if fit.bootstrap_params is None else fit.bootstrap_params.shape[0]
    space = "" if fit.law.residual == "linear" else "log-"
    return [
        ("Law", fit.law.name),
        ("Formula", fit.law.formula),
        ("Data", f"{d.n_points} points from {d.n_runs} runs (hash {fit.data_hash[:12] or '-'})"),
        ("Objective", objective),
        ("Converged", f"{'yes' if d.converged else 'NO'}; {d.starts_in_best_basin} of {d.starts} starts in the best "
                      "basin"),
        ("Residuals", f"{space}RMSE {_number(d.residual_rmse)}, mean {_number(d.residual_mean)}, max |r| "
                      f"{_number(d.residual_max_abs)}"),
        ("Intervals", f"{level:.0%} level; bootstrap of {replicates} replicates" if replicates else
                      f"{level:.0%} level; no bootstrap (residual noise{' and backtests' if fit.calibration else ''} only)"),
        ("Fitted range", "; ".join(f"{k} {lo:.3g} to {hi:.3g}" for k, (lo, hi) in fit.fitted_range.items()) or "-"),
    ]


def _findings(fit: FitResult) -> list[tuple[str, str]]:
    """(label, text) pairs: diagnostics, calibration, selection, warnings."""
    d = fit.diagnostics
    pair = " and ".join(d.most_correlated) if d.most_correlated else "-"
    out = [
        ("Diagnostics", f"condition number {_number(d.condition_number)}; most correlated {pair} "
                        f"(r = {_number(d.correlation)}); runs test z = {_number(d.runs_test_z)}; on a bound: "
                        f"{', '.join(d.on_bound) or 'none'}"),
        ("Calibration", fit.calibration.describe(d.residual_rmse) if fit.calibration is not None else
                        "none: intervals leave out the law's own error beyond the data (fit with --law auto or "
                        "--calibrate)"),
    ]
    if fit.selection:
        out.append(("Selection", f"{fit.selection.get('chosen', fit.law.name)}: {fit.selection.get('reason', '')}"))
    out.extend(("Warning", message) for message in d.warnings)
    return out


def _wrapped(label: str, text: str) -> list[str]:
    """``label: text`` wrapped to :data:`WIDTH`, continuation lines indented under the text."""
    indent = " " * 14
    return textwrap.wrap(text, WIDTH, initial_indent=f"{label + ':':<14}", subsequent_indent=indent) or [label]


def summary_text(fit: FitResult) -> str:
    """The statsmodels-like text summary of :meth:`FitResult.summary`."""
    level = float(fit.options.get("ci_level", 0.95))
    low, high = f"lo [{(1 - level) / 2:.1%}]", f"hi [{(1 + level) / 2:.1%}]"
    lines = [f"scalelaw fit: {fit.law.name}".center(WIDTH), "=" * WIDTH]
    for label, text in _header(fit):
        lines += _wrapped(label, text)
    lines.append("-" * WIDTH)
    lines.append(f"{'name':<32}{'value':>11}{low:>12}{high:>12}  kind")
    rows = parameter_rows(fit, repeats=False)
    for i, row in enumerate(rows):
        if row["kind"] == "derived" and (i == 0 or rows[i - 1]["kind"] != "derived"):
            lines += ["-" * WIDTH, "derived quantities"]
        lines.append(f"{row['name'][:31]:<32}{_number(row['value']):>11}{_number(row['lo']):>12}"
                     f"{_number(row['hi']):>12}  {row['kind']}")
    lines.append("-" * WIDTH)
    for label, text in _findings(fit):
        lines += _wrapped(label, text)
    lines.append("=" * WIDTH)
    return "\n".join(lines)


def summary_html(fit: FitResult) -> str:
    """The summary as an HTML fragment for notebooks; every piece of text escaped."""
    e = html.escape

    def table(rows: list[tuple[str, str]]) -> str:
        body = "".join(f"<tr><th style='text-align:left'>{e(k)}</th><td style='text-align:left'>{e(v)}</td></tr>"
                       for k, v in rows)
        return f"<table>{body}</table>"

    head = "".join(f"<th>{e(c)}</th>" for c in ("name", "value", "lo", "hi", "kind"))
    body = "".join(
        "<tr>" + "".join(f"<td>{e(str(row[c]) if c in ('name', 'kind') else _number(row[c]))}</td>"
                         for c in ("name", "value", "lo", "hi", "kind")) + "</tr>"
        for row in parameter_rows(fit, repeats=False)
    )
    return (f"<div class='scalelaw-fit'><h4>scalelaw fit: {e(fit.law.name)}</h4>{table(_header(fit))}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{table(_findings(fit))}</div>")


def short_repr(fit: FitResult) -> str:
    """``FitResult(law='chinchilla', params={E=1.69, ...}, converged=True, n_points=120)``."""
    params = ", ".join(f"{k}={_number(v)}" for k, v in fit.params.items())
    d = fit.diagnostics
    return f"FitResult(law={fit.law.name!r}, params={{{params}}}, converged={d.converged}, n_points={d.n_points})"


def prediction_repr(prediction: Prediction) -> str:
    """``Prediction(n=3, loss=[2.31, ...], lo=[...], hi=[...], warnings=1)``."""

    def head(values: np.ndarray) -> str:
        shown = ", ".join(_number(v) for v in np.asarray(values)[:3])
        return f"[{shown}{', ...' if np.size(values) > 3 else ''}]"

    return (f"Prediction(n={np.size(prediction.loss)}, loss={head(prediction.loss)}, lo={head(prediction.lo)}, "
            f"hi={head(prediction.hi)}, warnings={len(prediction.warnings)})")
