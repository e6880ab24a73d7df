"""Peak memory and time of scalelaw on the memory bombs of issue 23, each in a fresh process.

Each case's input is built here (outside the measured process); then a child process runs
the ``scalelaw`` command line (or the corpus API) on it under an address-space limit and
prints its exit code, peak resident memory and seconds. The first rows are valid inputs of
the same kinds, for comparison. ``--checkout DIR`` measures another checkout's ``src/``
(e.g. the main branch before the fix) side by side with this one, under the same limit.

    python bench/bench_hostile_memory.py [--limit-gb 2] [--checkout /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fuzz"))

from hostile_second import (  # noqa: E402  (the corpus's own builders: the bench measures those inputs)
    DECODED_BOMB, DICTIONARY_BOMB, GENERATED_KEY, curve_columns, mlflow_db, sparse,
)

CHILD = r"""
import contextlib, io, json, resource, sys, time
argv = json.loads(sys.argv[1])
start = time.perf_counter()
err = io.StringIO()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    try:
        if argv[0] == "corpus":
            from scalelaw.ladder.corpora import CorpusSpec
            corpus = CorpusSpec(kind="text", path=argv[1]).build()
            for step in range(20):
                corpus.train_batch(seed=0, step=step, sequences=256, seq_len=256)
            corpus.eval_set(sequences=64, seq_len=256)
            code = 0
        else:
            from scalelaw.cli.main import run
            code = run(argv)
    except MemoryError:
        code = "MemoryError"
print(json.dumps({"code": code, "seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "message": err.getvalue().strip().splitlines()[-1][:90] if err.getvalue().strip() else ""}))
"""


def valid_parquet(folder: Path) -> Path:
    """A legitimate large file: 1,000 runs x 1,000 steps, run names as text."""
    rows = 1_000_000
    names = pa.array([f"run-{i:04d}" for i in range(1000)]).take(pa.array(np.repeat(np.arange(1000), 1000)))
    path = folder / "valid.parquet"
    pq.write_table(pa.table({"run": names, "step": np.tile(np.arange(1.0, 1001), 1000), "loss": np.full(rows, 3.0)}),
                   path)
    return path


def valid_csv(folder: Path) -> Path:
    """The same 1,000 runs x 1,000 steps as CSV (about 20 MB): the text readers' share of the memory."""
    path = folder / "valid.csv"
    lines = (f"run-{i // 1000:04d},{i % 1000 + 1},3.0\n" for i in range(1_000_000))
    path.write_text("run,step,loss\n" + "".join(lines))
    return path


def long_line_csv(folder: Path) -> Path:
    """A CSV whose second line is 17 MiB: refused by the line-length bound, before any parsing."""
    path = folder / "long.csv"
    path.write_text("run,step,loss\na,1," + "9" * (17 << 20) + "\n")
    return path


def valid_mlflow(folder: Path) -> Path:
    return mlflow_db()(folder)


CASES: list[tuple[str, Callable[[Path], Path], Callable[[Path, Path], list[str]]]] = [
    ("valid Parquet, 10^6 rows", valid_parquet, lambda p, s: ["runs", "import", str(p), "--store", str(s)]),
    ("valid CSV, 10^6 rows", valid_csv, lambda p, s: ["runs", "import", str(p), "--store", str(s)]),
    ("CSV line of 17 MiB", long_line_csv, lambda p, s: ["runs", "import", str(p), "--store", str(s)]),
    ("valid MLflow sqlite", valid_mlflow, lambda p, s: ["runs", "import", str(p), "--store", str(s)]),
    ("valid 60 MB text corpus", lambda f: _text(f / "book.txt", 60 << 20), lambda p, s: ["corpus", str(p)]),
    ("Parquet 4 MiB x 1,500 rows (dictionary)", DICTIONARY_BOMB,
     lambda p, s: ["runs", "import", str(p), "--store", str(s)]),
    ("Parquet 60 KiB x 20,000 rows (dictionary)", DECODED_BOMB,
     lambda p, s: ["runs", "import", str(p), "--store", str(s)]),
    ("MLflow key = hex(zeroblob(2e8))", GENERATED_KEY, lambda p, s: ["runs", "import", str(p), "--store", str(s)]),
    ("MLflow tag value of 2 MB", mlflow_db(rows="INSERT INTO tags VALUES ('note', hex(zeroblob(1000000)), 'u1');"),
     lambda p, s: ["runs", "import", str(p), "--store", str(s)]),
    ("text corpus of 6 GB (sparse)", lambda f: sparse(f / "big.txt", 6 * 10**9), lambda p, s: ["corpus", str(p)]),
]


def _text(path: Path, size: int) -> Path:
    path.write_bytes((b"the quick brown fox jumps over the lazy dog. " * (size // 45 + 1))[:size])
    return path


def measure(src: Path, argv: list[str], limit: int) -> dict[str, object]:
    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    try:
        done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(argv)], capture_output=True, text=True,
                              timeout=300, preexec_fn=cap, env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
                              check=False)
    except subprocess.TimeoutExpired:
        return {"code": "timeout (300 s)", "seconds": 300.0, "peak_mb": float("nan"), "message": ""}
    if not done.stdout.strip():
        return {"code": f"killed ({done.returncode})", "seconds": float("nan"), "peak_mb": float("nan"),
                "message": done.stderr.strip().splitlines()[-1][:90] if done.stderr.strip() else ""}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-gb", type=float, default=2.0, help="address-space limit of each child (GiB)")
    parser.add_argument("--checkout", type=Path, help="another checkout to measure side by side (its src/)")
    args = parser.parse_args()
    limit = int(args.limit_gb * 2**30)
    sources = {"this checkout": HERE.parent / "src"}
    if args.checkout is not None:
        sources[str(args.checkout)] = args.checkout / "src"
    print(f"address-space limit per process: {args.limit_gb:g} GiB; peak = resident set (ru_maxrss)\n")
    print("| case | input size | code | exit | peak RSS (MB) | seconds | last line of stderr |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for number, (name, build, argv) in enumerate(CASES):
            folder = Path(tmp) / f"case{number}"
            folder.mkdir()
            path = build(folder)
            size = path.stat().st_size
            for label, src in sources.items():
                result = measure(src, argv(path, folder / f"store-{len(label)}"), limit)
                message = str(result["message"]).replace("|", "/").replace(tmp, "…")
                print(f"| {name} | {_size(size)} | {label} | {result['code']} | {result['peak_mb']:.0f} | "
                      f"{result['seconds']:.1f} | {message} |", flush=True)


def _size(count: int) -> str:
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if count >= 1 << shift:
            return f"{count / (1 << shift):.1f} {unit}"
    return f"{count} B"


if __name__ == "__main__":
    main()
