"""The malformed-input corpus: each case writes one hostile file (or folder) and says what must be named.

A case is ``(name, build, row, options)``: ``build(folder)`` writes the input and returns
its path, ``row`` is the data row the error must name (None when no row applies), and
``options`` are extra ``read_runs`` keywords (e.g. a column mapping).
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from tb_encoder import field, write_events
from wandb_encoder import write_run

Builder = Callable[[Path], Path]
CURVE = [(10, {"loss": 4.0}), (20, {"loss": 3.5}), (30, {"loss": 3.2})]


def text(name: str, content: str) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_text(content, encoding="utf-8", newline="")
        return path

    return build


def raw(name: str, content: bytes) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return build


def parquet(name: str, frame: pd.DataFrame) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / name
        frame.to_parquet(path)
        return path

    return build


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def tensorboard(name: str, cut: int = 0, flip: int | None = None, hole: tuple[int, int] | None = None) -> Builder:
    def build(folder: Path) -> Path:
        path = write_events(folder / "tbrun" / name, CURVE)
        data = bytearray(path.read_bytes())
        if flip is not None:
            data[flip] ^= 0x55
        if hole is not None:
            del data[hole[0] : hole[1]]
        path.write_bytes(bytes(data[: len(data) - cut]))
        return path

    return build


def mlflow(metric_lines: str | None) -> Builder:
    def build(folder: Path) -> Path:
        run = folder / "mlruns" / "0" / "abc"
        (run / "metrics").mkdir(parents=True)
        if metric_lines is not None:
            (run / "metrics" / "loss").write_text(metric_lines)
        return run

    return build


STATE = json.dumps({"global_step": 2, "log_history": [
    {"epoch": 0.5, "learning_rate": 0.001, "loss": 4.0, "step": 1},
    {"epoch": 1.0, "learning_rate": 0.0005, "loss": 3.5, "step": 2},
    {"epoch": 1.0, "eval_loss": 3.6, "step": 2}]}, indent=2)


def trainer(state: str, weights: bytes | None = None) -> Builder:
    """A Trainer output folder with this trainer_state.json (and a model.safetensors if given)."""
    def build(folder: Path) -> Path:
        out = folder / "output"
        out.mkdir()
        (out / "trainer_state.json").write_text(state)
        if weights is not None:
            (out / "model.safetensors").write_bytes(weights)
        return out

    return build


def wandb_run(name: str, *, version: int = 0, extra: tuple[bytes, ...] = (), flip: int | None = None) -> Builder:
    def build(folder: Path) -> Path:
        path = write_run(folder / "wandb" / "offline-run-1-abc123" / name, CURVE, version=version, extra=extra)
        if flip is not None:
            data = bytearray(path.read_bytes())
            data[flip] ^= 0x20
            path.write_bytes(bytes(data))
        return path

    return build


def lightning(metrics: str, hparams: str) -> Builder:
    def build(folder: Path) -> Path:
        version = folder / "lightning_logs" / "version_0"
        version.mkdir(parents=True)
        (version / "metrics.csv").write_text(metrics)
        (version / "hparams.yaml").write_text(hparams)
        return version

    return build


#: Connections that hold a test database locked until the test process ends.
HELD_LOCKS: list[sqlite3.Connection] = []


def sqlite_db(name: str, statements: str, *, locked: bool = False) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / name
        connection = sqlite3.connect(path)
        connection.executescript(statements)
        connection.commit()
        if locked:
            connection.execute("BEGIN EXCLUSIVE")
            HELD_LOCKS.append(connection)
        else:
            connection.close()
        return path

    return build


MLFLOW_SCHEMA = (
    "CREATE TABLE experiments (experiment_id INTEGER, name TEXT, lifecycle_stage TEXT);"
    "CREATE TABLE runs (run_uuid TEXT, name TEXT, experiment_id INTEGER, lifecycle_stage TEXT, start_time INTEGER);"
    "CREATE TABLE metrics (key TEXT, value REAL, timestamp INTEGER, run_uuid TEXT, step INTEGER, is_nan INTEGER);"
    "CREATE TABLE params (key TEXT, value TEXT, run_uuid TEXT);"
    "CREATE TABLE tags (key TEXT, value TEXT, run_uuid TEXT);"
    "INSERT INTO experiments VALUES (0, 'default', 'active');"
    "INSERT INTO runs VALUES ('u1', 'tiny', 0, 'active', 1);"
)
PANEL = '"Step","a - loss","b - loss"\n'

H = "run,step,loss\n"
P = "run,step,tokens,loss,lr,params\n"
GARBAGE = bytes(random.Random(7).randrange(256) for _ in range(2000))

CASES: list[tuple[str, Builder, int | None, dict[str, Any]]] = [
    ("empty file", raw("empty.csv", b""), None, {}),
    ("only blank lines", text("blank.csv", "  \n\n\n"), None, {}),
    ("header only", text("header_only.csv", H), None, {}),
    ("truncated last line", text("truncated.csv", H + "a,1,4.0\na,2"), 2, {}),
    ("too many fields", text("extra_field.csv", H + "a,1,4.0\na,2,3.5,9\n"), 2, {}),
    ("semicolon delimited", text("semicolon.csv", "run;step;loss\na;1;4.0\n"), None, {}),
    ("tab delimited .csv", text("tabs.csv", "run\tstep\tloss\na\t1\t4.0\n"), None, {}),
    ("comma delimited .tsv", text("commas.tsv", "run,step,loss\na,1,4.0\n"), None, {}),
    ("mixed types in step", text("mixed.csv", H + "a,1,4.0\na,two,3.0\n"), 2, {}),
    ("non-numeric loss", text("word_loss.csv", H + "a,1,4.0\na,2,low\n"), 2, {}),
    ("NaN loss", text("nan.csv", H + "a,1,4.0\na,2,nan\n"), 2, {}),
    ("inf loss", text("inf.csv", H + "a,1,4.0\na,2,inf\n"), 2, {}),
    ("-inf loss", text("neginf.csv", H + "a,1,-inf\n"), 1, {}),
    ("overflowing number", text("overflow.csv", H + "a,1,1e999\n"), 1, {}),
    ("negative N", text("neg_params.csv", P + "a,1,10,4.0,0.1,-5e6\n"), 1, {}),
    ("zero N", text("zero_params.csv", P + "a,1,10,4.0,0.1,0\n"), 1, {}),
    ("absurd N 1e40", text("absurd_params.csv", P + "a,1,10,4.0,0.1,1e40\n"), 1, {}),
    ("absurd tokens", text("absurd_tokens.csv", P + "a,1,1e30,4.0,0.1,1e6\n"), 1, {}),
    ("absurd loss 500", text("absurd_loss.csv", H + "a,1,500\n"), 1, {}),
    ("negative loss", text("neg_loss.csv", H + "a,1,-2\n"), 1, {}),
    ("negative lr", text("neg_lr.csv", P + "a,1,10,4.0,-0.1,1e6\n"), 1, {}),
    ("negative step", text("neg_step.csv", H + "a,-3,4.0\n"), 1, {}),
    ("duplicated steps", text("dup_steps.csv", H + "a,1,4.0\na,2,3.5\na,2,3.4\n"), 3, {}),
    ("decreasing steps", text("back_steps.csv", H + "a,5,4.0\na,3,3.5\n"), 2, {}),
    ("decreasing tokens", text("back_tokens.csv", P + "a,1,100,4.0,0.1,1e6\na,2,50,3.5,0.1,1e6\n"), 2, {}),
    ("N changes within a run", text("params_change.csv", P + "a,1,10,4.0,0.1,1e6\na,2,20,3.5,0.1,2e6\n"), 2, {}),
    ("empty run id", text("empty_run.csv", H + "a,1,4.0\n,2,3.5\n"), 2, {}),
    ("run without any loss", text("no_loss_values.csv", H + "a,1,\na,2,\n"), None, {}),
    ("no loss column", text("no_loss_col.csv", "run,step,val\na,1,4\n"), None, {}),
    ("duplicate header", text("dup_header.csv", "run,loss,loss\na,1,2\n"), None, {}),
    ("unnamed header column", text("unnamed.csv", "run,,loss\na,1,2\n"), None, {}),
    ("unclosed quote", text("quote.csv", 'run,loss\n"a,3.0\n'), None, {}),
    ("huge number of columns", text("wide.csv", ",".join(f"c{i}" for i in range(20_000)) + ",loss\n"), None, {}),
    ("bits declared as nats", text("bits.csv", "run,val_bpb\na,0.95\n"), None, {"columns": {"loss": "val_bpb"}}),
    ("bits declared as nats (name)", text("loss_bits.csv", "run,loss_bits\na,2.1\n"), None, {"columns": {"loss": "loss_bits"}}),
    ("map to a missing column", text("map_missing.csv", H + "a,1,4\n"), None, {"columns": {"params": "N"}}),
    ("binary garbage .csv", raw("garbage.csv", b"\x00\x01" + GARBAGE), None, {}),
    ("binary garbage .parquet", raw("garbage.parquet", b"PAR1" + GARBAGE + b"PAR1"), None, {}),
    ("latin-1 text", raw("latin1.csv", "run,loss\nr\xe9sum\xe9,3.0\n".encode("latin-1")), None, {}),
    ("CSV named .parquet", text("really_csv.parquet", H + "a,1,4\n"), None, {}),
    ("Parquet named .csv", raw("really_parquet.csv", parquet_bytes(pd.DataFrame({"run": ["a"], "loss": [3.0]}))), None, {}),
    ("CSV named .jsonl", text("really_csv.jsonl", H + "a,1,4\n"), None, {}),
    ("JSONL named .csv", text("really_jsonl.csv", '{"run": "a", "loss": 3}\n'), None, {}),
    ("JSONL broken line", text("broken.jsonl", '{"run": "a", "loss": 3}\n{"run": "a", "loss": 2\n'), 2, {}),
    ("JSONL array line", text("array.jsonl", '{"run": "a", "loss": 3}\n[1, 2]\n'), 2, {}),
    ("JSONL NaN", text("nan.jsonl", '{"run": "a", "step": 1, "loss": NaN}\n'), 1, {}),
    ("Parquet string loss", parquet("strings.parquet", pd.DataFrame({"run": ["a", "a"], "loss": ["3.0", "low"]})), 2, {}),
    ("Parquet inf loss", parquet("inf.parquet", pd.DataFrame({"run": ["a"], "loss": [float("inf")]})), 1, {}),
    ("Parquet no rows", parquet("no_rows.parquet", pd.DataFrame({"run": pd.Series([], dtype=str), "loss": []})), None, {}),
    ("TensorBoard bytes missing mid-file", tensorboard("events.out.tfevents.1.hole", hole=(60, 70)), 3, {}),
    ("TensorBoard bad checksum", tensorboard("events.out.tfevents.1.crc", flip=60), 2, {}),
    ("TensorBoard file that is text", text("events.out.tfevents.2.txt", H + "a,1,4\n"), 1, {}),
    ("MLflow bad metric line", mlflow("1700000 4.0 1\n1700001 oops 2\n"), 2, {}),
    ("MLflow without metrics", mlflow(None), None, {}),
    ("truncated trainer_state.json", trainer(STATE[: len(STATE) // 2]), None, {}),
    ("trainer_state.json without log_history", trainer('{"global_step": 3}'), None, {}),
    ("trainer_state.json NaN eval loss", trainer(STATE.replace('"eval_loss": 3.6', '"eval_loss": NaN')), 3, {}),
    ("trainer_state.json entry not an object", trainer('{"log_history": [{"loss": 4, "step": 1}, 7]}'), 2, {}),
    ("safetensors header too large", trainer(STATE, weights=struct.pack("<Q", 1 << 40) + b"{}"), None, {}),
    ("Lightning folder CSV without steps", lightning("epoch,val_loss\n0,3.5\n", "lr: 0.1\n"), None, {}),
    ("Lightning hparams.yaml broken", lightning("epoch,step,val_loss\n0,4,3.5\n", "lr: [0.1\n"), None, {}),
    ("two values of the loss at one step", text("conflict.csv", H + "a,1,4.0\na,2,3.5\na,1,4.0\na,2,3.6\n"), 4, {}),
    ("text log with a NaN loss", text("train.log", "iter 0: loss 4.2, time 1ms\niter 10: loss nan, time 1ms\n"), 2, {}),
    ("text log of an unknown tool", text("job.log", "epoch 1 done\nall good\n"), None, {}),
    ("JSON document, not JSON Lines", text("history.json", '{\n "loss": [4, 3]\n}\n'), None, {}),
    ("W&B file of a newer format version", wandb_run("run-abc123.wandb", version=1), None, {}),
    ("W&B record type from a newer W&B", wandb_run("run-abc123.wandb", extra=(field(99, 2, b"new"),)), 5, {}),
    ("W&B damaged chunk", wandb_run("run-abc123.wandb", flip=40), 1, {}),
    ("W&B file that is text", text("run-abc123.wandb", H + "a,1,4\n"), None, {}),
    ("W&B panel export non-numeric cell", text("panel.csv", PANEL + "1,4.0,\n2,low,3.5\n"), 2, {}),
    ("MLflow sqlite db locked by a writer", sqlite_db("mlflow.db", MLFLOW_SCHEMA, locked=True), None, {}),
    ("SQLite db that is not MLflow's", sqlite_db("mlflow.db", "CREATE TABLE t (x);"), None, {}),
    ("MLflow sqlite NaN metric", sqlite_db("mlflow.db", MLFLOW_SCHEMA + "INSERT INTO metrics VALUES ('loss', 0, 1, 'u1', 1, 1);"), None, {}),
    ("MLflow sqlite run without metrics", sqlite_db("mlflow.db", MLFLOW_SCHEMA), None, {}),
]

#: Unusual but valid inputs that must read.
VALID: list[tuple[str, Builder]] = [
    ("BOM", raw("bom.csv", b"\xef\xbb\xbf" + (H + "a,1,4.0\na,2,3.5\n").encode())),
    ("Windows line endings", raw("crlf.csv", (H + "a,1,4.0\na,2,3.5\n").replace("\n", "\r\n").encode())),
    ("BOM and CRLF TSV", raw("bom.tsv", b"\xef\xbb\xbf" + "run\tstep\tloss\r\na\t1\t4.0\r\n".encode())),
    ("quoted field with newline", text("quoted.csv", 'run,step,loss,note\na,1,4.0,"two\nlines"\n')),
    ("trailing blank lines", text("trailing.csv", H + "a,1,4.0\n\n\n")),
]
