"""Large-input benchmark: 10,000 runs x 10,000 points (10^8 rows) read in bounded memory.

The Parquet file is generated on the fly in a temporary folder (deleted after). Each
measurement runs in a fresh process so its peak memory (ru_maxrss) is its own. Streaming
(``read_runs(..., reduce=keep_every(k))``) is compared side by side with an eager read
at a size the eager read can hold.

    python bench/bench_large_input.py [--runs 10000] [--points 10000] [--every 100]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def measure(path: str, every: int, batch_rows: int) -> dict[str, float]:
    """Read ``path`` (streaming if ``every`` > 0, else eagerly); time, peak memory, sizes."""
    from scalelaw.data import keep_every, read_runs

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if every > 0:
            runs = read_runs(path, reduce=keep_every(every), batch_rows=batch_rows)
        else:
            runs = read_runs(path)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb, "runs": len(runs), "rows_kept": len(runs.table)}


def in_child(path: Path, every: int, batch_rows: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--measure", str(path), "--every", str(every), "--batch-rows", str(batch_rows)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=100, help="keep every k-th point of each run")
    parser.add_argument("--batch-rows", type=int, default=1_000_000)
    parser.add_argument("--eager-runs", type=int, default=1_000, help="runs in the side-by-side eager comparison")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.every, args.batch_rows)))
        return

    from scalelaw.data.synthetic import write_synthetic_parquet

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        small = Path(folder) / "small.parquet"
        n_small = write_synthetic_parquet(small, runs=args.eager_runs, points=args.points, seed=1)
        for label, every in (("eager read_runs", 0), (f"streaming keep_every({args.every})", args.every)):
            rows.append((f"{n_small:.0e} rows", label, in_child(small, every, args.batch_rows)))
        big = Path(folder) / "big.parquet"
        start = time.perf_counter()
        n_big = write_synthetic_parquet(big, runs=args.runs, points=args.points, seed=2)
        generated = time.perf_counter() - start
        size_gb = big.stat().st_size / 1e9
        rows.append((f"{n_big:.0e} rows", f"streaming keep_every({args.every})", in_child(big, args.every, args.batch_rows)))
    print(f"generated {n_big:,} rows ({args.runs:,} runs x {args.points:,} points, {size_gb:.2f} GB Parquet) "
          f"in {generated:.1f} s; batch {args.batch_rows:,} rows\n")
    print(f"{'input':<12} {'reader':<28} {'runs':>7} {'rows kept':>11} {'seconds':>9} {'peak MB':>9} {'rows/s':>12}")
    for size, label, result in rows:
        total = float(size.split()[0])
        print(f"{size:<12} {label:<28} {result['runs']:>7,} {result['rows_kept']:>11,} "
              f"{result['seconds']:>9.1f} {result['peak_mb']:>9.0f} {total / result['seconds']:>12,.0f}")
    eager, streaming = rows[0][2], rows[1][2]
    print(f"\nside by side at {rows[0][0]}: streaming peak memory / eager = "
          f"{streaming['peak_mb'] / eager['peak_mb']:.2f}, time ratio = {streaming['seconds'] / eager['seconds']:.2f}")


if __name__ == "__main__":
    main()
