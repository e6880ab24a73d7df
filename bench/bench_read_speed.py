"""Reader speed: ``scalelaw.read_runs`` against plain ``pandas.read_csv`` / ``read_parquet`` of the same file.

Issue 22 asks for an import within 1.5x of pandas reading the file. The input is one run of
100,000 steps with 4 metrics (loss, lr, tokens, grad_norm), written to a temporary folder as CSV
and Parquet (``--runs N`` splits the rows into N runs named in a ``run`` column). ``read_runs`` does more than pandas: strict parsing that names a bad cell's row, step
merging, validation and the suspicious-loss warnings, so the ratio is what all that costs: it is
what a user gets from ``scalelaw.read_runs(path)``.

Two measurements, each side by side in one run:

- **in process**: a child process (one per checkout) imports both, warms them, then calls pandas
  and ``read_runs`` alternately ``--repeat`` times (so load on a shared machine hits both alike);
  the table prints the median wall and CPU seconds of each and their ratios;
- **whole command**: ``python -c "import scalelaw; scalelaw.read_runs(PATH)"`` against
  ``python -c "import pandas; pandas.read_csv(PATH)"``, each in a fresh process, alternately
  ``--command-repeat`` times (medians of wall and of CPU, the child's user+system time): this
  adds each side's imports, which are also timed alone (``import pandas`` vs importing ``read_runs``,
  which imports pandas itself: ``import scalelaw`` alone is lazy).

Why pandas' wall time is below its CPU time: pandas uses threads. pandas 3.1's ``read_csv(path)``
splits a file of 5 MB or more (the 100,000-step CSV is 6.1 MB) at newlines and parses the pieces on up
to ``min(cores, 6)`` threads; ``read_parquet`` decodes columns on pyarrow's thread pool, which
``read_runs`` uses too. ``read_runs`` parses a CSV's checked bytes in one piece (splitting them on
threads the same way cost more CPU than it saved in wall time on this 2-core machine shared with
other work). So with idle cores pandas' CSV wall gains on its CPU and the wall ratio is above the CPU
ratio, which is the work each side does. Both are printed; pandas' threads are left on, since they are
what a user gets.

``--checkout DIR`` measures another checkout's ``src/`` (e.g. the tree before a change) in the
same run, row beside row. ``--store`` adds ``scalelaw runs import CSV --store NEW`` (a fresh store
each time: reading, then one Parquet file per run, fsynced, and the manifest), checkouts alternating,
``--command-repeat`` times; with ``--runs 1000 --steps 1000000`` it is the 10^6-row store of issue 22.

    python bench/bench_read_speed.py [--steps 100000] [--runs 1] [--repeat 9] [--command-repeat 5] [--checkout DIR]
                                     [--store]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

IN_PROCESS = r"""
import json, sys, time, warnings
import pandas as pd
import scalelaw
warnings.simplefilter("ignore")
kind, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
plain = {"csv": pd.read_csv, "parquet": pd.read_parquet}[kind]
sides = {"pandas": lambda: plain(path), "read_runs": lambda: scalelaw.read_runs(path)}
rows = len(sides["read_runs"]().table)
sides["pandas"]()  # both warm (imports, caches) before timing
times = {name: [] for name in sides}
for _ in range(repeat):
    for name, call in sides.items():
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
print(json.dumps({"rows": rows, "times": times}))
"""

COMMANDS = {
    "pandas": "import pandas; pandas.{reader}({path!r})",
    "read_runs": "import scalelaw; scalelaw.read_runs({path!r})",
}
IMPORTS = {"pandas": "import pandas", "read_runs": "from scalelaw.data.pipeline import read_runs"}


def write_inputs(folder: Path, steps: int, runs: int = 1) -> dict[str, Path]:
    """``steps`` rows of 4 metrics, as CSV and Parquet: one run (no run column), or ``runs`` runs of
    ``steps // runs`` steps each, named in a ``run`` column."""
    rng = np.random.default_rng(0)
    step = np.arange(steps) % (steps // runs) + 1
    frame = pd.DataFrame({"step": step, "loss": 2.0 + 3.0 * step ** -0.3 + 0.01 * rng.random(steps),
                          "lr": 1e-3 * np.minimum(1.0, step / 1000), "tokens": step * 4096.0,
                          "grad_norm": 0.5 + rng.random(steps)})
    if runs > 1:
        frame.insert(0, "run", [f"run-{i:05d}" for i in np.arange(steps) // (steps // runs)])
    paths = {"csv": folder / "run.csv", "parquet": folder / "run.parquet"}
    frame.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["parquet"], index=False)
    return paths


def environment(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src), "PYTHONWARNINGS": "ignore"}


def in_process(src: Path, kind: str, path: Path, repeat: int) -> dict:
    done = subprocess.run([sys.executable, "-c", IN_PROCESS, kind, str(path), str(repeat)], env=environment(src),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def command(src: Path, code: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of ``python -c code``."""
    return timed(src, ["-c", code])


def timed(src: Path, arguments: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of ``python ARGUMENTS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *arguments], env=environment(src), check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def whole_commands(src: Path, codes: dict[str, str], repeat: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of each command, run alternately ``repeat`` times."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in codes}
    for _ in range(repeat):
        for name, code in codes.items():
            times[name].append(command(src, code))
    return {name: medians(runs) for name, runs in times.items()}


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1, help="runs in the file (1: no run column)")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--command-repeat", type=int, default=5)
    parser.add_argument("--checkout", type=Path, action="append", default=[],
                        help="another checkout whose src/ is measured too (repeatable)")
    parser.add_argument("--store", action="store_true", help="also time `runs import CSV --store` per checkout")
    args = parser.parse_args()
    trees = {"this": HERE.parent / "src", **{str(c): c.resolve() / "src" for c in args.checkout}}
    width = max(len(name) for name in trees)

    print(f"{platform.node()} ({platform.processor() or platform.machine()}, {os.cpu_count()} cores), python "
          f"{platform.python_version()}, pandas {pd.__version__}; {args.steps:,} steps x 4 metrics in "
          f"{args.runs:,} run(s); "
          f"load average {os.getloadavg()[0]:.2f}\n")
    with tempfile.TemporaryDirectory() as folder:
        paths = write_inputs(Path(folder), args.steps, args.runs)
        print(f"in process (median of {args.repeat}, alternating): seconds per read")
        print(f"{'checkout':<{width}} {'format':<8} {'pandas':>8} {'read_runs':>10} {'ratio':>6}   "
              f"{'pandas cpu':>10} {'read_runs cpu':>13} {'ratio':>6}  {'rows':>8}")
        for tree, src in trees.items():
            for kind, path in paths.items():
                result = in_process(src, kind, path, args.repeat)
                (pw, pc), (rw, rc) = medians(result["times"]["pandas"]), medians(result["times"]["read_runs"])
                print(f"{tree:<{width}} {kind:<8} {pw:>8.3f} {rw:>10.3f} {rw / pw:>6.2f}   "
                      f"{pc:>10.3f} {rc:>13.3f} {rc / pc:>6.2f}  {result['rows']:>8,}")
        print(f"\nwhole command (python -c ..., fresh process each, median of {args.command_repeat}): seconds")
        print(f"{'checkout':<{width}} {'what':<8} {'pandas':>8} {'scalelaw':>10} {'ratio':>6}   "
              f"{'pandas cpu':>10} {'scalelaw cpu':>13} {'ratio':>6}")
        for tree, src in trees.items():
            rows = {"import": IMPORTS}
            for kind, path in paths.items():
                reader = {"csv": "read_csv", "parquet": "read_parquet"}[kind]
                rows[kind] = {name: code.format(reader=reader, path=str(path)) for name, code in COMMANDS.items()}
            for what, codes in rows.items():
                found = whole_commands(src, codes, args.command_repeat)
                (pw, pc), (rw, rc) = found["pandas"], found["read_runs"]
                print(f"{tree:<{width}} {what:<8} {pw:>8.3f} {rw:>10.3f} {rw / pw:>6.2f}   "
                      f"{pc:>10.3f} {rc:>13.3f} {rc / pc:>6.2f}")
        if args.store:
            store_imports(trees, paths["csv"], Path(folder), args.command_repeat, width)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f} (ratios from one run on a shared machine move by "
          "0.2-0.4: compare checkouts over two runs or more)")


def store_imports(trees: dict[str, Path], csv: Path, folder: Path, repeat: int, width: int) -> None:
    """``runs import CSV --store NEW`` per checkout, alternating; medians and the ratio to the first checkout."""
    times: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
    for i in range(repeat):
        for tree, src in trees.items():
            store = folder / f"store-{len(times[tree])}-{i}-{abs(hash(tree))}"
            times[tree].append(timed(src, ["-m", "scalelaw", "runs", "import", str(csv), "--store", str(store)]))
    print(f"\nruns import --store (fresh store each time, median of {repeat}): seconds")
    print(f"{'checkout':<{width}} {'wall':>8} {'cpu':>8} {'wall / first':>13} {'cpu / first':>12}")
    first = medians(next(iter(times.values())))
    for tree, runs in times.items():
        wall, cpu = medians(runs)
        print(f"{tree:<{width}} {wall:>8.2f} {cpu:>8.2f} {wall / first[0]:>13.2f} {cpu / first[1]:>12.2f}")


if __name__ == "__main__":
    main()
