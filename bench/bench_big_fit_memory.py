"""Memory at the input bounds: many runs, and the longest schedule a curve law accepts.

``runs N`` (default): a chinchilla fit of N one-point runs plus a 20,000-point prediction grid;
prints the fitted parameters (the data are drawn from Hoffmann et al.'s published law with 1%
noise), the seconds taken and the peak resident memory. ``index N``: a RunSet of N runs (a
store of 10^6 runs) factorised and half of it selected, the memory of the run index.
``schedule T``: the multi-power design of one run under a T-step WSD schedule (10^7 is the
cap of ``data.schedules``) with 60 logged losses, the memory of its loss-drop split.
Run each under an address-space limit to check the bounds of docs/security.md, e.g.
``(ulimit -v 6000000; python bench/bench_big_fit_memory.py runs 100000)``.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.fit import fit_law
from scalelaw.laws import get


def peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def many_runs(n: int) -> None:
    rng = np.random.default_rng(0)
    params, tokens = 10 ** rng.uniform(7, 9, n), 10 ** rng.uniform(9, 11, n)
    loss = (1.69 + 406.4 / params**0.34 + 410.7 / tokens**0.28) * np.exp(rng.normal(0, 0.01, n))
    runs = RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(n)], "loss": loss, "params": params, "tokens": tokens}))
    start = time.time()
    fit = fit_law(runs, "chinchilla", progress=False)
    grid = fit.predict(params=np.logspace(7, 9, 20_000), tokens=np.full(20_000, 1e10))
    seconds = time.time() - start
    print("| runs | E | A | B | alpha | beta | grid points | seconds | peak RSS (MB) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    p = fit.params
    print(f"| {n} | {p['E']:.3f} | {p['A']:.1f} | {p['B']:.1f} | {p['alpha']:.3f} | {p['beta']:.3f} | "
          f"{grid.loss.size} | {seconds:.0f} | {peak_mb()} |")


def run_index(n: int) -> None:
    table = pd.DataFrame({"run": [f"run-{i:07d}" for i in range(n)], "loss": np.ones(n)})
    before = peak_mb()
    start = time.time()
    runs = RunSet(table)
    half = runs.select(runs.runs[::2])
    print("| runs | selected | seconds | peak RSS before / after (MB) |")
    print("| --- | --- | --- | --- |")
    print(f"| {len(runs)} | {len(half)} | {time.time() - start:.1f} | {before} / {peak_mb()} |")


def long_schedule(total: int) -> None:
    spec = f"wsd:peak=3e-4,warmup=2000,total={total},decay_start={total * 4 // 5},final=3e-5,shape=cosine"
    steps = np.unique(np.linspace(100, total, 60).astype(int)).astype(float)
    runs = RunSet(pd.DataFrame({"run": "r", "step": steps, "loss": 3.0 + 5.0 * (steps / 1e3) ** -0.3,
                                "lr_schedule": spec}))
    before = peak_mb()
    start = time.time()
    design = get("multi-power").design(runs)
    print("| schedule steps | logged losses | seconds | peak RSS before / after (MB) |")
    print("| --- | --- | --- | --- |")
    print(f"| {total} | {design.n} | {time.time() - start:.0f} | {before} / {peak_mb()} |")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].isdigit() else "runs"
    size = int(sys.argv[-1]) if len(sys.argv) > 1 and sys.argv[-1].isdigit() else None
    {"runs": lambda: many_runs(size or 100_000), "index": lambda: run_index(size or 1_000_000),
     "schedule": lambda: long_schedule(size or 10_000_000)}[mode]()
