"""Task accuracy forecasts on the bundled OLMo ladder, as a user with a full ladder or a few-size family has them.

Protocols (all from ``dataset:olmo-ladder``; the truth is each 1B run's accuracy averaged
over its last 5 checkpoints, OLMo's "actual"):

- ladder: fit on the 18 runs of 190M-760M (5 token multiples), forecast the six 1B runs;
- few sizes: one token multiple at a time, fit on its three sizes 190M, 370M, 760M (a family
  as users have them: every size trained the same way), forecast 1B at that multiple; three
  sizes leave nothing to backtest, so the accuracy laws' prior sizes the interval;
- few runs: the three sizes at two token multiples (0.5 and 2, 1 and 5, 2 and 10; six runs,
  enough for one backtest fold across size), forecast 1B at both multiples.

Methods, as the CLI runs them on the code under test: ``fit --metric ACC`` (the default law
for a rising metric: sigmoid-chinchilla before issue 24, ``auto`` among the accuracy laws
after) and ``fit --metric ACC --via BPB`` (the two-step ladder method; after issue 24 with
step 1 calibrated by its backtests). Per protocol and method, in accuracy points: mean and
worst absolute error, mean signed error (forecast - truth), the share of truths inside the
50/80/90% intervals and the median half-width of the 90% interval. Then, for the two-step
method on the ladder protocol, the error of each step on its own: step 1 measured as the
accuracy the step-2 sigmoid gives at the forecast bpb minus at the true bpb, step 2 as the
sigmoid at the true bpb minus the true accuracy.

Run: ``PYTHONPATH=src python bench/bench_tasks.py [--bootstrap 50]``; the same script runs
on older code (``PYTHONPATH=/tmp/tasks-before/src``), where the accuracy laws do not exist.
Part 2 (loss-to-loss, Brandfonbrener et al. 2024) runs with ``--loss-to-loss``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import scalelaw.datasets as datasets
from scalelaw.data.runs import RunSet
from scalelaw.errors import ScalelawError
from scalelaw.fit.metric_fit import fit_metric
from scalelaw.fit.two_step import fit_two_step

TASKS = {
    "HellaSwag": "hellaswag_val",
    "ARC-Easy": "arc_easy_test",
    "ARC-Challenge": "arc_challenge_test",
    "PIQA": "piqa_val",
    "CSQA": "csqa_val",
    "SocialIQA": "socialiqa_val",
    "OpenBookQA": "openbookqa_test",
    "WinoGrande": "winogrande_val",
}
LEVEL = 0.9
WINDOW = 5


def final_mean(runs: RunSet, run: str, column: str) -> float:
    """The run's ``column`` averaged over its last ``WINDOW`` logged values (OLMo's target value)."""
    values = runs.curve(run)[column].dropna().to_numpy(dtype=float)
    return float(np.mean(values[-WINDOW:]))


def target_point(runs: RunSet, run: str) -> dict[str, float]:
    rows = runs.curve(run)
    return {"params": float(rows["params"].iloc[-1]), "tokens": float(rows["tokens"].dropna().iloc[-1])}


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


LEVELS = (0.5, 0.8, 0.9)


def one_step(train: RunSet, acc: str, bootstrap: int):
    """What ``fit --metric ACC`` fits: auto among the accuracy laws when the code has them, else the default law."""
    try:
        from scalelaw.selection.metric_auto import fit_metric_auto
    except ImportError:
        return fit_metric(train, acc, bootstrap=bootstrap, seed=0, ci_level=LEVEL)
    return fit_metric_auto(train, acc, bootstrap=bootstrap, seed=0, ci_level=LEVEL, progress=False)


def two_step(train: RunSet, acc: str, bpb: str, bootstrap: int):
    """What ``fit --metric ACC --via BPB`` fits (step 1 calibrated by its backtests when the code can)."""
    fit = fit_two_step(train, acc, bpb, bootstrap=bootstrap, seed=0, ci_level=LEVEL)
    try:
        from scalelaw.selection.metric_auto import calibrate_two_step
    except ImportError:
        return fit
    return calibrate_two_step(fit, train, bootstrap=bootstrap, seed=0, ci_level=LEVEL, progress=False)


def forecast(fit, point: dict[str, float], level: float) -> tuple[float, float, float]:
    p = fit.predict(level=level, **point)
    value = p.value if hasattr(p, "value") else p.loss
    return float(value[0]), float(p.lo[0]), float(p.hi[0])


def protocols(runs: RunSet) -> dict[str, list[tuple[RunSet, list[str]]]]:
    large = [r for r in runs.runs if r.startswith("1B-")]
    small = runs.select([r for r in runs.runs if r not in set(large)])
    few = [(runs.select([f"{size}-{m}xC" for size in ("190M", "370M", "760M")]), [f"1B-{m}xC"])
           for m in ("0.5", "1", "2", "5", "10")]
    pairs = [(runs.select([f"{size}-{m}xC" for size in ("190M", "370M", "760M") for m in pair]),
              [f"1B-{m}xC" for m in pair]) for pair in (("0.5", "2"), ("1", "5"), ("2", "10"))]
    return {"ladder 190M-760M -> 1B": [(small, large)], "few sizes (3 at one multiple) -> 1B": few,
            "few runs (3 sizes x 2 multiples) -> 1B": pairs}


def tasks_part(runs: RunSet, bootstrap: int) -> None:
    rows, detail = [], []
    for protocol, families in protocols(runs).items():
        for method in ("fit --metric", "fit --metric --via"):
            out = {"err": [], "width": [], **{lv: [] for lv in LEVELS}}
            refused, chosen, start = 0, {}, time.perf_counter()
            for name, key in TASKS.items():
                acc, bpb = f"eval/downstream/{key}_rc_5shot_len_norm", f"eval/downstream_bpb/{key}_rc_5shot_bpb"
                for train, targets in families:
                    try:
                        fit = one_step(train, acc, bootstrap) if method == "fit --metric" else two_step(train, acc, bpb, bootstrap)
                    except ScalelawError:
                        refused += len(targets)
                        continue
                    label = (fit.selection or {}).get("chosen", fit.law.name) if hasattr(fit, "selection") else "two-step"
                    chosen[label] = chosen.get(label, 0) + 1
                    for run in targets:
                        truth, point = final_mean(runs, run, acc), target_point(runs, run)
                        for level in LEVELS:
                            value, lo, hi = forecast(fit, point, level)
                            out[level].append(lo <= truth <= hi)
                        out["err"].append(100 * (value - truth))
                        out["width"].append(50 * (hi - lo))
                        if protocol.startswith("ladder"):
                            detail.append([method, name, run, f"{100 * truth:.1f}",
                                           f"{100 * value:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]",
                                           f"{100 * (value - truth):+.2f}", "yes" if lo <= truth <= hi else "NO"])
            err = np.array(out["err"])
            if not err.size:
                rows.append([protocol, method, f"0 (+{refused} refused)", *["-"] * 9])
                continue
            rows.append([protocol, method, f"{err.size}" + (f" (+{refused} refused)" if refused else ""),
                         f"{np.mean(np.abs(err)):.2f}", f"{np.max(np.abs(err)):.2f}", f"{np.mean(err):+.2f}",
                         *(f"{np.mean(out[lv]):.0%}" for lv in LEVELS), f"{np.median(out['width']):.2f}",
                         ", ".join(f"{k} x{v}" for k, v in sorted(chosen.items(), key=lambda kv: -kv[1])),
                         f"{time.perf_counter() - start:.0f}s"])
    table(f"Per forecast, ladder protocol ({LEVEL:.0%} intervals; accuracy in points)",
          ["method", "task", "1B run", "actual", "forecast [90%]", "error", "in 90%"], detail)
    table(f"Task accuracy forecasts, in accuracy points ({bootstrap} bootstrap replicates; goal: mean <= 2 with "
          ">= 85% inside the 90% intervals)",
          ["protocol", "method", "forecasts", "mean |err|", "worst", "mean signed", "in 50%", "in 80%", "in 90%",
           "median 90% half-width", "laws chosen", "time"], rows)


def step_errors(runs: RunSet, bootstrap: int) -> None:
    """Each step of the two-step method on the ladder protocol, in accuracy points."""
    (small, large), = protocols(runs)["ladder 190M-760M -> 1B"]
    errors: dict[str, list[float]] = {"step 1 (bpb from N, D)": [], "step 2 (accuracy from bpb)": [], "both": []}
    bpb_errors = []
    for key in TASKS.values():
        acc, bpb = f"eval/downstream/{key}_rc_5shot_len_norm", f"eval/downstream_bpb/{key}_rc_5shot_bpb"
        fit = fit_two_step(small, acc, bpb, bootstrap=0)
        step2 = fit.step2
        for run in large:
            p = fit.predict(**target_point(runs, run))
            true_bpb, truth = final_mean(runs, run, bpb), final_mean(runs, run, acc)
            at_true = float(step2.law.predict(step2.theta[None, :], fit._step2_design(np.array([true_bpb])))[0][0])
            errors["step 1 (bpb from N, D)"].append(100 * (float(p.value[0]) - at_true))
            errors["step 2 (accuracy from bpb)"].append(100 * (at_true - truth))
            errors["both"].append(100 * (float(p.value[0]) - truth))
            bpb_errors.append(100 * (float(p.via[0]) / true_bpb - 1))
    rows = [[label, f"{np.mean(np.abs(e)):.2f}", f"{np.max(np.abs(e)):.2f}", f"{np.mean(e):+.2f}"]
            for label, e in errors.items()]
    table(f"Two-step error by step, ladder protocol, accuracy points (step 1's bpb forecasts: mean "
          f"{np.mean(np.abs(bpb_errors)):.2f}% off, mean signed {np.mean(bpb_errors):+.2f}%)",
          ["step", "mean |err|", "worst", "mean signed"], rows)


def loss_part(runs: RunSet, small: RunSet, large: list[str], bootstrap: int) -> None:
    sets = [c for c in runs.columns if c.startswith("eval/") and c.endswith("-validation/CrossEntropyLoss")]
    few = small.select([r for r in small.runs if r.endswith("-1xC") or r.endswith("-10xC")])
    methods = {"from C4 loss": ([], []), "C4 law -> l2l": ([], []), f"C4 law -> l2l, {len(few)} runs": ([], [])}
    rows = []
    for column in sets:
        direct = fit_metric(small, column, law="loss-to-loss", bootstrap=bootstrap, seed=0, ci_level=LEVEL)
        chained = fit_two_step(small, column, "loss", bootstrap=bootstrap, seed=0, ci_level=LEVEL, window=1)
        sparse = fit_two_step(small, column, "loss", bootstrap=bootstrap, seed=0, ci_level=LEVEL, window=1,
                              step2_runs=few)
        for run in large:
            c4 = float(runs.curve(run)["loss"].dropna().iloc[-1])
            truth = float(runs.curve(run)[column].dropna().iloc[-1])
            p = direct.predict(orig_loss=c4)
            forecasts = [(p.loss[0], p.lo[0], p.hi[0])]
            for fit in (chained, sparse):
                q = fit.predict(level=LEVEL, **target_point(runs, run))
                forecasts.append((q.value[0], q.lo[0], q.hi[0]))
            cells = []
            for (errors, covered), (value, lo, hi) in zip(methods.values(), forecasts):
                error, inside = abs(value - truth) / truth, bool(lo <= truth <= hi)
                errors.append(error)
                covered.append(inside)
                cells += [f"{value:.4f} [{lo:.4f}, {hi:.4f}]", f"{100 * error:.2f}%", "yes" if inside else "NO"]
            rows.append([column.split("/")[1].removesuffix("-validation"), run, f"{truth:.4f}", *cells])
    header = ["set", "1B run", "actual"]
    for label in methods:
        header += [f"{label} [90%]", "rel err", "in"]
    table(f"Part 2: 1B final losses on the other validation sets, fitted on 190M-760M; {LEVEL:.0%} intervals. "
          "l2l = loss-to-loss L_set = K (L_C4 - E_x)^kappa + E_y", header, rows)
    summary = [[label, f"{100 * np.mean(e):.2f}%", f"{100 * np.median(e):.2f}%", f"{100 * np.max(e):.2f}%",
                f"{np.mean(c):.0%} ({int(np.sum(c))}/{len(c)})"] for label, (e, c) in methods.items()]
    table("Part 2 summary", ["method", "mean rel err", "median", "worst", "coverage"], summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=50)
    parser.add_argument("--loss-to-loss", action="store_true", help="also run part 2 (loss-to-loss)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # fit diagnostics are summarised in the tables, not repeated per fit
    runs = datasets.load("olmo-ladder")
    start = time.perf_counter()
    tasks_part(runs, args.bootstrap)
    step_errors(runs, args.bootstrap)
    if args.loss_to_loss:
        large = [r for r in runs.runs if r.startswith("1B-")]
        loss_part(runs, runs.select([r for r in runs.runs if r not in set(large)]), large, args.bootstrap)
    print(f"\ntotal {time.perf_counter() - start:.0f}s (2 shared cores)")


if __name__ == "__main__":
    main()
