"""The hostile-input corpus: inputs written to run code, delete or read files, or exhaust the machine.

Each case is ``(name, check)``: ``check(folder, cli)`` writes its input under ``folder``,
runs the ``scalelaw`` command line through ``cli`` and returns None when scalelaw
behaved (a clear error with exit code 2, or correct output), else what went wrong. The
classes follow issue 13: filters that run code, checkpoints, the run store, manifests,
FIT.json, symlinks, resource bombs, terminal output and former internal errors.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from scalelaw.data import parquet_bounds
from scalelaw.data.readers.tensorboard import masked_crc32c


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


Cli = Callable[[list[str]], Outcome]
Check = Callable[[Path, Cli], "str | None"]

CSV = "run,step,loss,params,tokens\na,1,4.0,1e6,1e8\na,2,3.5,1e6,2e8\nb,1,3.9,2e6,1e8\nb,2,3.3,2e6,2e8\n"
#: A valid chinchilla fit, written by hand (Hoffmann et al.'s published constants).
FIT: dict[str, Any] = {
    "law": "chinchilla",
    "params": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
    "fitted_range": {"params": [1e7, 1e9], "tokens": [1e9, 1e11], "flops": [6e16, 6e20]},
    "options": {"strict": False, "extrapolation_warning_decades": 2.0},
}
def _laughs() -> str:
    """The "billion laughs" YAML: nine levels of nine aliases, 9**9 strings once expanded."""
    lines = ["a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for i in range(1, 9):
        name, previous = chr(97 + i), chr(96 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


BILLION_LAUGHS = _laughs()


def in_process_cli(capsys: Any) -> Cli:
    """The command line run in this process, its output taken from pytest's ``capsys``; warnings always shown."""
    import warnings

    from scalelaw.cli.main import run

    def cli(argv: list[str]) -> Outcome:
        capsys.readouterr()
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            code = run(argv)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return cli


def run_cases(cases: list[tuple[str, Check]], root: Path, cli: Cli) -> list[str]:
    """Run every case in a folder of its own under ``root``; the failures, as "name: problem" lines."""
    failures = []
    for number, (name, check) in enumerate(cases):
        folder = root / f"case{number}"
        folder.mkdir()
        try:
            problem = check(folder, cli)
        except Exception as exc:  # noqa: BLE001 - a case that crashes the harness is a failure too
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            failures.append(f"{name}: {problem}")
    return failures


def refused(outcome: Outcome, *needles: str) -> str | None:
    """None for a clean refusal (exit 2, one 'error:' line, no traceback) mentioning every needle."""
    errors = [line for line in outcome.err.splitlines() if line.startswith("error:")]
    if outcome.code != 2 or "Traceback" in outcome.err or len(errors) != 1:
        return f"exit {outcome.code}, stderr {outcome.err[:300]!r}"
    missing = [n for n in needles if n not in outcome.err]
    return f"stderr lacks {missing[0]!r}: {outcome.err[:300]!r}" if missing else None


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def fit_file(folder: Path, **edits: Any) -> Path:
    return write(folder / "fit.json", json.dumps({**FIT, **edits}))


def store_with_runs(folder: Path, cli: Cli, csv: str = CSV) -> Path:
    store = folder / "store"
    outcome = cli(["runs", "import", str(write(folder / "in.csv", csv)), "--store", str(store)])
    assert outcome.code == 0, outcome.err
    return store


def edit_manifest(store: Path, run: str, **changes: Any) -> None:
    manifest = json.loads((store / "manifest.json").read_text())
    manifest["runs"][run].update(changes)
    (store / "manifest.json").write_text(json.dumps(manifest))


@contextmanager
def patched(module: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


# -- protobuf and TFRecord framing, for hand-made TensorBoard records ------------------------
def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def record(payload: bytes, length: int | None = None) -> bytes:
    header = struct.pack("<Q", len(payload) if length is None else length)
    return header + struct.pack("<I", masked_crc32c(header)) + payload + struct.pack("<I", masked_crc32c(payload))


def scalar_event(step_varint: bytes, value_field: bytes) -> bytes:
    value = b"\x0a\x04loss" + value_field  # Summary.Value: tag, then the value
    summary = b"\x0a" + varint(len(value)) + value
    return b"\x10" + step_varint + b"\x2a" + varint(len(summary)) + summary


FLOAT_LOSS = b"\x15" + struct.pack("<f", 3.0)
_TENSOR = b"\x28" + varint(1 << 62)  # TensorProto.float_val written as a varint too large for a float
HUGE_FLOAT_TENSOR = b"\x42" + varint(len(_TENSOR)) + _TENSOR


# -- the cases -------------------------------------------------------------------------------
def where_case(payload: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        marker = folder / "pwned"
        expression = payload.format(marker=marker)
        data = write(folder / "in.csv", CSV)
        problem = refused(cli(["runs", "import", str(data), "--where", expression, "--store", str(folder / "s")]))
        problem = problem or refused(cli(["fit", "dataset:porian2024", "--where", expression]))
        return problem or ("the filter ran code" if marker.exists() else None)

    return check


def fit_where_case(folder: Path, cli: Cli) -> str | None:
    marker = folder / "pwned"
    payload = f"@pd.io.common.os.system('touch {marker}') == 0"
    outcome = cli(["report", str(fit_file(folder)), "--fit-data", str(write(folder / "in.csv", CSV)),
                   "--fit-where", payload, "-o", str(folder / "r.html")])
    return refused(outcome, "cannot apply filter") or ("the filter ran code" if marker.exists() else None)


def fit_json_case(expect: str, **edits: Any) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        return refused(cli(["predict", str(fit_file(folder, **edits)), "--at", "params=1e8,tokens=1e10"]), expect)

    return check


def fit_json_text_case(text: Callable[[str], str], expect: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        path = write(folder / "fit.json", text(json.dumps(FIT)))
        return refused(cli(["predict", str(path), "--at", "params=1e8,tokens=1e10"]), expect)

    return check


def huge_fit_file(folder: Path, cli: Cli) -> str | None:
    path = folder / "fit.json"
    with open(path, "wb") as handle:
        handle.truncate(65 * 2**20)  # sparse: 65 MB on paper, nothing on disk
    return refused(cli(["predict", str(path), "--at", "params=1e8,tokens=1e10"]), "larger than")


def predict_at(value: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        return refused(cli(["predict", str(fit_file(folder)), "--at", f"params={value},tokens=1e10"]), "params")

    return check


def option_case(*argv: str, expect: str = "") -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        csv = str(write(folder / "in.csv", CSV))
        return refused(cli([a.replace("{csv}", csv).replace("{folder}", str(folder)) for a in argv]), expect)

    return check


def custom_file_case(content: bytes, expect: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        path = write(folder / "lr.csv", content)
        return refused(cli(["schedule", "show", f"custom:file={path}"]), expect)

    return check


def out_case(target: Callable[[Path], Path]) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        return refused(cli(["fit", "dataset:porian2024", "--law", "chinchilla", "--out", str(target(folder))]), "--out")

    return check


def foreign_store(folder: Path, cli: Cli) -> str | None:
    logs = folder / "logs"
    write(logs / "runs" / "mine.csv", "precious")
    write(logs / "notes.txt", "keep")
    problem = refused(cli(["runs", "import", str(write(folder / "in.csv", CSV)), "--store", str(logs)]),
                      "not a scalelaw run store")
    intact = (logs / "runs" / "mine.csv").read_text() == "precious" and (logs / "notes.txt").exists()
    return problem or (None if intact else "the user's files were deleted")


def symlinked_runs(folder: Path, cli: Cli) -> str | None:
    target = write(folder / "elsewhere" / "precious.parquet", "data").parent
    store = folder / "store"
    write(store / "manifest.json", json.dumps({"version": 1, "runs": {}}))
    (store / "runs").symlink_to(target)
    problem = refused(cli(["runs", "import", str(write(folder / "in.csv", CSV)), "--store", str(store)]), "symlink")
    return problem or (None if (target / "precious.parquet").exists() else "the symlink target was emptied")


def manifest_points_out(command: str, name: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        victim = write(folder / "victim.parquet", "not yours")
        store = store_with_runs(folder, cli)
        edit_manifest(store, "a", file=name.format(victim=victim))
        argv = {"remove": ["runs", "import", str(folder / "in.csv"), "--store", str(store), "--overwrite"],
                "show": ["runs", "show", "a", "--store", str(store)],
                "fit": ["fit", str(store), "--law", "chinchilla"]}[command]
        problem = refused(cli(argv), "manifest is damaged")
        return problem or (None if victim.read_text() == "not yours" else "a file outside the store was touched")

    return check


def damaged_manifest(content: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        store = store_with_runs(folder, cli)
        write(store / "manifest.json", content)
        return refused(cli(["runs", "list", "--store", str(store)]), "manifest")

    return check


def subfolder_in_runs(folder: Path, cli: Cli) -> str | None:
    store = store_with_runs(folder, cli)
    (store / "runs" / "a-0123456789ab-01234567.parquet").mkdir()
    outcome = cli(["runs", "import", str(write(folder / "c.csv", CSV.replace("a,", "c,").replace("b,", "d,"))),
                   "--store", str(store)])
    return None if outcome.code == 0 else f"exit {outcome.code}: {outcome.err[:300]!r}"


def symlinked_run_file(folder: Path, cli: Cli) -> str | None:
    store = store_with_runs(folder, cli)
    entry = json.loads((store / "manifest.json").read_text())["runs"]["a"]
    path = store / entry["file"]
    secret = folder / "secret.parquet"
    path.rename(secret)
    path.symlink_to(secret)
    return refused(cli(["runs", "show", "a", "--store", str(store)]), "symlink")


def mlflow_run(folder: Path) -> Path:
    run = folder / "mlruns" / "0" / "abc"
    write(run / "metrics" / "loss", "1700000 4.0 1\n1700001 3.5 2\n")
    return run


def mlflow_symlink(kind: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        run = mlflow_run(folder)
        secret = write(folder / "secret.txt", "1700000 9.0 1\n")
        write(run / "params" / "keep", "1")
        (run / kind).mkdir(exist_ok=True)
        (run / kind / "stolen").symlink_to(secret)
        return refused(cli(["runs", "import", str(run), "--store", str(folder / "s")]), "outside the folder")

    return check


def mlflow_meta(content: str, expect: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        run = mlflow_run(folder)
        write(run / "meta.yaml", content)
        return refused(cli(["runs", "import", str(run), "--store", str(folder / "s")]), expect)

    return check


def tensorboard_case(data: bytes, expect: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        path = write(folder / "tb" / "events.out.tfevents.1.host", data)
        return refused(cli(["runs", "import", str(path), "--store", str(folder / "s")]), expect)

    return check


def tensorboard_link_out(folder: Path, cli: Cli) -> str | None:
    outside = write(folder / "outside" / "events.out.tfevents.1.x", record(scalar_event(varint(1), FLOAT_LOSS)))
    logs = folder / "logs" / "run1"
    write(logs / "events.out.tfevents.2.x", record(scalar_event(varint(1), FLOAT_LOSS)))
    (logs / "events.out.tfevents.3.x").symlink_to(outside)
    return refused(cli(["runs", "import", str(folder / "logs"), "--store", str(folder / "s")]), "outside the folder")


def file_case(name: str, content: str | bytes, expect: str = "") -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        return refused(cli(["runs", "import", str(write(folder / name, content)), "--store", str(folder / "s")]), expect)

    return check


def parquet_bomb(folder: Path, cli: Cli) -> str | None:
    path = folder / "bomb.parquet"
    pd.DataFrame({"run": ["a"] * 4_000_000, "loss": np.zeros(4_000_000)}).to_parquet(path, compression="zstd")
    assert path.stat().st_size < 1 << 20
    with patched(parquet_bounds, "MAX_PARQUET_CELLS", 1_000_000):  # 8 million cells from a file of a few kB
        return refused(cli(["runs", "import", str(path), "--store", str(folder / "s")]), "cells")


def spec_case(content: str, expect: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        marker = folder / "pwned"
        spec = write(folder / "sweep.yaml", content.replace("{marker}", str(marker)))
        problem = refused(cli(["ladder", "plan", str(spec)]), expect)
        return problem or ("the spec ran code" if marker.exists() else None)

    return check


SPEC = ("name: {name}\ncorpus: {{kind: markov, vocab_size: 16, order: 1, branching: 3}}\nseq_len: 16\n"
        "models: {{width: [8], depth: 1, heads: 2}}\ntokens: [{tokens}]\nbatch_size: 256\n")


def checkpoint_pickle(folder: Path, cli: Cli) -> str | None:
    import os
    import pickle

    import torch

    from scalelaw.ladder.executors import checkpoint_path
    from scalelaw.ladder.spec import load_spec

    marker = folder / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return os.system, (f"touch {marker}",)

    spec = write(folder / "sweep.yaml", SPEC.format(name="tiny", tokens=2048))
    store = folder / "store"
    (config,) = load_spec(spec).runs
    checkpoint = checkpoint_path(store, config.run_id)
    checkpoint.parent.mkdir(parents=True)
    torch.save({"config_hash": "x", "payload": Payload()}, checkpoint, pickle_protocol=pickle.HIGHEST_PROTOCOL)
    outcome = cli(["ladder", "run", str(spec), "--store", str(store), "--workers", "1"])
    if marker.exists():
        return "the checkpoint ran code"
    return None if outcome.code == 0 else f"exit {outcome.code}: {outcome.err[:300]!r}"


def run_name_case(content: str, name: str, expect: str) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        return refused(cli(["runs", "import", str(write(folder / name, content)), "--store", str(folder / "s")]),
                       expect)

    return check


def markup_in_run_names(folder: Path, cli: Cli) -> str | None:
    csv = "run,step,loss\n[/bold],1,3\n[link=http://evil.example]x,1,3\n$\\frac{,1,3\n"
    store = store_with_runs(folder, cli, csv)
    outcome = cli(["runs", "list", "--store", str(store)])
    if outcome.code != 0:
        return f"runs list: exit {outcome.code}, {outcome.err[:300]!r}"
    shown = outcome.out.replace("\n", "")
    if "[/bold]" in shown and "[link=" in shown and "\x1b]8" not in shown:
        return None
    return f"markup was interpreted: {shown!r}"


def escapes_in_messages(folder: Path, cli: Cli) -> str | None:
    outcome = cli(["runs", "import", str(folder / "no\x1b[2Jsuch\x07.csv"), "--store", str(folder / "s")])
    problem = refused(outcome, "\\x1b")
    return problem or ("a raw escape reached the terminal" if "\x1b" in outcome.err or "\x07" in outcome.err else None)


def lookalike_names(folder: Path, cli: Cli) -> str | None:
    csv = "run,step,loss\nrun1,1,3\nRUN1,1,3\ntiny,1,3\nt\u0456ny,1,3\n"  # the second tiny has a Cyrillic i
    outcome = cli(["runs", "import", str(write(folder / "in.csv", csv)), "--store", str(folder / "s")])
    if outcome.code != 0:
        return f"exit {outcome.code}: {outcome.err[:300]!r}"
    return None if "look-alike" in outcome.err else f"no look-alike warning: {outcome.err[:300]!r}"


def report_case(fit: dict[str, Any], csv: str | None) -> Check:
    def check(folder: Path, cli: Cli) -> str | None:
        path = write(folder / "fit.json", json.dumps(fit))
        args = ["report", str(path), "-o", str(folder / "r.html")]
        if csv is not None:
            args[2:2] = [str(write(folder / "held.csv", csv))]
        outcome = cli(args)
        return None if outcome.code == 0 else f"exit {outcome.code}: {outcome.err[:300]!r}"

    return check


IDENTICAL_REPLICATES = {**FIT, "bootstrap": [[1.69, 406.4, 410.7, 0.34, 0.28]] * 40}
DOLLAR_RUNS = "run,step,loss,params,tokens\n$\\frac{a,1,3.0,1e8,1e10\n$x$,1,2.9,2e8,2e10\n"

CASES: list[tuple[str, Check]] = [
    # 1. filters that run code (pandas query resolved @names and called methods)
    ("--where @-global shell command", where_case("@pd.io.common.os.system('touch {marker}') == 0")),
    ("--where __import__", where_case("__import__('os').system('touch {marker}')")),
    ("--where method call", where_case("run.str.len() > 0")),
    ("--where nested 10^4 deep", where_case("(" * 10_000 + "loss > 1" + ")" * 10_000)),
    ("--where number 1e999", where_case("loss < 1e999")),
    ("--fit-where shell command", fit_where_case),
    # 2. a pickle planted as a ladder checkpoint
    ("checkpoint pickle", checkpoint_pickle),
    # 3. the store deleting what it does not own
    ("--store on someone else's folder", foreign_store),
    ("--store with a symlinked runs/", symlinked_runs),
    # 4. manifest entries pointing anywhere
    ("manifest ../ entry, --overwrite", manifest_points_out("remove", "../victim.parquet")),
    ("manifest absolute entry, show", manifest_points_out("show", "{victim}")),
    ("manifest runs/../ entry, fit", manifest_points_out("fit", "runs/../../victim.parquet")),
    ("manifest entry is a number", damaged_manifest('{"version": 1, "runs": {"a": {"file": 7}}}')),
    ("manifest runs is a list", damaged_manifest('{"version": 1, "runs": [1, 2]}')),
    ("manifest nested 10^5 deep", damaged_manifest("[" * 100_000)),
    ("run file is a symlink", symlinked_run_file),
    # 5. --out checked before the fit
    ("--out in a missing folder", out_case(lambda f: f / "missing" / "fit.json")),
    ("--out is a folder", out_case(lambda f: f)),
    # 6. symlinks out of the folder being read
    ("MLflow param symlinked out", mlflow_symlink("params")),
    ("MLflow metric symlinked out", mlflow_symlink("metrics")),
    ("MLflow tag symlinked out", mlflow_symlink("tags")),
    ("TensorBoard event file symlinked out", tensorboard_link_out),
    # 7. bounded resources
    ("MLflow meta.yaml billion laughs", mlflow_meta(BILLION_LAUGHS + "run_name: *i\n", "aliases")),
    ("MLflow meta.yaml nested 10^4 deep", mlflow_meta("a: " + "[" * 10_000, "YAML")),
    ("MLflow meta.yaml python tag", mlflow_meta("run_name: !!python/object/apply:os.system ['true']\n", "YAML")),
    ("sweep spec billion laughs", spec_case(BILLION_LAUGHS + SPEC.format(name="*i", tokens=4096), "aliases")),
    ("sweep spec python tag", spec_case(SPEC.format(name="!!python/object/apply:os.system ['touch {marker}']",
                                                    tokens=4096), "YAML")),
    ("sweep spec tokens 10**400", spec_case(SPEC.format(name="x", tokens="1" + "0" * 400), "finite")),
    ("sweep spec of 10^4 models", spec_case(SPEC.format(name="x", tokens=4096).replace("[8]", str(list(range(8, 8 + 10_001)))),
                                       "models")),
    ("sweep spec width 10^9", spec_case(SPEC.format(name="x", tokens=4096).replace("[8]", "[1000000000]"), "at most")),
    ("sweep spec 2 MB", spec_case("# " + "x" * (2 << 20) + "\n", "larger than")),
    ("Parquet decompression bomb", parquet_bomb),
    ("CSV line of 17 MB", file_case("long.csv", "run,step,loss\na,1," + "9" * (17 << 20) + "\n", "longer than")),
    ("CSV loss 10**400", file_case("big.csv", "run,step,loss\na,1,1" + "0" * 400 + "\n", "row 1")),
    ("JSONL integer 10**400", file_case("big.jsonl", '{"run": "a", "step": 1, "loss": 1' + "0" * 400 + "}\n", "row 1")),
    ("JSONL integer of 5000 digits", file_case("huge.jsonl", '{"run": "a", "loss": 1' + "0" * 5000 + "}\n", "row 1")),
    ("TFRecord length 2^40", tensorboard_case(record(b"x" * 16, length=1 << 40), "cut off")),
    ("TensorBoard step varint overflow", tensorboard_case(record(scalar_event(b"\xff" * 9 + b"\x7f", FLOAT_LOSS)),
                                                          "not a valid Event")),
    ("TensorBoard float as huge varint", tensorboard_case(record(scalar_event(varint(1), HUGE_FLOAT_TENSOR)),
                                                          "not a valid Event")),
    ("--schedule total=1e12", option_case("schedule", "show", "constant:peak=1e-3,total=1e12", expect="total")),
    ("FIT.json blocks_per_level 1e9", fit_json_case("blocks_per_level", law="multi-power",
                                                     law_options={"blocks_per_level": 1e9})),
    ("FIT.json file of 65 MB", huge_fit_file),
    ("FIT.json seed 10**400", fit_json_text_case(lambda t: t.replace('"strict"', '"seed": 1' + "0" * 400 + ', "strict"'),
                                                 "seed")),
    ("FIT.json nested 10^5 deep", fit_json_text_case(lambda t: t.replace('"law":', '"x": ' + "[" * 100_000 + "], \"law\":"),
                                                     "JSON")),
    ("FIT.json residuals of text", fit_json_case("residuals", residuals=["x"] * 1000)),
    ("FIT.json bootstrap rows of 300", fit_json_case("bootstrap", bootstrap=[[1.0] * 300])),
    # 8. the extrapolation guard cannot be edited away
    ("FIT.json warning decades null", fit_json_case("extrapolation_warning_decades",
                                                    options={"extrapolation_warning_decades": None})),
    ("FIT.json warning decades NaN", fit_json_text_case(lambda t: t.replace('"extrapolation_warning_decades": 2.0',
                                                                            '"extrapolation_warning_decades": NaN'),
                                                        "finite")),
    ("FIT.json warning decades -1", fit_json_case(">= 0", options={"extrapolation_warning_decades": -1})),
    ("FIT.json fitted_range null", fit_json_case("fitted_range", fitted_range={"params": [None, 1e9]})),
    ("FIT.json fitted_range reversed", fit_json_case("lo <= hi", fitted_range={"params": [1e9, 1e7]})),
    ("FIT.json strict is text", fit_json_case("strict", options={"strict": "no"})),
    ("FIT.json unknown field", fit_json_case("not a field", surprise=1)),
    ("FIT.json params Infinity", fit_json_text_case(lambda t: t.replace('"E": 1.69', '"E": Infinity'), "finite")),
    # 9. terminal output
    ("rich markup in run names", markup_in_run_names),
    ("escape sequences in a message", escapes_in_messages),
    ("NUL in a run name", run_name_case('{"run": "a\\u0000b", "loss": 3}\n', "nul.jsonl", "control character")),
    ("newline in a run name", run_name_case('run,loss\n"a\nb",3\n', "nl.csv", "control character")),
    ("escape in a run name", run_name_case("run,loss\na\x1b[31m,3\n", "esc.csv", "control character")),
    ("bidi override in a run name", run_name_case("run,loss\nab\u202ec,3\n", "bidi.csv", "control character")),
    ("look-alike run names", lookalike_names),
    # 10. former internal errors
    ("report of identical bootstrap replicates", report_case(IDENTICAL_REPLICATES, None)),
    ("report with $ in run names", report_case(FIT, DOLLAR_RUNS)),
    ("predict at params=NaN", predict_at("NaN")),
    ("predict at params=0", predict_at("0")),
    ("predict at params=-1", predict_at("-1")),
    ("predict at params=1e400", predict_at("1e400")),
    ("custom:file= empty", custom_file_case(b"", "empty")),
    ("custom:file= binary", custom_file_case(b"\x00\x01\x02garbage", "binary")),
    ("custom:file= not UTF-8", custom_file_case(b"step,lr\n1,\xff\n", "UTF-8")),
    ("schedule repeated key", option_case("schedule", "show", "constant:peak=1e-3,total=100,total=200", expect="twice")),
    ("sub-folder inside runs/", subfolder_in_runs),
    # every other option that parses a string
    ("--map without =", option_case("runs", "import", "{csv}", "--map", "loss", "--store", "{folder}/s", expect="--map")),
    ("--option unknown key", option_case("fit", "dataset:porian2024", "--law", "chinchilla", "--option", "bogus=1",
                                         expect="does not accept")),
    ("--option blocks_per_level 1e9", option_case("fit", "dataset:multipowerlaw-25m", "--law", "multi-power",
                                                  "--option", "blocks_per_level=1000000000", expect="blocks_per_level")),
    ("--fix not a number", option_case("fit", "dataset:porian2024", "--fix", "alpha=abc", expect="not a number")),
    ("--fix-from missing file", option_case("fit", "dataset:porian2024", "--fix-from", "{folder}/nope.json:E",
                                            expect="cannot read")),
    ("--format unknown", option_case("runs", "import", "{csv}", "--format", "pickle", "--store", "{folder}/s",
                                     expect="format")),
    ("--loss-unit unknown", option_case("runs", "import", "{csv}", "--loss-unit", "furlongs", "--store", "{folder}/s")),
    ("--store is a file", option_case("runs", "import", "{csv}", "--store", "{csv}", expect="not a folder")),
    ("--at not a number", predict_at("big")),
    ("--schedule unknown family", option_case("schedule", "show", "exec:peak=1", expect="unknown schedule")),
    ("--schedule peak NaN", option_case("schedule", "show", "constant:peak=nan,total=100", expect="peak")),
]
