"""Task accuracy and loss-to-loss forecasts on the bundled OLMo ladder: fit on 190M–760M, predict 1B.

Part 1 (Bhagia et al. 2024's two-step forecast): for each task, step 1 fits Chinchilla to
the task's bpb (each run's mean over its last 5 checkpoints), step 2 a sigmoid from bpb
to accuracy on every checkpoint (first 10% skipped, 5-checkpoint moving average, plus
the (0, 1) anchor); the one-step baseline fits sigmoid-chinchilla (N, D) → accuracy.
Each 1B run is predicted at its (N, D); the truth is its accuracy averaged over its last
5 checkpoints (OLMo's "actual"). Reported: absolute error in points and whether the 90%
interval holds the truth, per task and overall.

Part 2 (Brandfonbrener et al. 2024's loss-to-loss): for each of the ten other validation
sets, L_set = K·(L_C4 − E_x)^κ + E_y fitted on the small runs' final losses (E_x and E_y
from Chinchilla fits of each loss), then each 1B run's loss on the set predicted from its
observed C4 loss; and the transfer: a Chinchilla law of C4 (all small runs) chained into
the loss-to-loss law (E_x from the C4 law), predicting from (N, D) alone, with step 2
fitted on all small runs or on only six of them (the 1xC and 10xC run of each size).

Run: ``PYTHONPATH=src python bench/bench_tasks.py [--bootstrap 100]`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import scalelaw.datasets as datasets
from scalelaw.data.runs import RunSet
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


def tasks_part(runs: RunSet, small: RunSet, large: list[str], bootstrap: int) -> None:
    rows, summary = [], {"two-step": ([], []), "one-step": ([], [])}
    for name, key in TASKS.items():
        acc, bpb = f"eval/downstream/{key}_rc_5shot_len_norm", f"eval/downstream_bpb/{key}_rc_5shot_bpb"
        start = time.perf_counter()
        two = fit_two_step(small, acc, bpb, bootstrap=bootstrap, seed=0, ci_level=LEVEL)
        one = fit_metric(small, acc, bootstrap=bootstrap, seed=0, ci_level=LEVEL)
        seconds = time.perf_counter() - start
        for run in large:
            point, truth = target_point(runs, run), final_mean(runs, run, acc)
            p2 = two.predict(level=LEVEL, **point)
            p1 = one.predict(**point)
            cells = []
            for label, value, lo, hi in (("two-step", p2.value[0], p2.lo[0], p2.hi[0]),
                                         ("one-step", p1.loss[0], p1.lo[0], p1.hi[0])):
                error, covered = 100 * abs(value - truth), bool(lo <= truth <= hi)
                summary[label][0].append(error)
                summary[label][1].append(covered)
                cells += [f"{100 * value:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]", f"{error:.2f}", "yes" if covered else "NO"]
            beyond = "yes" if p2.beyond_seen[0] else "no"
            rows.append([name, run, f"{100 * truth:.1f}", *cells[:3], beyond, *cells[3:], f"{seconds:.0f}s"])
            seconds = 0.0
    table(
        f"Part 1: 1B accuracy (points) from fits on 190M-760M; {LEVEL:.0%} intervals, {bootstrap} bootstrap replicates",
        ["task", "1B run", "actual", "two-step [90%]", "|err|", "in", "beyond seen", "one-step [90%]", "|err|", "in", "fit time"],
        rows,
    )
    per_task = []
    for label, (errors, covered) in summary.items():
        per_task.append([label, f"{np.mean(errors):.2f}", f"{np.median(errors):.2f}", f"{np.max(errors):.2f}",
                         f"{np.mean(covered):.0%} ({int(np.sum(covered))}/{len(covered)})"])
    table("Part 1 summary (goal: mean |err| <= 2 points, 90% intervals covering 85-95%)",
          ["method", "mean |err|", "median", "worst", "coverage"], per_task)


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
    parser.add_argument("--bootstrap", type=int, default=100)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # fit diagnostics are summarised in the tables, not repeated per fit
    runs = datasets.load("olmo-ladder")
    large = [r for r in runs.runs if r.startswith("1B-")]
    small = runs.select([r for r in runs.runs if r not in set(large)])
    start = time.perf_counter()
    tasks_part(runs, small, large, args.bootstrap)
    loss_part(runs, small, large, args.bootstrap)
    print(f"\ntotal {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
