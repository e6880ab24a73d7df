"""Speed of ``--law auto``: the whole selection, and its time per stage, on bundled curve data.

Each case runs ``fit_auto`` (what ``scalelaw fit DATA --law auto`` calls, default bootstrap)
in a fresh process on one source tree, so two versions can be compared side by side in
one run: ``--before DIR`` names another checkout's ``src`` (e.g. ``git worktree add
/tmp/auto-before bb24905`` then ``--before /tmp/auto-before/src``). Stages are timed by
wrapping the selection functions each version has:

- candidates: fitting every candidate on all the data to rank them (new: ``rank_candidates``);
- folds: the rolling-origin backtests (old: ``trial``, every candidate on every fold, and
  ``with_inside_folds``; new: ``backtest_finalists``);
- final fit: the chosen law on all the data with its bootstrap (``fit_backtested``).

Printed per case and version: wall time, CPU time of the process (all its threads and the
children it forked; less sensitive than wall time to other load on the machine), time per stage, the chosen law and
its backtest error of the held-out final loss (mean over the folds that decided). Timings on a shared
machine are noisy: compare the ratio within one run. Run:
``PYTHONPATH=src python bench/bench_auto_speed.py [--before DIR] [--cases olmo,mpl25m]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
CASES = {"olmo": "olmo-ladder", "mpl25m": "multipowerlaw-25m"}
#: Selection functions timed when a version has them, and the stage each belongs to.
STAGES = {
    "rank_candidates": "candidates",
    "trial": "folds",
    "backtest_finalists": "folds",
    "with_inside_folds": "folds",
    "fit_backtested": "final fit",
}

CHILD = r"""
import json, resource, sys, time, warnings
from scalelaw import datasets
from scalelaw.selection import auto

stages = {}
def timed(name, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            stages[name] = stages.get(name, 0.0) + time.perf_counter() - start
    return wrapper
for name in json.loads(sys.argv[2]):
    if hasattr(auto, name):
        setattr(auto, name, timed(name, getattr(auto, name)))
runs = datasets.load(sys.argv[1])
def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
start, cpu_start, children_start = time.perf_counter(), time.process_time(), children_cpu()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = auto.fit_auto(runs, seed=0, progress=False)
wall = time.perf_counter() - start
cpu = time.process_time() - cpu_start + children_cpu() - children_start
selection = fit.selection or {}
chosen = selection.get("chosen")
error = next((c.get("decided_error", c.get("final_error")) for c in selection.get("candidates", [])
              if c.get("label") == chosen), None)
print(json.dumps({"wall": wall, "cpu": cpu, "stages": stages, "chosen": chosen, "error": error,
                  "converged": fit.diagnostics.converged, "boot": fit.diagnostics.bootstrap_converged,
                  "theta": [float(v) for v in fit.theta]}))
"""


def run_case(src: Path, dataset: str) -> dict:
    """One ``fit_auto`` in a fresh process on the source tree ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", CHILD, dataset, json.dumps(list(STAGES))], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "exit %d" % done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


def stage_seconds(result: dict) -> dict[str, float]:
    """Seconds per stage (summed over the functions of that stage)."""
    out: dict[str, float] = {}
    for name, seconds in result.get("stages", {}).items():
        out[STAGES[name]] = out.get(STAGES[name], 0.0) + seconds
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, default=None, help="src folder of the version to compare with")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    args = parser.parse_args()
    versions = ([("before", args.before)] if args.before else []) + [("after", SRC)]
    print(f"bench_auto_speed: fit_auto, default bootstrap, one process per case; {os.cpu_count()} cores "
          f"(load average {os.getloadavg()[0]:.1f} at start: shared machine, compare ratios within this run)")
    header = ["case", "version", "wall s", "cpu s", "candidates s", "folds s", "final fit s", "chosen",
              "backtest error", "converged", "boot conv"]
    lines = [header]
    walls: dict[str, dict[str, float]] = {}
    thetas: dict[str, dict[str, list[float]]] = {}
    cpus: dict[str, dict[str, float]] = {}
    for case in args.cases.split(","):
        for version, src in versions:
            result = run_case(src, CASES[case])
            if "failed" in result:
                failed = "failed: " + result["failed"][:60]
                lines.append([case, version, "-", "-", "-", "-", "-", failed, "-", "-", "-"])
                continue
            stage = stage_seconds(result)
            walls.setdefault(case, {})[version] = result["wall"]
            cpus.setdefault(case, {})[version] = result["cpu"]
            thetas.setdefault(case, {})[version] = result["theta"]
            error = result["error"]
            boot = result["boot"]
            lines.append([case, version, f"{result['wall']:.1f}", f"{result['cpu']:.1f}", *(f"{stage.get(s, 0.0):.1f}"
                                                                   for s in ("candidates", "folds", "final fit")),
                          str(result["chosen"]), "-" if error is None else f"{100 * error:.2f}%",
                          "yes" if result["converged"] else "NO", "-" if boot is None else f"{100 * boot:.0f}%"])
            print("  " + "  ".join(lines[-1]), flush=True)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print()
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)))
    for case, pair in walls.items():
        if len(pair) == 2:
            cpu = cpus[case]
            print(f"{case}: after/before wall = {pair['after'] / pair['before']:.2f} "
                  f"({pair['before'] / pair['after']:.1f}x faster); "
                  f"CPU = {cpu['after'] / cpu['before']:.2f} ({cpu['before'] / cpu['after']:.1f}x)")
            before, after = thetas[case]["before"], thetas[case]["after"]
            if len(before) == len(after):
                change = max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(after, before))
                print(f"{case}: chosen law's parameters, largest relative change after/before {change:.1e}")


if __name__ == "__main__":
    main()
