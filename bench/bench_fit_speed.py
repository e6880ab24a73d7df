"""Speed of the Chinchilla fit: variable projection, the batched 4,500-start grid, and scipy's grid.

All three run here, side by side, on the same data: Epoch-sized synthetic Chinchilla data
(245 runs, 1% log-normal noise, seed 0) and the bundled datasets with (N, D) final losses
(datablations, porian2024, olmo-ladder). The methods:

- ``projection``: scalelaw's default, a grid over (α, β) with E, A, B solved exactly by
  non-negative least squares, the best 8 points polished by Levenberg–Marquardt;
- ``batched grid``: scalelaw's multi-start over Epoch AI's 4,500 starts (explore, polish);
- ``scipy grid``: what the Hoffmann/Epoch AI notebooks do, scipy L-BFGS-B from each start in
  turn with finite-difference gradients, Huber (δ = 1e-3) on log-loss residuals in the
  log-sum-exp form. It runs on a seeded random subset of the 4,500 starts and its time is
  extrapolated linearly to 4,500 (printed as such); its objective is the best of the subset.

Every objective is the Huber sum on log residuals of the same points. Also timed: the whole
``scalelaw fit`` command (a fresh process, start-up included) on 240 runs, and a
1,000-replicate run bootstrap. Run: ``python bench/bench_fit_speed.py`` (``--scipy-starts K``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import logsumexp

from scalelaw import datasets
from scalelaw.data.runs import RunSet
from scalelaw.fit import fit_law
from scalelaw.fit.bootstrap import bootstrap
from scalelaw.fit.multistart import search
from scalelaw.fit.objective import Objective
from scalelaw.fit.optimize import objective_value
from scalelaw.fit.problem import Problem
from scalelaw.laws import get

TRUE = {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366}
DELTA = 1e-3
SRC = Path(__file__).resolve().parents[1] / "src"


def synthetic_runs(n: int = 245, seed: int = 0) -> RunSet:
    rng = np.random.default_rng(seed)
    size, tokens = 10 ** rng.uniform(7.5, 10.0, n), 10 ** rng.uniform(9.0, 11.5, n)
    loss = TRUE["E"] + TRUE["A"] * size ** -TRUE["alpha"] + TRUE["B"] * tokens ** -TRUE["beta"]
    loss *= np.exp(rng.normal(0.0, 0.01, n))
    return RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(n)], "params": size, "tokens": tokens, "loss": loss}))


def huber(r: np.ndarray) -> np.ndarray:
    a = np.abs(r)
    return np.where(a <= DELTA, 0.5 * r * r, DELTA * (a - 0.5 * DELTA))


def scipy_grid(problem: Problem, starts: np.ndarray) -> tuple[np.ndarray, float]:
    """L-BFGS-B from each start in turn, finite-difference gradients; the best end point (E, A, B, α, β)."""
    log_n, log_d = np.log(problem.design.inputs["params"]), np.log(problem.design.inputs["tokens"])
    log_l = np.log(problem.design.loss)

    def objective(p: np.ndarray) -> float:
        a, b, e, alpha, beta = p
        pred = logsumexp([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)], axis=0)
        return float(np.sum(huber(pred - log_l)))

    best_x, best_f = starts[0], np.inf
    for start in starts:
        result = minimize(objective, start, method="L-BFGS-B")
        if result.fun < best_f:
            best_x, best_f = result.x, result.fun
    a, b, e, alpha, beta = best_x
    return np.array([np.exp(e), np.exp(a), np.exp(b), alpha, beta]), best_f


def lse_grid() -> np.ndarray:
    """Epoch AI's grid as (a, b, e, alpha, beta) rows."""
    natural = get("chinchilla").starts()  # columns E, A, B, alpha, beta
    return np.column_stack([np.log(natural[:, 1]), np.log(natural[:, 2]), np.log(natural[:, 0]), natural[:, 3], natural[:, 4]])


def timed(fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def chinchilla_problem(runs: RunSet) -> Problem:
    law = get("chinchilla")
    return Problem(law, law.design(runs), Objective("huber", DELTA), {})


def objective_sum(problem: Problem, theta: np.ndarray) -> float:
    weights = np.full((1, problem.design.n), 1.0 / problem.design.n)
    u = problem.to_u(theta[None, :])
    return float(objective_value(problem, problem.residuals(u), weights)[0] * problem.design.n)


def compare(name: str, runs: RunSet, scipy_starts: np.ndarray) -> float:
    """One dataset: print the three methods' rows; return the scipy grid's extrapolated seconds."""
    problem = chinchilla_problem(runs)
    weights = np.ones(problem.design.n)
    vp, t_vp = timed(search, problem, weights, method="projection")
    grid, t_grid = timed(search, problem, weights, method="grid")
    (theta_scipy, _), t_scipy = timed(scipy_grid, problem, scipy_starts)
    t_scipy_all = t_scipy * 4500 / len(scipy_starts)
    reference = problem.theta(grid.u)[0]
    rows = [
        ("projection", t_vp, problem.theta(vp.u)[0]),
        ("batched grid, 4,500 starts", t_grid, reference),
        (f"scipy grid ({len(scipy_starts)} starts x {4500 / len(scipy_starts):.0f})", t_scipy_all, theta_scipy),
    ]
    for method, seconds, theta in rows:
        diff = np.max(np.abs(theta - reference) / np.abs(reference))
        print(f"{name:22s} {problem.design.n:5d} {method:34s} {seconds:9.3f} {t_scipy_all / seconds:9.0f}x "
              f"{objective_sum(problem, theta):12.6e} {diff:10.1e}")
    return t_scipy_all


def command_seconds(data: Path, rounds: int) -> tuple[float, float]:
    """Median wall time of the whole ``scalelaw fit`` process and of ``python -c pass``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    run = "import sys; from scalelaw.cli.main import run; sys.exit(run(sys.argv[1:]))"
    fit = [sys.executable, "-c", run, "fit", str(data), "--law", "chinchilla"]
    bare = [sys.executable, "-c", "pass"]
    times: dict[str, list[float]] = {"fit": [], "pass": []}
    for _ in range(rounds):
        for key, argv in (("fit", fit), ("pass", bare)):
            start = time.perf_counter()
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[key].append(time.perf_counter() - start)
    return statistics.median(times["fit"]), statistics.median(times["pass"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scipy-starts", type=int, default=45)
    parser.add_argument("--rounds", type=int, default=3, help="Runs of the whole command (median).")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          "(a shared machine: compare the ratios measured side by side, not the seconds)\n")
    grid = lse_grid()
    pick = np.sort(np.random.default_rng(0).choice(len(grid), size=min(args.scipy_starts, len(grid)), replace=False))
    cases = {"synthetic (Epoch-size)": synthetic_runs(),
             **{f"dataset:{d}": datasets.load(d) for d in ("datablations", "porian2024", "olmo-ladder")}}
    print("Chinchilla fit, Huber δ=1e-3 on log residuals; objective = Huber sum; "
          "param diff = largest relative difference from the batched grid's optimum")
    print(f"{'data':22s} {'n':>5s} {'method':34s} {'wall s':>9s} {'scipy/x':>10s} {'objective':>12s} {'param diff':>10s}")
    for name, runs in cases.items():
        compare(name, runs, grid[pick])

    runs = synthetic_runs(240)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "runs.csv"
        runs.table.to_csv(data, index=False)
        (_, _), t_scipy = timed(scipy_grid, chinchilla_problem(runs), grid[pick])
        t_scipy *= 4500 / len(pick)
        command, bare = command_seconds(data, args.rounds)
    print(f"\nwhole `scalelaw fit` command, chinchilla, 240 runs (median of {args.rounds}, start-up included)")
    print(f"{'':40s} {'wall s':>9s}")
    print(f"{'python -c pass':40s} {bare:9.3f}")
    print(f"{'scalelaw fit (process)':40s} {command:9.3f}")
    print(f"{'scipy grid in-process, extrapolated':40s} {t_scipy:9.3f}")
    print(f"{'speed-up of the command over scipy':40s} {t_scipy / command:8.0f}x")

    problem = chinchilla_problem(runs)
    found = search(problem, np.ones(problem.design.n))
    boot, t_boot = timed(bootstrap, problem, found.u, 1000, seed=0, progress=False)
    print("\n1,000-replicate run bootstrap (chinchilla, 240 runs), warm-started at the fit")
    print(f"wall {t_boot:.3f} s; converged {np.mean(boot.converged):.1%}; "
          f"median iterations {np.median(boot.iterations):.0f}")
    whole, t_whole = timed(fit_law, runs, "chinchilla", bootstrap=1000, seed=0, progress=False)
    print(f"fit_law with bootstrap=1000: wall {t_whole:.3f} s")


if __name__ == "__main__":
    main()
