"""The Unraveling pipeline on synthetic runs with known constants (Kaplan et al. 2020's).

Runs of 1M–60M parameters at five batch sizes are drawn from the kaplan-steps law with
Gaussian loss noise; the step-by-step estimation (and, when the fitting engine is
available, the all-at-once fit) must recover the constants, and answers 1–4 at 60M, 1B
and 10B parameters must contain the truth within their 95% intervals.
Run: ``python bench/bench_plan_unraveling.py``.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

import scalelaw

from scalelaw.cli.output import print_table
from scalelaw.laws import kaplan_steps as ks
from scalelaw.plan import answers
from scalelaw.plan.intervals import Estimate
from scalelaw.plan.unraveling import fit_stepwise, simulate_runs

TRUTH = ks.KAPLAN_2020
NAMES = tuple(TRUTH)
THETA = np.array([[TRUTH[p] for p in NAMES]])
SIZES = np.geomspace(1e6, 6e7, 7)
BATCHES = 2.0 ** np.arange(16, 25, 2)  # 65k to 16.8M tokens per step
STEPS = np.unique(np.geomspace(10, 1e5, 60).round())
NOISE = 0.005
BOOTSTRAP = 100
CALIBRATION_SEEDS = 5
CALIBRATION_BOOTSTRAP = 40


def _row(name: str, truth: float, estimate: Estimate) -> dict[str, object]:
    inside = estimate.low <= truth <= estimate.high
    return {
        "quantity": name,
        "truth": truth,
        "estimate": estimate.value,
        "95% interval": f"[{estimate.low:.4g}, {estimate.high:.4g}]",
        "rel. error": estimate.value / truth - 1,
        "truth inside": "yes" if inside else "NO",
    }


def _answer_rows(fitted: object) -> list[dict[str, object]]:
    rows = []
    for n in (6e7, 1e9, 1e10):
        truth = ks.converged_loss(THETA, np.array([n]))[0, 0]
        rows.append(_row(f"1. L(N) at N={n:.0e}", truth, answers.minimum_loss(fitted, params=n).values["min_loss"]))
    for n, target in ((6e7, 3.3), (1e9, 2.8)):
        a2 = answers.minimum_steps_and_tokens(fitted, params=n, loss=target).values
        rows.append(_row(f"2. S_min N={n:.0e} L={target}", ks.min_steps(THETA, np.array([n]), np.array([target]))[0, 0], a2["S_min"]))
        rows.append(_row(f"2. E_min N={n:.0e} L={target}", ks.min_tokens(THETA, np.array([n]), np.array([target]))[0, 0], a2["E_min"]))
    for target in (2.5, 3.0, 4.0):
        rows.append(_row(f"3. B_crit at L={target}", ks.critical_batch(THETA, np.array([target]))[0, 0],
                         answers.critical_batch_size(fitted, loss=target).values["B_crit"]))
    trade = answers.batch_tradeoff(fitted, params=1e9, loss=2.8, batches=np.array([2.0**18, 2.0**22]))
    for row in trade:
        b = row["batch_size"]
        s_min = ks.min_steps(THETA, np.array([1e9]), np.array([2.8]))[0, 0]
        b_crit = ks.critical_batch(THETA, np.array([2.8]))[0, 0]
        rows.append(_row(f"3. steps at B={b:.0f}, N=1e9 L=2.8", s_min * (1 + b_crit / b), row["steps"]))
    steps = np.array([1e3, 1e4, 1e5])
    curve, _ = answers.trajectory(fitted, params=1e9, batch_size=2.0**21, steps=steps)
    truth = ks.solve_loss(THETA, np.full(3, 1e9), steps, np.full(3, 2.0**21))[0]
    for s, t, e in zip(steps, truth, curve):
        rows.append(_row(f"4. L(N=1e9, S={s:.0e}, B=2^21)", t, e))
    return rows


def _param_rows(params: dict[str, float], draws: np.ndarray) -> list[dict[str, object]]:
    low, high = np.nanpercentile(draws, [2.5, 97.5], axis=0)
    return [_row(p, TRUTH[p], Estimate(params[p], lo, hi)) for p, lo, hi in zip(NAMES, low, high)]


def main() -> int:
    warnings.simplefilter("ignore")
    runs = simulate_runs(TRUTH, sizes=SIZES, batches=BATCHES, steps=STEPS, noise=NOISE, seed=0)
    start = time.perf_counter()
    stepwise = fit_stepwise(runs, bootstrap=BOOTSTRAP, seed=0)
    stepwise_seconds = time.perf_counter() - start
    print(f"{len(runs)} runs, {len(runs.table)} points, noise sd {NOISE}; step-by-step fit with {BOOTSTRAP} "
          f"bootstrap refits took {stepwise_seconds:.1f} s")
    rows = _param_rows(dict(stepwise.params), stepwise.bootstrap_params)
    print_table("Step-by-step estimates of the constants", rows)
    answer_rows = _answer_rows(stepwise)
    print_table("Answers 1-4 from the step-by-step fit, against the truth", answer_rows)
    misses = sum(r["truth inside"] != "yes" for r in rows + answer_rows)
    print(f"step-by-step: truth outside the interval: {misses} of {len(rows) + len(answer_rows)}")

    start = time.perf_counter()
    at_once = scalelaw.fit(runs, law="kaplan-steps", bootstrap=BOOTSTRAP, seed=0)
    at_once_seconds = time.perf_counter() - start
    once_rows = _param_rows(dict(at_once.params), at_once.bootstrap_params)
    once_answers = _answer_rows(at_once)
    print_table(f"All at once (scalelaw.fit, Huber on log loss, {BOOTSTRAP} run-bootstrap refits)", once_rows)
    print_table("Answers 1-4 from the all-at-once fit, against the truth", once_answers)
    compare = [
        {
            "quantity": a["quantity"],
            "truth": a["truth"],
            "step-by-step rel. error": a["rel. error"],
            "all-at-once rel. error": b["rel. error"],
            "step-by-step inside": a["truth inside"],
            "all-at-once inside": b["truth inside"],
        }
        for a, b in zip(rows + answer_rows, once_rows + once_answers)
    ]
    print_table("Step by step vs all at once", compare)
    once_misses = sum(r["truth inside"] != "yes" for r in once_rows + once_answers)
    print(f"all-at-once: truth outside the interval: {once_misses} of {len(once_rows) + len(once_answers)}; "
          f"time {at_once_seconds:.1f} s vs step-by-step {stepwise_seconds:.1f} s (same run, same bootstrap count)")
    _calibration()
    return 0


def _calibration() -> None:
    """Interval coverage over fresh noise draws: 21 quantities per data set, both methods."""
    inside = {"step-by-step": 0, "all at once": 0}
    misses: dict[str, list[str]] = {"step-by-step": [], "all at once": []}
    total = 0
    for seed in range(1, CALIBRATION_SEEDS + 1):
        runs = simulate_runs(TRUTH, sizes=SIZES, batches=BATCHES, steps=STEPS, noise=NOISE, seed=seed)
        fits = {
            "step-by-step": fit_stepwise(runs, bootstrap=CALIBRATION_BOOTSTRAP, seed=seed),
            "all at once": scalelaw.fit(runs, law="kaplan-steps", bootstrap=CALIBRATION_BOOTSTRAP, seed=seed),
        }
        for name, fitted in fits.items():
            rows = _param_rows(dict(fitted.params), fitted.bootstrap_params) + _answer_rows(fitted)
            inside[name] += sum(r["truth inside"] == "yes" for r in rows)
            misses[name] += [str(r["quantity"]) for r in rows if r["truth inside"] != "yes"]
        total += len(rows)
    print_table(
        f"Calibration: truth inside the 95% interval over {CALIBRATION_SEEDS} fresh data sets "
        f"({CALIBRATION_BOOTSTRAP} bootstrap refits each)",
        [
            {"method": k, "inside": f"{v}/{total}", "share": v / total,
             "missed (quantity × times)": ", ".join(f"{q} ×{misses[k].count(q)}" for q in dict.fromkeys(misses[k]))}
            for k, v in inside.items()
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
