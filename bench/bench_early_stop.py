"""Early stopping: one run, partly trained, plus its planned schedule -> its final loss, with coverage.

For each run with a known final loss (the OLMo ladder, the Multi-Power Law curves), the
losses after 10%, 20% or 40% of the run's last logged step are hidden (the rows keep their
lr, and OLMo its ``lr_schedule`` spec), each curve law is fitted with its calibrated interval
(:func:`scalelaw.selection.auto.fit_calibrated`: backtested on what is seen, fitting the first
half, then quarter, of the seen checkpoints after the warmup and forecasting the rest), and
``auto`` is what ``--law auto`` chooses among them; ``auto (fallback)`` is what
``--law auto`` does when there are too few checkpoints to backtest (an uncalibrated fit
of the law with the fewest parameters, with a warning; ``--strict`` refuses). Printed per fraction seen and law: mean, worst and signed
final-loss error, and the share of true final losses inside the 50/80/90% intervals; then
the coverage over every forecast at each nominal level. ``--svg`` writes the reliability
diagram (nominal vs observed coverage) with :mod:`scalelaw.report.reliability`.

Run: ``PYTHONPATH=src nice python bench/bench_early_stop.py [--quick] [--svg out.svg]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import scalelaw.datasets as datasets
from scalelaw.data.runs import RunSet
from scalelaw import laws as law_catalog
from scalelaw.errors import InputError
from scalelaw.selection.auto import fit_auto, fit_calibrated
from scalelaw.selection.targets import predict_targets

LAWS = ["multi-power", "lr-annealing", "power(variable=step)"]
FRACTIONS = (0.1, 0.2, 0.4)
LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
TABLE_LEVELS = (0.5, 0.8, 0.9)
BOOTSTRAP = 20


def seen_part(runs: RunSet, run: str, fraction: float) -> tuple[RunSet, float, float]:
    """The run with its losses after ``fraction`` of its last logged step hidden; that step and its loss."""
    rows = runs.curve(run)
    last = float(rows.loc[rows["loss"].notna(), "step"].max())
    truth = float(rows.loc[rows["step"] == last, "loss"].iloc[0])
    rows = rows[rows["step"] <= last].copy()
    rows.loc[rows["step"] > fraction * last, "loss"] = np.nan
    return RunSet(rows.reset_index(drop=True), {run: runs.source(run) or "bench"}), last, truth


def forecast(seen: RunSet, last: float, truth: float) -> list[dict[str, object]]:
    """One row per law (and ``auto``): the forecast of the final loss and whether each interval holds it."""
    out = []
    for label in LAWS:
        name, _, option = label.partition("(")
        law = law_catalog.get(name, **dict([option.rstrip(")").split("=")]) if option else {})
        try:
            fit = fit_calibrated(seen, law, bootstrap=BOOTSTRAP, seed=0, progress=False)
        except InputError:
            out.append({"law": label, "error": np.nan})
            continue
        out.append({"law": label, **_scored(fit, seen, last, truth)})
    try:
        fit = fit_auto(seen, candidates=LAWS, bootstrap=BOOTSTRAP, seed=0, progress=False)
    except InputError as exc:
        return out + [{"law": "auto", "error": np.nan, "note": f"refused: {exc}"[:80]}]
    chosen = str((fit.selection or {}).get("chosen"))
    fell_back = "fell back" in str((fit.selection or {}).get("reason", ""))
    row = {"law": "auto (fallback)" if fell_back else "auto", **_scored(fit, seen, last, truth)}
    return out + [{**row, "note": f"fallback {chosen}"} if fell_back else row]


def _scored(fit: object, seen: RunSet, last: float, truth: float) -> dict[str, object]:
    """Error of the forecast final loss and, per level, whether the interval holds the truth."""
    inside = {}
    for level in LEVELS:
        predicted = predict_targets(fit, seen, level=level)  # type: ignore[arg-type]
        final = predicted[predicted["step"] == last].iloc[0]
        inside[f"in{level}"] = bool(final["lo"] <= truth <= final["hi"])
    return {"error": float(final["loss"]) / truth - 1, **inside}


def cases(quick: bool) -> list[tuple[str, RunSet, str]]:
    """(dataset, runs, run) for every run with a known final loss (a subset with --quick)."""
    out = []
    olmo = datasets.load("olmo-ladder")
    olmo_runs = [r for r in olmo.runs if "rerun" not in r]
    out += [("olmo-ladder", olmo, r) for r in (olmo_runs if not quick else [r for r in olmo_runs if r.endswith("-1xC")])]
    for name in ("multipowerlaw-25m", "multipowerlaw-100m"):
        mpl = datasets.load(name)
        chosen = mpl.runs if not quick else [r for r in mpl.runs if r.endswith("_24000")]
        out += [(name, mpl, r) for r in chosen]
        if quick:
            break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="OLMo 1xC runs and the 24k-step 25M curves only")
    parser.add_argument("--svg", default=None, help="write the reliability diagram here")
    args = parser.parse_args()
    start = time.perf_counter()
    table = run(args.quick)
    print(f"bench_early_stop: {table['run'].nunique()} runs, bootstrap {BOOTSTRAP}, {time.perf_counter() - start:.0f} s; "
          "error = predicted/true final loss - 1; in X% = share of true final losses inside the X% interval")
    print_table(table)
    print_reliability(table)
    if args.svg:
        from scalelaw.report.reliability import reliability_figure
        from scalelaw.report.svg import save_figure

        series = {law: (LEVELS, [float(g[f"in{lv}"].mean()) for lv in LEVELS])
                  for law, g in table.dropna(subset=["error"]).groupby("law")}
        save_figure(reliability_figure(series, title="Early stopping: interval coverage"), args.svg)
        print(f"reliability diagram: {args.svg}")


def run(quick: bool) -> pd.DataFrame:
    """Every case at every fraction seen: one row per (run, fraction, law) with error and coverage."""
    rows = []
    for dataset, runs, run in cases(quick):
        for fraction in FRACTIONS:
            seen, last, truth = seen_part(runs, run, fraction)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    found = forecast(seen, last, truth)
                except InputError as exc:
                    found = [{"law": "auto", "error": np.nan, "note": str(exc)[:60]}]
            rows += [{"dataset": dataset, "run": run, "seen": fraction, **r} for r in found]
    return pd.DataFrame(rows)


def print_table(table: pd.DataFrame) -> None:
    """Per dataset, fraction seen and law: n, mean/worst/signed error, coverage at 50/80/90%."""
    lines = []
    for (dataset, seen, law), g in table.groupby(["dataset", "seen", "law"], sort=True):
        ok = g.dropna(subset=["error"])
        err = ok["error"].to_numpy(dtype=float)
        cover = [f"{100 * ok[f'in{lv}'].mean():.0f}%" if len(ok) else "-" for lv in TABLE_LEVELS]
        stats = [f"{100 * np.mean(np.abs(err)):.2f}%", f"{100 * np.max(np.abs(err)):.2f}%",
                 f"{100 * np.mean(err):+.2f}%"] if err.size else ["-", "-", "-"]
        lines.append([dataset, f"{seen:.0%}", law, f"{len(ok)}/{len(g)}", *stats, *cover])
    header = ["dataset", "seen", "law", "n", "mean err", "worst", "bias", "in 50%", "in 80%", "in 90%"]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    for line in [header, *lines]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(line, widths)))


def print_reliability(table: pd.DataFrame) -> None:
    """Observed against nominal coverage over every forecast, per law."""
    ok = table.dropna(subset=["error"])
    print("\ncoverage over every early-stopping forecast (nominal -> observed):")
    for law, g in ok.groupby("law"):
        cells = "  ".join(f"{int(100 * lv)}%:{100 * g[f'in{lv}'].mean():.0f}%" for lv in LEVELS)
        print(f"  {law:<22} n={len(g):<4} {cells}")


if __name__ == "__main__":
    main()
