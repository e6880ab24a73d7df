"""The ladder's end-to-end example, measured: predicted against actual final loss of a
model 7x larger than any trained, and the fitted irreducible loss against the exact
entropy rate of the corpus.

It runs ``scalelaw ladder demo``'s code (``scalelaw/ladder/demo.yaml``: 12 ladder runs of
4.8k-33k parameters on 0.1M-0.6M tokens of an order-1 Markov chain over 64 tokens,
then a 233k-parameter target on 1M tokens) into a fresh store, or into ``--store DIR``
to reuse runs already trained there. Goals: prediction within 2%, E within 2%.
Run: ``python bench/bench_ladder_example.py [--store DIR] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import warnings

from scalelaw.ladder.demo import checks_table, run_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="Run store to use (default: a fresh temporary folder).")
    parser.add_argument("--threads", type=int, default=None, help="Torch threads per run (default: cores per worker).")
    parser.add_argument("--bootstrap", type=int, default=100)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_demo(args.store or scratch, threads=args.threads, bootstrap=args.bootstrap)
    print(f"\ntarget: {result.target_params:,} parameters ({result.size_ratio:.1f}x the largest of "
          f"{result.ladder_runs} ladder runs), {result.target_tokens:,} tokens")
    table = checks_table(result)
    print(f"{'law':<14} {'predicted':>9} {'interval':>17} {'actual':>8} {'rel. error':>10} {'goal <2%':>8}")
    for row in table.itertuples():
        print(f"{row.law:<14} {row.predicted:>9.4f} {f'[{row.lo:.4f}, {row.hi:.4f}]':>17} {row.actual:>8.4f} "
              f"{row.relative_error:>+10.2%} {'yes' if abs(row.relative_error) < 0.02 else 'NO':>8}")
    error = result.fitted_E / result.entropy_rate - 1
    print(f"\n{'quantity':<36} {'value':>8}")
    print(f"{'chinchilla fitted E':<36} {result.fitted_E:>8.4f}")
    print(f"{'  its 95% bootstrap interval':<36} [{result.fitted_E_ci[0]:.4f}, {result.fitted_E_ci[1]:.4f}]")
    print(f"{'exact entropy rate of the corpus':<36} {result.entropy_rate:>8.4f}")
    print(f"{'true model on the eval set':<36} {result.oracle_eval_loss:>8.4f}")
    print(f"{'relative error of E':<36} {error:>+8.2%}  goal <2%: {'yes' if abs(error) < 0.02 else 'NO'}")
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    total_cpu = time.process_time() - cpu + workers.ru_utime + workers.ru_stime
    print(f"\nwall time {time.perf_counter() - started:.0f} s; CPU time {total_cpu:.0f} s including the worker "
          f"processes (on {os.cpu_count()} idle cores the wall time would be about CPU / cores); "
          f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
