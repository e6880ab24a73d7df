"""Memory of a fit on many runs: a chinchilla fit of N one-point runs plus a 20,000-point prediction grid.

Prints the fitted parameters (the data are drawn from Hoffmann et al.'s published law with
1% noise), the seconds taken and the peak resident memory. Run it under an address-space
limit to check the bound of docs/security.md, e.g. ``(ulimit -v 6000000; python
bench/bench_big_fit_memory.py 100000)``.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

from scalelaw.data.runs import RunSet
from scalelaw.fit import fit_law


def main(n: int) -> None:
    rng = np.random.default_rng(0)
    params, tokens = 10 ** rng.uniform(7, 9, n), 10 ** rng.uniform(9, 11, n)
    loss = (1.69 + 406.4 / params**0.34 + 410.7 / tokens**0.28) * np.exp(rng.normal(0, 0.01, n))
    runs = RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(n)], "loss": loss, "params": params, "tokens": tokens}))
    start = time.time()
    fit = fit_law(runs, "chinchilla", progress=False)
    grid = fit.predict(params=np.logspace(7, 9, 20_000), tokens=np.full(20_000, 1e10))
    seconds = time.time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print("| runs | E | A | B | alpha | beta | grid points | seconds | peak RSS (MB) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    p = fit.params
    print(f"| {n} | {p['E']:.3f} | {p['A']:.1f} | {p['B']:.1f} | {p['alpha']:.3f} | {p['beta']:.3f} | "
          f"{grid.loss.size} | {seconds:.0f} | {peak} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
