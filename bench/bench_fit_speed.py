"""Speed of the Chinchilla fit against a vpnls-style variable projection, side by side in one run.

1. Epoch-sized data (240 runs, synthetic from Hoffmann et al.'s law with 1% log-normal noise,
   seed 0), whole processes reading the same CSV: ``scalelaw fit --law chinchilla`` (start-up,
   reading, the backtest folds of its calibration and the fit) against ``bench/vpnls_style.py``
   (numpy, scipy and pandas: a 32 x 32 (alpha, beta) grid with NNLS, then Nelder-Mead), interleaved
   round by round; wall and CPU seconds (the children's rusage), and ``vpnls`` itself when it is
   installed.
2. The same data in-process: ``fit_law`` (the whole engine: search, diagnostics, result), the
   search alone, and the vpnls-style fit, with the objective each reached (the Huber sum on log
   residuals that scalelaw minimises; vpnls minimises squared loss residuals, so its Huber sum is
   higher by design).
3. Growth with the number of runs (10^2 ... 10^5 one-point runs): the whole command, ``fit_law``
   and the vpnls-style fit, CPU seconds and the growth exponent (slope of log time on log runs over
   the last two sizes).
4. ``--methods``: projection against the batched 4,500-start grid and the scipy L-BFGS-B grid of the
   Hoffmann/Epoch AI notebooks (extrapolated from ``--scipy-starts`` starts) on the bundled datasets.

Subprocesses get compiled bytecode (a temporary ``PYTHONPYCACHEPREFIX``, warmed first) as an
installed package would. ``--before DIR`` adds another checkout's fit command (its ``src``) to the
rounds of part 1. Run: ``python bench/bench_fit_speed.py [--sizes 100,1000,10000,100000]
[--rounds 3] [--methods] [--before DIR]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
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

from bench_startup import wall_time as process_seconds  # (wall, CPU) of one whole process
from scalelaw import datasets
from scalelaw.data.runs import RunSet
from scalelaw.fit import fit_law
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


BENCH = Path(__file__).resolve().parent
RUN = "import sys; from scalelaw.cli.main import run; sys.exit(run(sys.argv[1:]))"


def process_env(cache: Path) -> dict[str, str]:
    """This checkout's ``src`` first, bytecode cached under ``cache`` (as in an installed package)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def commands(data: Path, out: Path, before: Path | None = None) -> dict[str, list[str]]:
    """The whole processes compared: scalelaw's fit command (and another checkout's), the vpnls-style script,
    vpnls if installed."""
    fit = ["fit", str(data), "--law", "chinchilla", "--out", str(out)]
    argv = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "scalelaw fit --law chinchilla": [sys.executable, "-c", RUN, *fit],
        "vpnls-style script": [sys.executable, str(BENCH / "vpnls_style.py"), str(data)],
    }
    if before is not None:
        argv["scalelaw fit (--before checkout)"] = [sys.executable, "-c", RUN, *fit]
    if importlib.util.find_spec("vpnls") is not None:
        argv["vpnls (installed)"] = [sys.executable, "-c", "import vpnls"]
    return argv


def whole_commands(data: Path, rounds: int, env: dict[str, str], out: Path,
                   before: Path | None = None) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of each command over interleaved rounds (after one warm-up each); the
    ``--before`` checkout's ``src`` comes first on its fit command's path."""
    argv = commands(data, out, before)
    envs = {name: env for name in argv}
    if before is not None:
        envs["scalelaw fit (--before checkout)"] = {
            **env, "PYTHONPATH": os.pathsep.join([str(before), os.environ.get("PYTHONPATH", "")])}
    for name, command in argv.items():
        process_seconds(command, envs[name])
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in argv}
    for _ in range(rounds):
        for name, command in argv.items():
            times[name].append(process_seconds(command, envs[name]))
    return {name: (statistics.median(t[0] for t in rows), statistics.median(t[1] for t in rows))
            for name, rows in times.items()}


def cpu_timed(fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def in_process(runs: RunSet) -> list[tuple[str, float, float, np.ndarray]]:
    """fit_law, the search alone and the vpnls-style fit on ``runs``: (name, wall, cpu, theta)."""
    from vpnls_style import fit as vpnls_fit

    problem = chinchilla_problem(runs)
    design = problem.design
    rows = []
    fit, wall, cpu = cpu_timed(fit_law, runs, "chinchilla", progress=False)
    rows.append(("scalelaw fit_law (engine, diagnostics)", wall, cpu, fit.theta))
    found, wall, cpu = cpu_timed(search, problem, np.ones(design.n))
    rows.append(("scalelaw search (projection + polish)", wall, cpu, problem.theta(found.u)[0]))
    theta, wall, cpu = cpu_timed(vpnls_fit, design.inputs["params"], design.inputs["tokens"], design.loss)
    rows.append(("vpnls-style (grid + NNLS + Nelder-Mead)", wall, cpu, theta))
    return rows


def growth_exponent(sizes: list[int], seconds: list[float]) -> float:
    """Slope of log seconds on log size over the last two sizes (1 = linear)."""
    if len(sizes) < 2:
        return math.nan
    return math.log(seconds[-1] / seconds[-2]) / math.log(sizes[-1] / sizes[-2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of the whole commands on 240 runs (median).")
    parser.add_argument("--sizes", default="100,1000,10000,100000", help="Run counts of the growth table.")
    parser.add_argument("--methods", action="store_true", help="Also compare projection, batched grid, scipy grid.")
    parser.add_argument("--scipy-starts", type=int, default=45)
    parser.add_argument("--before", type=Path, default=None,
                        help="src folder of another checkout whose fit command joins the whole-process rounds")
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    load = os.getloadavg()[0]
    print(f"{os.uname().nodename}: {os.cpu_count()} CPUs, load average {load:.1f} at the start "
          "(a machine shared with other jobs: compare the ratios measured side by side, not the seconds)")
    print("vpnls itself: " + ("installed" if importlib.util.find_spec("vpnls") else
                              "not installed (`pip install vpnls` finds no distribution here); the vpnls-style "
                              "script stands in for it"))
    with tempfile.TemporaryDirectory() as tmp:
        env = process_env(Path(tmp) / "pycache")
        data = Path(tmp) / "runs.csv"
        runs = synthetic_runs(240)
        runs.table.to_csv(data, index=False)
        whole = whole_commands(data, args.rounds, env, Path(tmp) / "fit.json", args.before)
        print(f"\n1. whole processes on the same CSV, 240 runs (median of {args.rounds} interleaved rounds)")
        print(f"{'command':34s} {'wall s':>8s} {'CPU s':>8s} {'CPU / vpnls-style':>18s}")
        bar = whole["vpnls-style script"][1]
        for name, (wall, cpu) in whole.items():
            print(f"{name:34s} {wall:8.3f} {cpu:8.3f} {cpu / bar:17.2f}x")

        print("\n2. in-process on the same 240 runs; objective = Huber (delta 1e-3) sum on log residuals")
        problem = chinchilla_problem(runs)
        print(f"{'method':42s} {'wall s':>8s} {'CPU s':>8s} {'objective':>14s}  E, A, B, alpha, beta")
        for name, wall, cpu, theta in in_process(runs):
            print(f"{name:42s} {wall:8.4f} {cpu:8.4f} {objective_sum(problem, theta):14.8e}  "
                  + ", ".join(f"{v:.4g}" for v in theta))

        sizes = [int(v) for v in args.sizes.split(",") if v]
        print("\n3. growth with the number of runs (one point each); CPU seconds, objective of fit_law "
              "and of the vpnls-style fit")
        print(f"{'runs':>8s} {'fit cmd':>9s} {'vpnls cmd':>10s} {'fit_law':>9s} {'vpnls fit':>10s} "
              f"{'cmd ratio':>10s} {'fit ratio':>10s} {'objective fit_law':>18s} {'objective vpnls':>16s}")
        columns: dict[str, list[float]] = {"cmd": [], "vpnls cmd": [], "fit": [], "vpnls": []}
        for n in sizes:
            runs_n = synthetic_runs(n)
            path = Path(tmp) / f"runs{n}.csv"
            runs_n.table.to_csv(path, index=False)
            argv = commands(path, Path(tmp) / "fit.json")
            _, cmd = process_seconds(argv["scalelaw fit --law chinchilla"], env)
            _, vp_cmd = process_seconds(argv["vpnls-style script"], env)
            rows = in_process(runs_n)
            problem = chinchilla_problem(runs_n)
            fit_cpu, vp_cpu = rows[0][2], rows[2][2]
            for key, value in (("cmd", cmd), ("vpnls cmd", vp_cmd), ("fit", fit_cpu), ("vpnls", vp_cpu)):
                columns[key].append(value)
            print(f"{n:8d} {cmd:9.3f} {vp_cmd:10.3f} {fit_cpu:9.3f} {vp_cpu:10.3f} {cmd / vp_cmd:9.2f}x "
                  f"{fit_cpu / vp_cpu:9.2f}x {objective_sum(problem, rows[0][3]):18.8e} "
                  f"{objective_sum(problem, rows[2][3]):16.8e}")
        print("growth exponent (last two sizes): " + ", ".join(
            f"{key} {growth_exponent(sizes, values):.2f}" for key, values in columns.items()))

    if args.methods:
        grid = lse_grid()
        pick = np.sort(np.random.default_rng(0).choice(len(grid), size=min(args.scipy_starts, len(grid)),
                                                        replace=False))
        cases = {"synthetic (Epoch-size)": synthetic_runs(),
                 **{f"dataset:{d}": datasets.load(d) for d in ("datablations", "porian2024", "olmo-ladder")}}
        print("\n4. Chinchilla fit methods, Huber δ=1e-3 on log residuals; objective = Huber sum; "
              "param diff = largest relative difference from the batched grid's optimum")
        print(f"{'data':22s} {'n':>5s} {'method':34s} {'wall s':>9s} {'scipy/x':>10s} {'objective':>12s} "
              f"{'param diff':>10s}")
        for name, case in cases.items():
            compare(name, case, grid[pick])


if __name__ == "__main__":
    main()
