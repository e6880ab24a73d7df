"""Start-up of the ``scalelaw`` command: whole processes against ``python -c pass``, side by side.

Each command runs as a fresh process (``python -c "...run(argv)"`` on this checkout's
``src``), the commands interleaved round by round so a busy machine slows all of them
alike; the table gives the median wall time over the rounds and its ratio to the bare
interpreter. ``fit`` fits the Chinchilla law to 240 synthetic runs (a CSV written to a
temporary folder), ``predict`` reads the FIT.json it wrote. Run:
``python bench/bench_startup.py [--rounds 7]``.
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

SRC = Path(__file__).resolve().parents[1] / "src"
RUN = "import sys; from scalelaw.cli.main import run; sys.exit(run(sys.argv[1:]))"


def chinchilla_csv(path: Path, n: int = 240, seed: int = 0) -> Path:
    """``n`` final losses from the Chinchilla law with 1% log-normal noise."""
    rng = np.random.default_rng(seed)
    size, tokens = 10 ** rng.uniform(7.5, 10.0, n), 10 ** rng.uniform(9.0, 11.5, n)
    loss = (1.82 + 482.0 * size**-0.348 + 2085.0 * tokens**-0.366) * np.exp(rng.normal(0.0, 0.01, n))
    pd.DataFrame({"run": [f"r{i}" for i in range(n)], "params": size, "tokens": tokens, "loss": loss}).to_csv(path, index=False)
    return path


def wall_time(argv: list[str], env: dict[str, str]) -> float:
    """Seconds for one whole process; a failing command stops the bench."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[3:]} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory() as tmp:
        data = chinchilla_csv(Path(tmp) / "runs.csv")
        fit_json = Path(tmp) / "fit.json"
        scalelaw = [sys.executable, "-c", RUN]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "scalelaw --help": [*scalelaw, "--help"],
            "scalelaw laws": [*scalelaw, "laws"],
            "scalelaw fit --help": [*scalelaw, "fit", "--help"],
            "scalelaw plan compute --help": [*scalelaw, "plan", "compute", "--help"],
            "scalelaw fit (chinchilla, 240 runs)": [*scalelaw, "fit", str(data), "--law", "chinchilla", "--out", str(fit_json)],
            "scalelaw predict (from that FIT.json)": [*scalelaw, "predict", str(fit_json), "--at", "params=7e9,tokens=1.4e11"],
        }
        wall_time(commands["scalelaw fit (chinchilla, 240 runs)"], env)  # writes FIT.json, warms the file cache
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():
                times[name].append(wall_time(argv, env))
    base = statistics.median(times["python -c pass"])
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (a shared machine: compare ratios, not seconds)")
    print(f"median of {args.rounds} interleaved rounds, whole processes\n")
    print(f"{'command':40s} {'median s':>9s} {'x python':>9s} {'min s':>8s}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:40s} {median:9.3f} {median / base:9.1f} {min(values):8.3f}")


if __name__ == "__main__":
    main()
