"""The second review's hostile inputs (issue 23): bombs in Parquet and SQLite, paths out of a
sweep spec, outputs over devices and FIFOs, regexes that never return, a full disk, a
manifest sharing one file between two runs, and messages quoting huge values.

Cases follow :mod:`hostile`: ``(name, check)``, where ``check(folder, cli)`` builds the
input under ``folder``, runs the command line through ``cli`` and returns None when
scalelaw behaved, else what went wrong. ``CASES`` run in the test process; ``BOUNDED``
run in a child process under an address-space limit and a timeout (see
``test_hostile_second.py``), because what they attack is memory or time.
"""

from __future__ import annotations

import errno
import io
import json
import os
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))

from hostile import CSV, FIT, SPEC, Check, Cli, Outcome, refused, store_with_runs, write  # noqa: E402

from scalelaw.data import atomic  # noqa: E402

Builder = Callable[[Path], Path]
#: Address space and seconds a child process gets in the BOUNDED cases (and ``corpus_streamed``).
MEMORY_LIMIT = 1 << 30
TIME_LIMIT = 120


def bounded_python(args: list[str]) -> Outcome:
    """Run ``python ARGS`` with scalelaw from this checkout, under MEMORY_LIMIT and TIME_LIMIT."""
    import resource
    import subprocess

    import scalelaw

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    env = {**os.environ, "PYTHONPATH": str(Path(scalelaw.__file__).parents[1]), "COLUMNS": "200"}
    try:
        done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=TIME_LIMIT,
                              preexec_fn=limit, env=env, check=False)
    except subprocess.TimeoutExpired:
        return Outcome(-1, "", f"killed after {TIME_LIMIT} s")
    return Outcome(done.returncode, done.stdout, done.stderr)


def bounded_cli(argv: list[str]) -> Outcome:
    """The ``scalelaw`` command line in a child process under MEMORY_LIMIT and TIME_LIMIT."""
    return bounded_python(["-c", "import sys; from scalelaw.cli.main import run; sys.exit(run(sys.argv[1:]))", *argv])


def succeeded(outcome: Outcome, *needles: str) -> str | None:
    """None for exit 0 with every needle on stderr (a warning) and no traceback."""
    if outcome.code != 0 or "Traceback" in outcome.err:
        return f"exit {outcome.code}, stderr {outcome.err[:300]!r}"
    missing = [n for n in needles if n not in outcome.err]
    return f"stderr lacks {missing[0]!r}: {outcome.err[:300]!r}" if missing else None


def short_lines(outcome: Outcome, limit: int = 4200) -> str | None:
    """None when no line scalelaw printed is longer than ``limit`` characters (a quoted value was cut)."""
    longest = max((len(line) for line in (outcome.out + outcome.err).splitlines()), default=0)
    return None if longest <= limit else f"a line of {longest:,} characters was printed"


def import_case(build: Builder, *needles: str, lines: bool = False) -> Check:
    """``runs import`` of what ``build`` writes: refused with every needle, nothing stored."""
    def check(folder: Path, cli: Cli) -> str | None:
        outcome = cli(["runs", "import", str(build(folder)), "--store", str(folder / "s")])
        problem = refused(outcome, *needles) or (short_lines(outcome) if lines else None)
        return problem or ("a run was stored" if (folder / "s" / "manifest.json").exists() else None)

    return check


# -- 1. Parquet: dictionary pages that decode to gigabytes -------------------------------------
def dictionary(value: str | bytes, rows: int) -> pa.DictionaryArray:
    """One value repeated over ``rows`` rows, dictionary-encoded (built without decoding it)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), pa.array([value]))


def parquet(name: str, columns: Callable[[], dict[str, Any]], **options: Any) -> Builder:
    """A Parquet file as an attacker writes it: no stored Arrow schema, so a reader that does not
    ask for dictionaries gets every row's own copy of a dictionary value."""
    def build(folder: Path) -> Path:
        path = folder / name
        pq.write_table(pa.table(columns()), path, compression="zstd", store_schema=False, **options)
        return path

    return build


def curve_columns(rows: int, **extra: Any) -> dict[str, Any]:
    return {"run": dictionary("a", rows), "step": np.arange(1.0, rows + 1), "loss": np.full(rows, 3.0), **extra}


BIG = "x" * (4 << 20)
WIDE = "y" * (60 << 10)  # under the 64 KiB cell cap, so only the decoded total can refuse it
DICTIONARY_BOMB = parquet("bomb.parquet", lambda: {**curve_columns(1500), "run": dictionary(BIG, 1500)})
DECODED_BOMB = parquet("wide.parquet", lambda: {**curve_columns(20_000), "run": dictionary(WIDE, 20_000)})


def parquet_stream_bomb(folder: Path, cli: Cli) -> str | None:
    from scalelaw.data.pipeline import iter_runs
    from scalelaw.errors import InputError

    path = DECODED_BOMB(folder)
    try:
        list(iter_runs(path, batch_rows=100_000))
    except InputError as exc:
        return None if "decodes to" in str(exc) else f"wrong error: {exc}"
    return "the stream decoded the bomb"


def stored_run_bomb(folder: Path, cli: Cli) -> str | None:
    store = store_with_runs(folder, cli)
    entry = json.loads((store / "manifest.json").read_text())["runs"]["a"]
    pq.write_table(pa.table({**curve_columns(1500), "run": dictionary(BIG, 1500)}), store / entry["file"],
                   store_schema=False)
    return refused(cli(["runs", "show", "a", "--store", str(store)]), "64 KiB")


def nested_column(folder: Path, cli: Cli) -> str | None:
    lists = pa.array([["z" * 1000] * 1000] * 50)  # 50 MB of strings the run model never reads
    path = folder / "nested.parquet"
    pq.write_table(pa.table({**curve_columns(50), "tags": lists}), path, compression="zstd")
    return succeeded(cli(["runs", "import", str(path), "--store", str(folder / "s")]), "nested column")


# -- 2. MLflow sqlite: generated columns, oversized values, foreign tables ---------------------
MLFLOW_TABLES = {
    "experiments": "experiment_id INTEGER, name TEXT, lifecycle_stage TEXT",
    "runs": "run_uuid TEXT, name TEXT, experiment_id INTEGER, lifecycle_stage TEXT, start_time INTEGER",
    "metrics": "key TEXT, value REAL, timestamp INTEGER, run_uuid TEXT, step INTEGER, is_nan INTEGER",
    "params": "key TEXT, value TEXT, run_uuid TEXT",
    "tags": "key TEXT, value TEXT, run_uuid TEXT",
}
MLFLOW_ROWS = ("INSERT INTO experiments VALUES (0, 'default', 'active');"
               "INSERT INTO runs VALUES ('u1', 'tiny', 0, 'active', 1);")


def mlflow_db(tables: dict[str, str] | None = None, rows: str = "", *, metric: bool = True) -> Builder:
    """An MLflow database with the tables changed as given and ``rows`` inserted."""
    def build(folder: Path) -> Path:
        path = folder / "mlflow.db"
        connection = sqlite3.connect(path)
        for table, definition in {**MLFLOW_TABLES, **(tables or {})}.items():
            connection.execute(definition if definition.startswith("CREATE") else f"CREATE TABLE {table} ({definition})")
        connection.executescript(MLFLOW_ROWS + rows)
        if metric:
            connection.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                               "VALUES ('loss', 3.0, 1, 'u1', 1, 0)")
        connection.commit()
        connection.close()
        return path

    return build


GENERATED_KEY = mlflow_db({"metrics": "k TEXT, key TEXT GENERATED ALWAYS AS (hex(zeroblob(200000000))) VIRTUAL, "
                                      "value REAL, timestamp INTEGER, run_uuid TEXT, step INTEGER, is_nan INTEGER"},
                          metric=False, rows="INSERT INTO metrics (k, value, timestamp, run_uuid, step, is_nan) "
                                             "VALUES ('loss', 3.0, 1, 'u1', 1, 0);")


# -- 3. ladder: corpus paths out of the spec's folder, huge corpora ----------------------------
def corpus_spec(path: str) -> str:
    return SPEC.format(name="x", tokens=2048).replace("{kind: markov, vocab_size: 16, order: 1, branching: 3}",
                                                      f"{{kind: text, path: {json.dumps(path)}}}")


def corpus_case(path: Callable[[Path], str], expect: str, *extra: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        write(folder / "secret" / "passwd.txt", "root:x:0:0\n" * 5000)
        spec = write(folder / "specs" / "sweep.yaml", corpus_spec(path(folder)))
        return refused(cli(["ladder", "plan", str(spec), "--no-measure", *extra]), expect)

    return check


def corpus_symlink(folder: Path, cli: Cli) -> str | None:
    secret = write(folder / "secret" / "passwd.txt", "root:x:0:0\n" * 5000)
    spec = write(folder / "specs" / "sweep.yaml", corpus_spec("book.txt"))
    (folder / "specs" / "book.txt").symlink_to(secret)
    return refused(cli(["ladder", "plan", str(spec), "--no-measure"]), "outside the spec's folder")


def corpus_allowed_root(folder: Path, cli: Cli) -> str | None:
    write(folder / "data" / "book.txt", "the quick brown fox. " * 2000)
    spec = write(folder / "specs" / "sweep.yaml", corpus_spec("../data/book.txt"))
    outcome = cli(["ladder", "plan", str(spec), "--no-measure", "--allow-root", str(folder / "data")])
    return None if outcome.code == 0 else f"exit {outcome.code}: {outcome.err[:300]!r}"


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space (a hole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def corpus_too_big(folder: Path, cli: Cli) -> str | None:
    sparse(folder / "specs" / "huge.txt", (16 << 30) + 1)
    spec = write(folder / "specs" / "sweep.yaml", corpus_spec("huge.txt"))
    return refused(cli(["ladder", "plan", str(spec), "--no-measure"]), "larger than")


def corpus_streamed(folder: Path, cli: Cli) -> str | None:
    """A 6 GB corpus file, trained on under a 1 GiB address-space limit: read by offset, never whole."""
    path = sparse(folder / "specs" / "big.txt", 6 * 10**9)
    code = ("from scalelaw.ladder.corpora import CorpusSpec\n"
            f"corpus = CorpusSpec(kind='text', path={str(path)!r}).build()\n"
            "batch = corpus.train_batch(seed=0, step=3, sequences=64, seq_len=128)\n"
            "held_out = corpus.eval_set(sequences=32, seq_len=128)\n"
            "assert batch.shape == (64, 129) and held_out.shape == (32, 129)\n")
    outcome = bounded_python(["-c", code])
    return None if outcome.code == 0 else f"exit {outcome.code}: {outcome.err[-300:]!r}"


def corpus_cut_short(folder: Path, cli: Cli) -> str | None:
    from scalelaw.errors import InputError
    from scalelaw.ladder.corpora import ByteCorpus

    path = write(folder / "book.txt", "abcdefgh" * 1000)
    corpus = ByteCorpus(path, name="book", file=str(path))
    os.truncate(path, 100)
    try:
        corpus.train_batch(seed=0, step=1, sequences=8, seq_len=64)
    except InputError as exc:
        return None if "cut short" in str(exc) else f"wrong error: {exc}"
    return "a truncated corpus file was read as if whole"


# -- 4. outputs over FIFOs, devices, symlinks and folders --------------------------------------
def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def device(path: Path) -> Path:
    """A character device like /dev/null (its numbers), made in the test folder; a socket when not root."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        import socket

        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
    return path


def same_kind(path: Path, before: int) -> str | None:
    after = os.lstat(path).st_mode
    return None if stat.S_IFMT(after) == stat.S_IFMT(before) else f"{path.name} was replaced by a regular file"


def output_case(make: Callable[[Path], Path], argv: Callable[[Path, Path], list[str]], expect: str) -> Check:
    """The command writing to ``make(folder)``: refused, the node left as it was."""
    def check(folder: Path, cli: Cli) -> str | None:
        target = make(folder / "target")
        mode = os.lstat(target).st_mode
        return refused(cli(argv(folder, target)), expect) or same_kind(target, mode)

    return check


def fit_out(folder: Path, target: Path) -> list[str]:
    return ["fit", "dataset:porian2024", "--law", "chinchilla", "--bootstrap", "0", "--out", str(target)]


def report_out(folder: Path, target: Path) -> list[str]:
    return ["report", str(write(folder / "fit.json", json.dumps(FIT))), "-o", str(target)]


def plot_out(folder: Path, target: Path) -> list[str]:
    return ["schedule", "show", "cosine:peak=1e-3,total=100", "--plot", str(target)]


def symlinked_output(argv: Callable[[Path, Path], list[str]]) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        victim = write(folder / "victim.txt", "precious")
        (folder / "link.out").symlink_to(victim)
        problem = refused(cli(argv(folder, folder / "link.out")), "symlink")
        return problem or (None if victim.read_text() == "precious" else "the symlink's target was overwritten")

    return check


def output_folder(argv: Callable[[Path, Path], list[str]], expect: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        (folder / "out").mkdir()
        problem = refused(cli(argv(folder, folder / "out")), expect)
        beside = sorted(p.name for p in folder.iterdir() if p.name.startswith("out"))
        return problem or (None if beside == ["out"] else f"wrote beside the folder: {beside}")

    return check


def hparams_page(folder: Path, target: Path) -> list[str]:
    return ["plan", "hparams-fit", "dataset:ladder-hparams", "--where", "width <= 32", "--bootstrap", "5",
            "--out", str(folder / "hp.json"), "--report", str(target)]


#: A hand-written hyperparameter fit whose note carries console markup, an HTML script and a control character.
HOSTILE_HPARAMS = {"kind": "hparams", "law": {"lr_coef": 0.3, "lr_params_exp": -0.7, "lr_tokens_exp": 0.3,
                                              "bs_coef": 1.0, "bs_tokens_exp": 0.5},
                   "bootstrap": [], "bs_identified": False,
                   "bs_note": "[/bold] closing tag [red]x[/red] <script>alert(1)</script> \x1b[31m"}


def hparams_markup(folder: Path, cli: Cli) -> str | None:
    """Printed as written: no markup read, no traceback, the escape character not passed to the terminal."""
    outcome = cli(["plan", "hparams", str(write(folder / "hp.json", json.dumps(HOSTILE_HPARAMS))),
                   "--params", "1e9", "--tokens", "2e10"])
    problem = succeeded(outcome, "[/bold] closing tag [red]x[/red]")
    return problem or ("an escape character reached the terminal" if "\x1b" in outcome.out + outcome.err else None)


def schedule_candidates(rows: str, *extra: str) -> Callable[[Path, Path], list[str]]:
    """``plan next`` of the hand-written fit with a candidates file of ``rows`` (after a run,schedule header)."""
    def argv(folder: Path, fit: Path) -> list[str]:
        candidates = write(folder / "candidates.csv", "run,schedule,params,tokens\n" + rows)
        return ["plan", "next", str(fit), "--params", "1e10", "--tokens", "1e12", "--candidates", str(candidates),
                *extra]
    return argv


def plan_next_case(build: Callable[[Path, Path], list[str]], *needles: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        outcome = cli(build(folder, write(folder / "fit.json", json.dumps(FIT))))
        problem = refused(outcome, *needles)
        return problem or ("an escape character reached the terminal" if "\x1b" in outcome.out + outcome.err
                           else None)
    return check


def hparams_as_fit(folder: Path, cli: Cli) -> str | None:
    path = write(folder / "hp.json", json.dumps(HOSTILE_HPARAMS))
    return refused(cli(["predict", str(path), "--at", "params=1e9,tokens=2e10"]), "scalelaw plan hparams FILE")


def report_missing_folder(folder: Path, cli: Cli) -> str | None:
    problem = refused(cli(report_out(folder, folder / "missing" / "r.html")), "does not exist")
    return problem or ("the folder was created" if (folder / "missing").exists() else None)


# -- 5-6. regexes on RE2, built-in patterns without backtracking -------------------------------
def pattern_case(lines: str, pattern: str, expect: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        path = write(folder / "train.log", lines)
        return refused(cli(["runs", "import", str(path), "--format", "text", "--pattern", pattern,
                            "--store", str(folder / "s")]), expect)

    return check


def log_case(name: str, lines: str, *extra: str) -> Check:
    """A crafted log read by the built-in patterns: any clean outcome, quickly (see BOUNDED's timeout)."""
    def check(folder: Path, cli: Cli) -> str | None:
        outcome = cli(["runs", "import", str(write(folder / name, lines)), *extra, "--store", str(folder / "s")])
        if outcome.code not in (0, 2) or "Traceback" in outcome.err:
            return f"exit {outcome.code}: {outcome.err[:300]!r}"
        return None

    return check


LLMC_BOMB = "s:0 trl:3.5\n" + "s:1 " + "a:b" * 40 + " \x01\n" + "s:2 trl:3.1\n"  # issue 23: 3 lines


# -- 11. a full disk ---------------------------------------------------------------------------
@contextmanager
def disk_full(name_part: str, budget: int = 100) -> Iterator[None]:
    """Writing a file whose name holds ``name_part`` fails with ENOSPC after ``budget`` bytes."""
    class FullDisk(io.FileIO):
        def write(self, data: Any) -> int:
            if name_part in str(self.name) and self.tell() + len(data) > budget:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    atomic.open = lambda path, mode="r": FullDisk(path, mode.replace("b", ""))  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del atomic.open  # type: ignore[attr-defined]


def disk_full_import(name_part: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        store = store_with_runs(folder, cli)
        before = sorted(p.name for p in (store / "runs").iterdir())
        manifest = (store / "manifest.json").read_text()
        more = write(folder / "more.csv", CSV.replace("a,", "c,").replace("b,", "d,"))
        with disk_full(name_part):
            outcome = cli(["runs", "import", str(more), "--store", str(store)])
        problem = refused(outcome, "disk is full", str(store))
        after = sorted(p.name for p in (store / "runs").iterdir())
        if problem or after != before or (store / "manifest.json").read_text() != manifest:
            return problem or f"the store changed: {before} -> {after}"
        left = [p.name for p in store.rglob(".tmp-*")]
        return f"temp files left: {left}" if left else None

    return check


def disk_full_fit_out(folder: Path, cli: Cli) -> str | None:
    target = write(folder / "fit.json", "old")
    with disk_full("fit.json"):
        outcome = cli(fit_out(folder, target))
    problem = refused(outcome, "disk is full")
    return problem or (None if target.read_text() == "old" else "the old FIT.json was lost")


# -- 12. a manifest that points two runs at one file -------------------------------------------
def shared_file(command: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        store = store_with_runs(folder, cli)
        manifest = json.loads((store / "manifest.json").read_text())
        manifest["runs"]["b"]["file"] = manifest["runs"]["a"]["file"]  # b now "owns" a's data
        (store / "manifest.json").write_text(json.dumps(manifest))
        shared = store / manifest["runs"]["a"]["file"]
        argv = {"overwrite": ["runs", "import", str(write(folder / "b.csv", CSV.replace("a,", "z,"))),
                              "--store", str(store), "--overwrite"],
                "list": ["runs", "list", "--store", str(store)]}[command]
        problem = refused(cli(argv), "same file")
        return problem or (None if shared.exists() else "the shared file was deleted")

    return check


def impossible_correlation(folder: Path, cli: Cli) -> str | None:
    """A near-singular Hessian whose inverse is no covariance: the reported |r| stays <= 1."""
    from types import SimpleNamespace

    from scalelaw.fit.diagnostics import degeneracy

    rng = np.random.default_rng(0)
    base = rng.normal(size=(6, 1))
    jac = np.hstack([base, base * (1 + 1e-9) + rng.normal(size=(6, 1)) * 1e-12, rng.normal(size=(6, 1)),
                     2 * base + rng.normal(size=(6, 1)) * 1e-13])
    problem = SimpleNamespace(residuals_jacobian=lambda u: (None, jac[None]), names=list("abcd"), free=np.arange(4))
    _, _, correlation = degeneracy(problem, np.zeros(4))  # type: ignore[arg-type]
    return None if abs(correlation) <= 1.0 else f"correlation {correlation}"


# -- messages quoting huge values --------------------------------------------------------------
def huge_header(folder: Path) -> Path:
    name = "c" * 100_000  # under the csv module's field limit (131,072)
    return write(folder / "dup.csv", f"run,{name},{name}\na,1,2\n")


CASES: list[tuple[str, Check]] = [
    # 1. Parquet decoded-size bombs
    ("Parquet 4 MiB string over 1,500 rows", import_case(DICTIONARY_BOMB, "64 KiB", "run")),
    ("Parquet 60 KiB string over 20,000 rows", import_case(DECODED_BOMB, "decodes to")),
    ("Parquet bomb in an unused column", import_case(parquet("notes.parquet", lambda: curve_columns(
        1500, notes=dictionary(BIG, 1500))), "64 KiB", "notes")),
    ("Parquet bomb in a binary column", import_case(parquet("blob.parquet", lambda: curve_columns(
        1500, blob=dictionary(BIG.encode(), 1500))), "64 KiB")),
    ("Parquet plain-encoded 4 MiB cell", import_case(parquet("plain.parquet", lambda: curve_columns(
        3, note=pa.array([BIG] * 3)), use_dictionary=False), "64 KiB")),
    ("Parquet bomb read as a stream", parquet_stream_bomb),
    ("Parquet bomb as a stored run file", stored_run_bomb),
    ("Parquet nested column of 50 MB", nested_column),
    # 2. MLflow sqlite
    ("MLflow metrics.key generated hex(zeroblob(2e8))", import_case(GENERATED_KEY, "generated")),
    ("MLflow params.value generated", import_case(mlflow_db(
        {"params": "key TEXT, value TEXT GENERATED ALWAYS AS (hex(zeroblob(100000000))) VIRTUAL, run_uuid TEXT"}),
        "generated")),
    ("MLflow tag value of 2 MB", import_case(mlflow_db(rows="INSERT INTO tags VALUES ('note', "
                                                            "hex(zeroblob(1000000)), 'u1');"), "larger than")),
    ("MLflow metric key of 5,000 characters", import_case(mlflow_db(
        rows="INSERT INTO metrics VALUES (printf('%.5000c', 'k'), 1.0, 1, 'u1', 1, 0);"), "5,000 long")),
    ("MLflow metric value is text", import_case(mlflow_db(
        rows="INSERT INTO metrics VALUES ('loss', 'low', 1, 'u1', 2, 0);"), "is text")),
    ("MLflow metric value is a blob", import_case(mlflow_db(
        rows="INSERT INTO metrics VALUES ('loss', zeroblob(10), 1, 'u1', 2, 0);"), "is blob")),
    ("MLflow run name of 100,000 characters", import_case(mlflow_db(
        rows="UPDATE runs SET name = printf('%.100000c', 'n');"), "100,000 long")),
    ("MLflow metrics is a view", import_case(mlflow_db(
        {"metrics": "CREATE VIEW metrics AS SELECT hex(zeroblob(200000000)) AS key, 1.0 AS value, 1 AS timestamp, "
                    "'u1' AS run_uuid, 1 AS step, 0 AS is_nan"}, metric=False), "no table 'metrics'")),
    ("MLflow metrics is a virtual table", import_case(mlflow_db(
        {"metrics": "CREATE VIRTUAL TABLE metrics USING fts5(key, value, timestamp, run_uuid, step, is_nan)"}),
        "not an ordinary table")),
    ("MLflow metrics lacks a column", import_case(mlflow_db(
        {"metrics": "key TEXT, value REAL, timestamp INTEGER, run_uuid TEXT, step INTEGER"}, metric=False),
        "no column 'is_nan'")),
    ("MLflow run id of 1,000 characters", import_case(mlflow_db(
        rows="UPDATE runs SET run_uuid = printf('%.1000c', 'u');"), "run_uuid")),
    ("MLflow NaN metric with a 900-character key", import_case(mlflow_db(
        rows="INSERT INTO metrics VALUES (printf('%.900c', 'k'), 0.0, 1, 'u1', 2, 1);"), "NaN", lines=True)),
    ("SQLite table name of 100 kB", import_case(mlflow_db({"x" * 100_000: "a"}, metric=False), lines=True)),
    # 3. sweep specs reading files outside their folder
    ("corpus path ../../../../etc/passwd", corpus_case(lambda f: "../../../../../../../../etc/passwd",
                                                      "outside the spec's folder")),
    ("corpus path ../secret", corpus_case(lambda f: "../secret/passwd.txt", "outside the spec's folder")),
    ("corpus absolute path", corpus_case(lambda f: str(f / "secret" / "passwd.txt"), "--allow-root")),
    ("corpus path allowed elsewhere only", corpus_case(lambda f: "../secret/passwd.txt", "outside",
                                                       "--allow-root", "/nonexistent-root")),
    ("corpus symlink out of the spec's folder", corpus_symlink),
    ("corpus path inside --allow-root", corpus_allowed_root),
    ("corpus file of 16 GiB", corpus_too_big),
    ("corpus file cut short while training", corpus_cut_short),
    ("corpus file of 6 GB under a 1 GiB limit", corpus_streamed),
    # 4. outputs
    ("fit --out a FIFO", output_case(fifo, fit_out, "FIFO")),
    ("fit --out a character device", output_case(device, fit_out, "--out")),
    ("fit --out a symlink", symlinked_output(fit_out)),
    ("report -o a FIFO", output_case(fifo, report_out, "FIFO")),
    ("report -o a character device", output_case(device, report_out, "-o")),
    ("report -o a folder", output_folder(report_out, "names a folder")),
    ("report -o a symlink", symlinked_output(report_out)),
    ("report -o in a missing folder", report_missing_folder),
    ("schedule --plot a FIFO", output_case(fifo, plot_out, "FIFO")),
    ("schedule --plot a folder", output_folder(plot_out, "names a folder")),
    ("schedule --plot a symlink", symlinked_output(plot_out)),
    ("tasks --report a FIFO", output_case(fifo, lambda f, t: ["tasks", "dataset:olmo-ladder", "--at",
                                                              "params=7e9,tokens=4e12", "--report", str(t)], "FIFO")),
    ("demo --out a FIFO", output_case(fifo, lambda f, t: ["demo", "--out", str(t)], "FIFO")),
    ("plan hparams-fit --out a FIFO", output_case(fifo, lambda f, t: ["plan", "hparams-fit", "dataset:ladder-hparams",
                                                                      "--out", str(t)], "FIFO")),
    ("plan hparams-fit --report a FIFO", output_case(fifo, hparams_page, "FIFO")),
    ("plan hparams-fit --report a symlink", symlinked_output(hparams_page)),
    ("plan hparams: markup and a script in a hyperparameter fit's note", hparams_markup),
    ("predict: a hyperparameter fit given as a FIT.json", hparams_as_fit),
    ("plan next: a candidate's schedule naming a file to read", plan_next_case(schedule_candidates(
        'a,"custom:file=/etc/passwd",1e8,1e9\n'), "cannot name a file", "row 1")),
    ("plan next: a candidate's schedule with markup and an escape character", plan_next_case(schedule_candidates(
        'a,"cosine:peak=[red]x[/red]\x1b[2J,total=10",1e8,1e9\n'), "row 1", "schedule")),
    ("plan next: a target schedule of 10^9 steps", plan_next_case(
        schedule_candidates('a,"constant:peak=1e-3,total=100",1e8,1e9\n', "--schedule",
                            "constant:peak=1e-3,total=1000000000"), "total must be", "10,000,000")),
    ("--store is a FIFO", output_case(fifo, lambda f, t: ["runs", "import", str(write(f / "in.csv", CSV)),
                                                          "--store", str(t)], "not a folder")),
    # 5-6. regexes
    ("--pattern with a backreference", pattern_case("step 1 loss 3\n", r"(?P<step>\d+) (?P<loss>\d)\1", "RE2")),
    ("--pattern with a lookahead", pattern_case("step 1 loss 3\n", r"(?P<step>\d+)(?= )(?P<loss>\d)", "RE2")),
    ("--pattern a{1000}{1000}", pattern_case("a\n", "(?P<step>a{1000}{1000})(?P<loss>b)", "RE2")),
    ("--pattern of 1,001 characters", pattern_case("a\n", "(?P<step>a)(?P<loss>b)" + "c" * 990, "longer than")),
    # 11. a full disk
    ("disk full while writing a run file", disk_full_import(".parquet")),
    ("disk full while writing the manifest", disk_full_import("manifest.json")),
    ("disk full while writing FIT.json", disk_full_fit_out),
    # 12. one file named by two runs
    ("manifest: two runs, one file, --overwrite", shared_file("overwrite")),
    ("manifest: two runs, one file, list", shared_file("list")),
    ("fit warning: correlation beyond +-1", impossible_correlation),
    # messages quoting huge values
    ("CSV header with a 100 kB column name twice", import_case(huge_header, "twice", lines=True)),
]

BOUNDED: list[tuple[str, Check]] = [
    ("Parquet 4 MiB string over 1,500 rows, 1 GiB limit", import_case(DICTIONARY_BOMB, "64 KiB")),
    ("Parquet 60 KiB string over 20,000 rows, 1 GiB limit", import_case(DECODED_BOMB, "decodes to")),
    ("MLflow hex(zeroblob(2e8)), 1 GiB limit", import_case(GENERATED_KEY, "generated")),
    ("MLflow hex(zeroblob(2e8)) in a NaN message, 1 GiB limit", import_case(mlflow_db(
        {"tags": "key TEXT, value TEXT GENERATED ALWAYS AS (hex(zeroblob(200000000))) VIRTUAL, run_uuid TEXT"}),
        "generated", lines=True)),
    ("--pattern (a+)+$ on a 42-character line", pattern_case("a" * 42 + "!\n", r"(?P<step>(a+)+$)(?P<loss>x)?",
                                                              "no line matches")),
    ("llm.c main.log of 3 crafted lines", log_case("main.log", LLMC_BOMB)),
    ("llm.c main.log, --format text", log_case("main.log", LLMC_BOMB, "--format", "text")),
    ("text log: 64 kB of blank lines", log_case("blank.log", "\n" * 65_536 + "step 1: train loss 3.0, val loss 3.1\n")),
    ("text log: nanoGPT line of commas", log_case("nano.log", "step 1: train loss " + "," * 4000 + "\n")),
    ("text log: Megatron line of brackets", log_case("mega.log", " [" * 2000 + "iteration 1/ 10 |\n")),
    ("tasks: a column of 10,000 'downstream/'", lambda folder, cli: (
        None if cli(["tasks", str(write(folder / "t.csv", "run,params,tokens," + "downstream/" * 10_000
                                       + "x\na,1e8,1e10,0.5\n")), "--at", "params=1e9,tokens=1e11"]).code == 2
        else "the tasks command did not refuse")),
]
