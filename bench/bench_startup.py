"""Start-up of the ``scalelaw`` command: whole processes against ``python -c pass``, side by side.

Each command runs as a fresh process (``python -c "...run(argv)"`` on this checkout's
``src``), the commands interleaved round by round so a busy machine slows all of them
alike; the table gives the median wall time over the rounds and its ratio to the bare
interpreter. ``fit`` fits the Chinchilla law to 240 synthetic runs (a CSV written to a
temporary folder), ``predict`` and ``plan compute`` read the FIT.json it wrote. ``--compare SRC`` runs the
same commands on another source tree too (e.g. an older commit's ``src`` from
``git archive``), interleaved, and adds its column. Both get compiled bytecode (a temporary
``PYTHONPYCACHEPREFIX`` per tree, warmed first), as an installed package has; the CPU column is
the child's user + system time, steadier than wall time on a shared machine. Run:
``python bench/bench_startup.py [--rounds 7] [--compare /path/to/old/src]``.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def wall_time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds for one whole process; a failing command stops the bench."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv[3:]} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--compare", type=Path, help="Another source tree to time side by side.")
    args = parser.parse_args()
    trees = {"this checkout": SRC} | ({"compared": args.compare.resolve()} if args.compare else {})
    with tempfile.TemporaryDirectory() as tmp:
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        envs = {name: {**base, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
                       "PYTHONPYCACHEPREFIX": str(Path(tmp) / f"pycache-{i}")}
                for i, (name, src) in enumerate(trees.items())}
        data = chinchilla_csv(Path(tmp) / "runs.csv")
        scalelaw = [sys.executable, "-c", RUN]
        commands = {
            "python -c pass": lambda fit_json: [sys.executable, "-c", "pass"],
            "scalelaw --help": lambda fit_json: [*scalelaw, "--help"],
            "scalelaw laws": lambda fit_json: [*scalelaw, "laws"],
            "scalelaw fit --help": lambda fit_json: [*scalelaw, "fit", "--help"],
            "scalelaw plan compute --help": lambda fit_json: [*scalelaw, "plan", "compute", "--help"],
            "scalelaw fit (chinchilla, 240 runs)": lambda fit_json: [*scalelaw, "fit", str(data), "--law", "chinchilla",
                                                                     "--out", str(fit_json)],
            "scalelaw predict (from that FIT.json)": lambda fit_json: [*scalelaw, "predict", str(fit_json), "--at",
                                                                       "params=7e9,tokens=1.4e11"],
            "scalelaw plan compute (that FIT.json)": lambda fit_json: [*scalelaw, "plan", "compute", str(fit_json),
                                                                       "--flops", "1e21"],
        }
        fit_jsons = {name: Path(tmp) / f"fit-{i}.json" for i, name in enumerate(trees)}
        for name in trees:  # writes each tree's FIT.json, warms the file cache
            wall_time(commands["scalelaw fit (chinchilla, 240 runs)"](fit_jsons[name]), envs[name])
        for command in commands.values():  # compiles each tree's bytecode
            for tree in trees:
                wall_time(command(fit_jsons[tree]), envs[tree])
        times: dict[tuple[str, str], list[tuple[float, float]]] = {(c, t): [] for c in commands for t in trees}
        for _ in range(args.rounds):
            for command, argv in commands.items():
                for tree in trees:
                    times[command, tree].append(wall_time(argv(fit_jsons[tree]), envs[tree]))
    print(f"{os.uname().nodename}: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (a shared machine: "
          "compare ratios, not seconds)")
    print(f"median of {args.rounds} interleaved rounds, whole processes; x python = median / median of python -c pass")
    for tree, src in trees.items():
        print(f"  {tree}: {src}")
    header = "".join(f"{tree + ' wall s':>22s}{'CPU s':>8s}{'x python':>10s}" for tree in trees)
    print(f"\n{'command':40s}{header}" + (f"{'CPU compared / this':>21s}" if len(trees) > 1 else ""))
    for command in commands:
        cells, cpus = "", []
        for tree in trees:
            wall = statistics.median(t[0] for t in times[command, tree])
            cpu = statistics.median(t[1] for t in times[command, tree])
            base_wall = statistics.median(t[0] for t in times["python -c pass", tree])
            cpus.append(cpu)
            cells += f"{wall:22.3f}{cpu:8.3f}{wall / base_wall:10.1f}"
        ratio = f"{cpus[1] / cpus[0]:20.2f}x" if len(cpus) > 1 else ""
        print(f"{command:40s}{cells}{ratio}")


if __name__ == "__main__":
    main()
