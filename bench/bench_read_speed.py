"""Reader speed: ``read_runs`` against plain ``pandas.read_csv`` / ``read_parquet`` of the same file.

Issue 22 asks for an import within 1.5x of pandas reading the file. The input is one run of
100,000 steps with 4 metrics (loss, lr, tokens, grad_norm), written to a temporary folder as CSV
and Parquet. For each format both readers run alternately, ``--repeat`` times each, in this one
process; the table prints the median wall time of each and their ratio, measured side by side.
``read_runs`` does more than pandas: strict parsing that names a bad cell's row, step merging and
validation, so the ratio is what that costs.

    python bench/bench_read_speed.py [--steps 100000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd


def write_inputs(folder: Path, steps: int) -> dict[str, Path]:
    """One run of ``steps`` steps and 4 metrics, as CSV and Parquet."""
    rng = np.random.default_rng(0)
    step = np.arange(1, steps + 1)
    frame = pd.DataFrame({"step": step, "loss": 2.0 + 3.0 * step ** -0.3 + 0.01 * rng.random(steps),
                          "lr": 1e-3 * np.minimum(1.0, step / 1000), "tokens": step * 4096.0,
                          "grad_norm": 0.5 + rng.random(steps)})
    paths = {"csv": folder / "run.csv", "parquet": folder / "run.parquet"}
    frame.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["parquet"], index=False)
    return paths


def median_seconds(function: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from scalelaw.data import read_runs

    warnings.simplefilter("ignore")
    plain = {"csv": pd.read_csv, "parquet": pd.read_parquet}
    print(f"{platform.node()} ({platform.processor() or platform.machine()}), python {platform.python_version()}, "
          f"pandas {pd.__version__}; {args.steps:,} steps x 4 metrics, median of {args.repeat}\n")
    print(f"{'format':<8} {'pandas s':>9} {'read_runs s':>12} {'ratio':>7}  {'rows':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for kind, path in write_inputs(Path(folder), args.steps).items():
            plain[kind](path)
            runs = read_runs(path)  # warm both (imports, caches) before timing
            ours, theirs = [], []
            for _ in range(args.repeat):  # alternate, so load on a shared machine hits both alike
                theirs += median_seconds(lambda: plain[kind](path), 1)
                ours += median_seconds(lambda: read_runs(path), 1)
            a, b = statistics.median(theirs), statistics.median(ours)
            print(f"{kind:<8} {a:>9.3f} {b:>12.3f} {b / a:>7.2f}  {len(runs.table):>8,}")


if __name__ == "__main__":
    main()
