"""Run-store durability under kill -9: many more rounds than the test suite runs.

Each round forks a writer that keeps putting runs into one store, kills it with SIGKILL
after a random (seeded) delay, then checks that the store opens and holds only complete
runs. Uses the same writer and checks as tests/data/test_store_durability.py.

    python bench/bench_store_crash.py [--rounds 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "data"))

from test_store_durability import assert_complete, fork_writer, leftovers  # noqa: E402

from scalelaw.data.store import RunStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-delay", type=float, default=0.3, help="seconds before the kill, at most")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    complete = mid_write = failures = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder)
        for round_number in range(args.rounds):
            pid = fork_writer(store, f"w{round_number % 5}")
            time.sleep(rng.uniform(0.005, args.max_delay))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            mid_write += bool(leftovers(store))
            try:
                assert_complete(RunStore(store))
                complete += 1
            except Exception as exc:  # noqa: BLE001 - a bench reports every failure, whatever it is
                failures += 1
                print(f"round {round_number}: {type(exc).__name__}: {exc}")
        runs = len(RunStore(store).list())
    print(f"{'rounds':>7} {'kills mid-write':>16} {'store complete':>15} {'failures':>9} {'runs at end':>12} {'seconds':>8}")
    print(f"{args.rounds:>7} {mid_write:>16} {complete:>15} {failures:>9} {runs:>12} {time.perf_counter() - start:>8.1f}")


if __name__ == "__main__":
    main()
