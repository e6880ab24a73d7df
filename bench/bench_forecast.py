"""Forecasts across scale: fit small, predict large, on every multi-scale protocol the bundled data allows.

Each protocol is a function in ``PROTOCOLS`` that fits laws on the small runs and returns
one :class:`Row` per law: mean and worst relative error of the held-out final losses, the
mean relative error over the last 80% of each held-out curve (curve laws), the signed bias
of the final losses, the share of held-out final losses inside the engine's 50%, 80%
and 90% prediction intervals, and the median half-width of the 90% interval (relative to
the forecast: (hi - lo) / 2 / forecast). Every law is fitted as ``scalelaw fit --law LAW`` fits it:
calibrated by its own rolling-origin backtests when the data allow, with a run bootstrap of
``--bootstrap`` replicates (0: no parameter resampling). Add a protocol by appending a function to ``PROTOCOLS``.

Every protocol also scores ``auto`` (``--law auto`` on the small runs: the law chosen by
backtest, with intervals calibrated by the same backtests), told the target's size (``--target``)
when the selection takes one. The suite ends with the pooled rows of ``auto`` across size
(the issue's goals: mean error, mean signed error, coverage, median half-width). ``--early-stop`` adds
bench_early_stop.py (one run, 10/20/40% seen -> its final loss); the suite ends with the
coverage of the 50/80/90% intervals over every row, and ``--svg`` draws it as a
reliability diagram.

``--diagnose`` prints, per ``auto`` fit, the chosen law's parameters (``*`` on a bound), its error model and
trend verdict, and each held-out run's signed error, distance beyond the data and 90% interval.

Run: ``PYTHONPATH=src python bench/bench_forecast.py [--quick] [--bootstrap B] [--early-stop] [--svg F]``; to
compare with another version, run the same script with ``PYTHONPATH`` pointing at that version's ``src``.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

import scalelaw.datasets as datasets
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw import laws as law_catalog
from scalelaw.fit import FitResult
from scalelaw.selection.auto import fit_auto, fit_calibrated

LEVELS = (0.5, 0.8, 0.9)
#: Curve errors are scored on the last 80% of each held-out run (by step).
CURVE_FROM = 0.2


@dataclass(frozen=True)
class Options:
    quick: bool
    bootstrap: int
    #: Print, per ``auto`` fit, the chosen law's parameters and each held-out run's signed error (``--diagnose``).
    diagnose: bool = False


@dataclass(frozen=True)
class Row:
    protocol: str
    law: str
    targets: int
    final_mean: float
    final_worst: float
    curve_mean: float
    bias: float
    coverage: tuple[float, ...]
    seconds: float
    note: str = ""
    #: Median over targets of the 90% interval's half-width relative to the forecast.
    half_width: float = float("nan")


def fit_quietly(runs: RunSet, law: str, options: Options, law_options: dict | None = None,
                **kwargs: object) -> tuple[FitResult, float, list[str]]:
    """Fit as ``scalelaw fit --law LAW`` does (calibrated by its own backtests when the data allow),
    with the bench's bootstrap; return the fit, its wall time and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        chosen = law_catalog.get(law, **(law_options or {}))
        fit = fit_calibrated(runs, chosen, required=False, bootstrap=options.bootstrap, seed=0, progress=False,
                             **kwargs)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
    return fit, seconds, sorted({str(w.message).split(":")[1].strip()[:60] for w in caught if ":" in str(w.message)})


def score(protocol: str, law: str, fit: FitResult, held: RunSet, seconds: float, note: str = "") -> Row:
    """Errors and interval coverage of ``fit`` on the held-out runs."""
    design = fit.law.design(held)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predictions = [fit.predict_design(design, level=level) for level in LEVELS]
    rel = predictions[0].loss / design.loss - 1
    steps = np.asarray(design.inputs.get("step", np.full(design.n, np.nan)), dtype=float)
    last_step = held.table.groupby("run")["step"].max() if "step" in held.table else None
    finals, curve = [], []
    for run in dict.fromkeys(design.run.tolist()):
        rows = np.flatnonzero(design.run == run)
        finals.append(rows[-1])
        if last_step is not None and rows.size > 1:
            curve.extend(rows[steps[rows] >= CURVE_FROM * float(last_step[run])])
    at = np.array(finals)
    truth = design.loss[at]
    inside = [float(np.mean((p.lo[at] <= truth) & (truth <= p.hi[at]))) for p in predictions]
    return Row(protocol, law, at.size, float(np.mean(np.abs(rel[at]))), float(np.max(np.abs(rel[at]))),
               float(np.mean(np.abs(rel[curve]))) if curve else float("nan"), float(np.mean(rel[at])),
               tuple(inside), seconds, note, _half_width(predictions[-1], at))


def _half_width(prediction: object, at: np.ndarray | slice = slice(None)) -> float:
    """Median of (hi - lo) / 2 / forecast over the points ``at`` (the last level's interval: 90%)."""
    lo, hi, loss = (np.asarray(getattr(prediction, k))[at] for k in ("lo", "hi", "loss"))
    return float(np.median((hi - lo) / 2 / loss))


def fit_and_score(protocol: str, law: str, train: RunSet, held: RunSet, options: Options, **kwargs: object) -> Row:
    try:
        fit, seconds, notes = fit_quietly(train, law, options, **kwargs)
    except InputError as exc:
        return Row(protocol, law, 0, *[float("nan")] * 4, (float("nan"),) * 3, 0.0, f"refused: {exc}")
    return score(protocol, law, fit, held, seconds, "; ".join(notes))


def auto_and_score(protocol: str, train: RunSet, held: RunSet, options: Options, **kwargs: object) -> Row:
    """``--law auto`` on the small runs (candidates backtested, calibrated intervals), scored like a law.

    Told the held-out runs' largest size (and their tokens) as ``target`` when this version takes one.
    """
    if TAKES_TARGET:
        kwargs = {**kwargs, "target": _target_of(held)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        try:
            fit = fit_auto(train, bootstrap=options.bootstrap, seed=0, progress=False, **kwargs)  # type: ignore[arg-type]
        except InputError as exc:
            return Row(protocol, "auto", 0, *[float("nan")] * 4, (float("nan"),) * 3, 0.0, f"refused: {exc}")
        seconds = time.perf_counter() - start
    if options.diagnose:
        diagnose(protocol, fit, held)
    return score(protocol, "auto", fit, held, seconds, f"chose {(fit.selection or {}).get('chosen')}")


def diagnose(protocol: str, fit: FitResult, held: RunSet) -> None:
    """Where a forecast's error comes from: the chosen law, its parameters (``*`` on a bound), its error model and
    trend verdict, and per held-out run its inputs, signed error (predicted/observed - 1), decades beyond the
    fitted data and whether the 90% interval holds it."""
    selection = fit.selection or {}
    chosen = next((c for c in selection.get("candidates", []) if c.get("label") == selection.get("chosen")), {})
    bounds = {p.name: (p.lower, p.upper) for p in fit.law.params}

    def shown(name: str, value: float) -> str:
        lower, upper = bounds.get(name, (-np.inf, np.inf))
        edge = np.isclose(value, lower, rtol=1e-3, atol=1e-9) or np.isclose(value, upper, rtol=1e-3)
        return f"{name}={value:.4g}{'*' if edge else ''}"

    print(f"  [diagnose] {protocol}: {selection.get('chosen')} "
          + " ".join(shown(k, v) for k, v in fit.params.items())
          + (f" fixed={fit.options.get('fix')}" if fit.options.get("fix") else ""))
    if fit.calibration is not None:
        c = fit.calibration
        print(f"  [diagnose]   law error: floor {c.floor:.2%}, slope {c.slope:.2%}, tested {c.tested_decades:.2f} "
              f"decades, correction {c.correction:+.2%}/decade (sd {c.correction_sd:.2%}); "
              f"{str(selection.get('trend', ''))[:120]}")
    if chosen.get("irreducible"):
        print(f"  [diagnose]   {chosen['irreducible'].get('verdict')}")
    design = fit.law.design(held)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prediction = fit.predict_design(design, level=0.9)
    decades = fit.decades_beyond(design)
    for run in dict.fromkeys(design.run.tolist()):
        i = np.flatnonzero(design.run == run)[-1]
        inputs = " ".join(f"{k}={float(v[i]):.3g}" for k, v in design.inputs.items()
                          if k in ("params", "tokens", "flops", "step", "unique_tokens"))
        inside = prediction.lo[i] <= design.loss[i] <= prediction.hi[i]
        print(f"  [diagnose]   {str(run)[:40]:<40} {inputs}  observed {design.loss[i]:.4f} predicted "
              f"{prediction.loss[i]:.4f} ({prediction.loss[i] / design.loss[i] - 1:+.2%}), {float(decades[i]):.2f} "
              f"decades out, {'inside' if inside else 'OUTSIDE'} 90% (half-width "
              f"{(prediction.hi[i] - prediction.lo[i]) / 2 / prediction.loss[i]:.2%})")


#: True when this version's ``fit_auto`` scores laws at a target's distance.
TAKES_TARGET = "target" in inspect.signature(fit_auto).parameters


def _target_of(held: RunSet) -> dict[str, float] | None:
    """The held-out runs' largest params and tokens (what a user names with ``--target``), when known."""
    finals = held.final()
    target = {k: float(finals[k].max()) for k in ("params", "tokens") if k in finals and finals[k].notna().all()}
    return target or None


# -- protocols ------------------------------------------------------------------------------------
def olmo_ladder(options: Options) -> list[Row]:
    """OLMo ladder: every checkpoint of 190M, 370M and 760M (all five lengths, reruns) -> the 1B runs.

    chinchilla-curve is scored twice: under each 1B run's own schedule, and from N and D
    alone (TARGETS rows with only params and tokens: the fitted runs' schedule family).
    """
    runs = datasets.load("olmo-ladder")
    train, held = runs.where("size != '1B'"), runs.where("size == '1B'")
    name = "OLMo 190M-760M -> 1B"
    fit, seconds, notes = fit_quietly(train, "chinchilla-curve", options)
    rows = [score(name, "chinchilla-curve", fit, held, seconds, "; ".join(notes))]
    finals = held.final()
    targets = RunSet(pd.DataFrame({"run": finals["run"], "loss": np.nan, "params": finals["params"],
                                   "tokens": finals["tokens"]}))
    rows.append(score_targets(name, "chinchilla-curve (N, D only)", fit, targets, finals["loss"].to_numpy(), seconds))
    if not options.quick:
        rows.append(fit_and_score(name, "chinchilla-curve", train, held, options, law_options={"sized_data": False}))
        rows[-1] = dataclasses.replace(rows[-1], law="chinchilla-curve (eps = 0)")
        rows.append(fit_and_score(name, "multi-power-sized", train, held, options))
    rows.append(fit_and_score(name, "chinchilla", train, held, options))
    rows.append(auto_and_score(name, train, held, options))
    return rows


def score_targets(protocol: str, law: str, fit: FitResult, targets: RunSet, truth: np.ndarray, seconds: float) -> Row:
    """Final-loss errors and coverage for targets without a loss (one predicted point per run)."""
    design = fit.law.design(targets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predictions = [fit.predict_design(design, level=level) for level in LEVELS]
    rel = predictions[0].loss / truth - 1
    inside = [float(np.mean((p.lo <= truth) & (truth <= p.hi))) for p in predictions]
    return Row(protocol, law, truth.size, float(np.mean(np.abs(rel))), float(np.max(np.abs(rel))), float("nan"),
               float(np.mean(rel)), tuple(inside), seconds, "same fit as above", _half_width(predictions[-1]))


MPL_FIT = ("cosine_24000", "constant_24000", "wsdcon_9")


def multipowerlaw(options: Options) -> list[Row]:
    """Multi-Power Law data: all nine 25M curves + 100M's three paper fit curves -> 100M's other six.

    One training size cannot determine an N-dependence (checked: the single-size fit is
    refused); with two sizes E + A·N^-α has one number too many, so α is held at
    Chinchilla's 0.34. Baseline: multi-power on 100M's three curves alone (the paper's
    protocol, no cross-size information).
    """
    small = _prefixed(datasets.load("multipowerlaw-25m"), "25m/")
    big = _prefixed(datasets.load("multipowerlaw-100m"), "100m/")
    if options.quick:  # every 4th logged loss of the fitted curves (every 512 steps): 4x fewer points to fit
        small = _thinned(small, 4)
    fit_big = big.select([f"100m/{s}" for s in MPL_FIT])
    fit_big = _thinned(fit_big, 4) if options.quick else fit_big
    held = big.select([r for r in big.runs if r.split("/")[1] not in MPL_FIT])
    train = RunSet.concat([small, fit_big])
    name = "MPL 25M(9) + 100M(3) -> 100M(6)"
    rows = [fit_and_score(name, "chinchilla-curve", train, held, options, fix={"alpha": 0.34})]
    rows.append(fit_and_score("MPL 25M(9) alone -> 100M(6)", "chinchilla-curve", small, held, options))
    if not options.quick:
        rows.append(fit_and_score(name, "multi-power-sized", train, held, options))
    rows.append(auto_and_score(name, train, held, options))
    rows.append(fit_and_score("MPL 100M(3) -> 100M(6), one size", "multi-power", fit_big, held, options))
    rows.append(auto_and_score("MPL 100M(3) -> 100M(6), one size", fit_big, held, options))
    return rows


def datablations(options: Options) -> list[Row]:
    """Datablations (the paper's 182 runs): fit N < 2.5e9, predict the runs of N >= 2.5e9 (final losses)."""
    runs = datasets.load("datablations").where("in_paper_fit")
    train, held = runs.where("params < 2.5e9"), runs.where("params >= 2.5e9")
    name = "datablations N<2.5B -> N>=2.5B"
    rows = [fit_and_score(name, law, train, held, options) for law in ("chinchilla", "data-constrained")]
    return rows + [auto_and_score(name, train, held, options)]


def porian(options: Options) -> list[Row]:
    """Porian et al.: per setup, fit budgets <= 3.2e18 FLOPs, predict 6.4e18-2.56e19 (final losses, pooled).

    ``auto`` backtests across compute (the axis of this protocol) within each setup's small budgets.
    """
    runs = datasets.load("porian2024")
    setups = list(dict.fromkeys(runs.table["setup"]))
    setups = setups[:3] if options.quick else setups
    return [_porian_pooled(runs, setups, law, options) for law in ("chinchilla", "auto")]


def _porian_pooled(runs: RunSet, setups: list[str], law: str, options: Options) -> Row:
    parts: list[pd.DataFrame] = []
    seconds = 0.0
    for setup in setups:
        one = runs.where(f"setup == {setup!r}")
        train, held = one.where("flops <= 3.2e18"), one.where("flops > 3.2e18")
        if len(held) == 0:
            continue
        if law == "auto":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                target = {"target": {"flops": float(held.final()["flops"].max())}} if TAKES_TARGET else {}
                fit = fit_auto(train, by="flops", bootstrap=options.bootstrap, seed=0, progress=False, **target)
                seconds += time.perf_counter() - start
            if options.diagnose:
                diagnose(f"Porian {setup}", fit, held)
        else:
            fit, took, _ = fit_quietly(train, law, options)
            seconds += took
        design = fit.law.design(held)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames = [pd.DataFrame({"observed": design.loss, "loss": p.loss, "lo": p.lo, "hi": p.hi, "level": level})
                      for level, p in ((lv, fit.predict_design(design, level=lv)) for lv in LEVELS)]
        parts.append(pd.concat(frames))
    table = pd.concat(parts)
    first = table[table["level"] == LEVELS[0]]
    rel = (first["loss"] / first["observed"] - 1).to_numpy()
    coverage = tuple(float(np.mean((g["lo"] <= g["observed"]) & (g["observed"] <= g["hi"])))
                     for _, g in table.groupby("level"))
    last = table[table["level"] == LEVELS[-1]]
    half = float(np.median((last["hi"] - last["lo"]) / 2 / last["loss"]))
    return Row(f"Porian C<=3.2e18 -> C>3.2e18 ({len(setups)} setups)", law, len(first),
               float(np.mean(np.abs(rel))), float(np.max(np.abs(rel))), float("nan"), float(np.mean(rel)),
               coverage, seconds, "", half)


def markov_ladder(options: Options) -> list[Row]:
    """scalelaw's own ladder (Markov corpus, known entropy rate): widths 8-32 -> width 48, all three lengths."""
    runs = datasets.load("markov-ladder")
    largest = runs.table["width"].max()
    train, held = runs.where(f"width < {largest}"), runs.where(f"width == {largest}")
    name = f"Markov ladder w8-32 -> w{largest}"
    laws = ["chinchilla-curve", "chinchilla"] if options.quick else ["chinchilla-curve", "multi-power-sized", "chinchilla"]
    return [fit_and_score(name, law, train, held, options) for law in laws] + [auto_and_score(name, train, held, options)]


PROTOCOLS: list[Callable[[Options], list[Row]]] = [olmo_ladder, multipowerlaw, datablations, porian, markov_ladder]


def _thinned(runs: RunSet, every: int) -> RunSet:
    """The same runs with only every ``every``-th logged loss of each run (and its last) kept."""
    table = runs.table.copy()
    logged = table["loss"].notna()
    rank = logged.groupby(table["run"]).cumsum()
    last = rank == rank.groupby(table["run"]).transform("max")
    table.loc[logged & (rank % every != 0) & ~last, "loss"] = np.nan
    return RunSet(table, runs.sources)


def _prefixed(runs: RunSet, prefix: str) -> RunSet:
    table = runs.table.assign(run=prefix + runs.table["run"].astype(str))
    return RunSet(table, {prefix + r: s for r, s in runs.sources.items()})


def print_rows(rows: list[Row]) -> None:
    header = ["protocol", "law", "n", "final mean", "final worst", "curve mean", "bias",
              *[f"in {int(100 * lv)}%" for lv in LEVELS], "half 90%", "fit s", "notes"]
    lines = [header]
    for r in rows:
        lines.append([r.protocol, r.law, str(r.targets), _pct(r.final_mean), _pct(r.final_worst), _pct(r.curve_mean),
                      _pct(r.bias, signed=True), *[_share(c) for c in r.coverage], _pct(r.half_width),
                      f"{r.seconds:.0f}", r.note[:90]])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False)) + "  " + line[-1])


def _pct(value: float, signed: bool = False) -> str:
    if not np.isfinite(value):
        return "-"
    return f"{100 * value:+.2f}%" if signed else f"{100 * value:.2f}%"


def _share(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{100 * value:.0f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer laws and setups, no bootstrap")
    parser.add_argument("--bootstrap", type=int, default=None, help="run-bootstrap replicates (default 0 quick, 10 full)")
    parser.add_argument("--early-stop", action="store_true", help="also run bench_early_stop (10/20/40%% seen)")
    parser.add_argument("--svg", default=None, help="write the reliability diagram of the suite here")
    parser.add_argument("--diagnose", action="store_true", help="print, per auto fit, the chosen law's parameters "
                        "(* on a bound) and each held-out run's signed error, distance and interval")
    parser.add_argument("--only", default=None, help="comma-separated protocols to run (default: all), e.g. porian,"
                        "markov_ladder")
    args = parser.parse_args()
    options = Options(args.quick, args.bootstrap if args.bootstrap is not None else (0 if args.quick else 10),
                      args.diagnose)
    import scalelaw

    print(f"bench_forecast: scalelaw from {scalelaw.__file__}; bootstrap={options.bootstrap}, errors relative to the "
          "observed loss; coverage = share of held-out final losses inside the engine's interval")
    rows: list[Row] = []
    chosen = [p for p in PROTOCOLS if not args.only or p.__name__ in args.only.split(",")]
    for protocol in chosen:
        start = time.perf_counter()
        found = protocol(options)
        rows.extend(found)
        print(f"  {protocol.__name__}: {time.perf_counter() - start:.0f} s", flush=True)
        print_rows(found)  # as each protocol ends, so a long run shows what it has
    print_rows(rows)
    print_across_size(rows)
    early = None
    if args.early_stop:
        import bench_early_stop

        early = bench_early_stop.run(args.quick)
        print()
        bench_early_stop.print_table(early)
    print_suite_coverage(rows, early, args.svg)


def print_across_size(rows: list[Row]) -> None:
    """``auto`` pooled over the protocols across size (targets weighted): the issue's goals in one line."""
    picked = [r for r in rows if r.law == "auto" and r.targets and "one size" not in r.protocol
              and np.all(np.isfinite(r.coverage))]
    if not picked:
        return
    n = np.array([r.targets for r in picked], dtype=float)
    mean = float(np.average([r.final_mean for r in picked], weights=n))
    signed = float(np.average([r.bias for r in picked], weights=n))
    cover = [float(np.average([r.coverage[i] for r in picked], weights=n)) for i in range(len(LEVELS))]
    half = float(np.median([r.half_width for r in picked]))
    print(f"\nauto across size ({len(picked)} protocols, {int(n.sum())} targets): mean error {100 * mean:.2f}% "
          f"(goal <= 0.5%), mean signed {100 * signed:+.2f}% (goal within 0.25%), "
          + ", ".join(f"in {int(100 * lv)}%: {100 * c:.0f}%" for lv, c in zip(LEVELS, cover))
          + f" (90% goal 85-95%), median of the protocols' median half-width {100 * half:.2f}% (goal <= 2%)")


def print_suite_coverage(rows: list[Row], early: pd.DataFrame | None, svg: str | None) -> None:
    """Share of truths inside the 50/80/90% intervals over the whole suite, per law and in all, weighted by targets."""
    frame = pd.DataFrame([{"law": r.law, "n": r.targets, **{lv: c for lv, c in zip(LEVELS, r.coverage)}}
                          for r in rows if r.targets and np.all(np.isfinite(r.coverage))])
    if early is not None:
        ok = early.dropna(subset=["error"])
        frame = pd.concat([frame, pd.DataFrame({"law": ok["law"], "n": 1, **{lv: ok[f"in{lv}"].astype(float)
                                                                             for lv in LEVELS}})])
    print("\nsuite-wide coverage (share of held-out truths inside the interval, weighted by targets):")
    groups = {"all rows": frame, "auto": frame[frame["law"] == "auto"],
              "named laws": frame[frame["law"] != "auto"]}
    series = {}
    for label, part in groups.items():
        if part.empty:
            continue
        shares = [float(np.average(part[lv], weights=part["n"])) for lv in LEVELS]
        series[label] = (LEVELS, shares)
        print(f"  {label:<11} n={int(part['n'].sum()):<5} " + "  ".join(f"{int(100 * lv)}%: {100 * c:.0f}%"
                                                                      for lv, c in zip(LEVELS, shares)))
    if svg:
        from scalelaw.report.reliability import reliability_figure
        from scalelaw.report.svg import save_figure

        save_figure(reliability_figure(series, title="bench_forecast: interval coverage over the suite"), svg)
        print(f"reliability diagram: {svg}")


if __name__ == "__main__":
    main()
