"""Property-based fuzzing: every reader, fed random or mutated bytes, returns a RunSet or an InputError."""

from __future__ import annotations

import io
import json
import struct
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent.parent / "data"))
sys.path.insert(0, str(Path(__file__).parent))

from corpus import MLFLOW_SCHEMA, sqlite_db  # noqa: E402
from tb_encoder import event, record  # noqa: E402
from wandb_encoder import frame, history, run  # noqa: E402

from scalelaw.data.readers.model_size import safetensors_params  # noqa: E402
from scalelaw.data.pipeline import read_runs  # noqa: E402
from scalelaw.data.runs import RunSet  # noqa: E402
from scalelaw.errors import InputError  # noqa: E402

FRAME = pd.DataFrame({"run": ["a", "a", "b"], "step": [1, 2, 1], "loss": [4.0, 3.5, 4.1], "lr": [0.1, 0.1, 0.2]})


def _parquet() -> bytes:
    buffer = io.BytesIO()
    FRAME.to_parquet(buffer)
    return buffer.getvalue()


def _mlflow_db() -> bytes:
    """A small database with MLflow's tables (the columns the reader uses) and one run."""
    rows = ("INSERT INTO metrics VALUES ('loss', 4.0, 1, 'u1', 1, 0), ('loss', 3.5, 2, 'u1', 2, 0), ('lr', 0.1, 1, 'u1', 1, 0);"
            "INSERT INTO params VALUES ('n_params', '1e6', 'u1');")
    with tempfile.TemporaryDirectory() as folder:
        return sqlite_db("mlflow.db", "PRAGMA page_size = 512;" + MLFLOW_SCHEMA + rows)(Path(folder)).read_bytes()


VALID: dict[str, bytes] = {
    "runs.csv": FRAME.to_csv(index=False).encode(),
    "runs.tsv": FRAME.to_csv(index=False, sep="\t").encode(),
    "runs.jsonl": "\n".join(json.dumps(r) for r in FRAME.to_dict("records")).encode(),
    "runs.parquet": _parquet(),
    "wandb-history.jsonl": b'{"_step": 0, "_runtime": 1.5, "train/loss": 4.0, "train/learning_rate": 0.001}\n'
    b'{"_step": 1, "_runtime": 2.5, "eval/loss": 3.9}\n{"_step": 2, "_runtime": 3.5, "train/loss": 3.5}\n',
    "events.out.tfevents.1": b"".join(record(event(s, {"loss": v})) for s, v in [(1, 4.0), (2, 3.5), (3, 3.2)]),
    "trainer_state.json": json.dumps({"global_step": 2, "log_history": [
        {"epoch": 0.5, "learning_rate": 0.001, "loss": 4.0, "step": 1},
        {"epoch": 1.0, "learning_rate": 0.0005, "loss": 3.5, "step": 2},
        {"epoch": 1.0, "eval_loss": 3.6, "step": 2}]}, indent=2).encode(),
    "metrics.csv": b"epoch,step,train_loss_step,val_loss,lr-SGD\n0,0,4.0,,0.1\n0,1,3.5,,0.1\n0,1,,3.6,\n",
    "train.log": b"number of parameters: 10.65M\nstep 0: train loss 4.2874, val loss 4.2823\n"
    b"iter 0: loss 4.2654, time 29766.91ms, mfu -100.00%\niter 10: loss 3.2438, time 62.31ms, mfu 5.98%\n",
    "main.log": b"s:0 tel:11.0097\ns:0 trl:11.0108 lr:0.000001 norm:15.44\ns:1 trl:10.9302 lr:0.000002 norm:15.00\n",
    "run-abc.wandb": frame([run("abc", "tiny", {"n_params": 1e6}), *(history(s, {"loss": v}) for s, v in [(1, 4.0), (2, 3.5)])]),
    "mlflow.db": _mlflow_db(),
    "wandb-panel.csv": b'"Step","a - loss","a - loss__MIN","a - loss__MAX","b - loss"\n1,4.0,3.9,4.1,\n2,3.5,3.4,3.6,3.7\n',
}
NAMES = sorted(VALID)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def read_bytes(name: str, data: bytes) -> None:
    """Write ``data`` under ``name`` and read it; only a RunSet or an InputError may come out."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run" / name
        path.parent.mkdir()
        path.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = read_runs(path)
        except InputError as exc:
            assert exc.location.file is not None
            return
        assert isinstance(result, RunSet)


TOOL_NAMES = ["mlflow.db", "run-abc.wandb", "wandb-panel.csv"]


@st.composite
def mutated(draw: st.DrawFn, names: list[str] = NAMES) -> tuple[str, bytes]:
    name = draw(st.sampled_from(names))
    data = bytearray(VALID[name])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 16))]
        else:
            data[position:position] = data[position : position + draw(st.integers(1, 32))]
    return name, bytes(data)


@SETTINGS
@given(name=st.sampled_from(NAMES), data=st.binary(max_size=300))
def test_random_bytes(name: str, data: bytes) -> None:
    read_bytes(name, data)


@SETTINGS
@given(case=mutated())
def test_mutated_valid_files(case: tuple[str, bytes]) -> None:
    read_bytes(*case)


@SETTINGS
@given(case=mutated(TOOL_NAMES))
def test_mutated_tool_files(case: tuple[str, bytes]) -> None:
    """W&B run files, MLflow databases and panel exports, damaged: a RunSet or an InputError naming the file."""
    read_bytes(*case)


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("run,step;loss\t\n\r\"0123456789.-e+naif ")), max_size=200))
def test_random_text_as_csv(text: str) -> None:
    read_bytes("runs.csv", text.encode())


@SETTINGS
@given(lines=st.text(alphabet=st.sampled_from(list("0123456789 .-enaif\n")), max_size=120))
def test_random_mlflow_metric_file(lines: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "mlruns" / "0" / "r1"
        (run / "metrics").mkdir(parents=True)
        (run / "metrics" / "loss").write_text(lines)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert isinstance(read_runs(run), RunSet)
        except InputError as exc:
            assert exc.location.file is not None


HISTORY_KEYS = st.sampled_from(["loss", "eval_loss", "learning_rate", "step", "epoch", "grad_norm", "train_runtime"])
HISTORY_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**6), st.floats(allow_nan=True),
                           st.text(max_size=5), st.lists(st.integers(), max_size=2))


@SETTINGS
@given(history=st.lists(st.dictionaries(HISTORY_KEYS, HISTORY_VALUES, max_size=5), max_size=6),
       step=st.one_of(st.integers(-2, 10), st.text(max_size=3)))
def test_random_trainer_state(history: list[dict[str, object]], step: object) -> None:
    content = json.dumps({"global_step": step, "log_history": history}).encode()
    read_bytes("trainer_state.json", content)


@SETTINGS
@given(pattern=st.text(alphabet=st.sampled_from(list("()?P<>stepols.*+\\d[]|:^$ ")), max_size=40),
       text=st.text(alphabet=st.sampled_from(list("step los:0123456789.e-\n ")), max_size=200))
def test_random_text_log_and_pattern(pattern: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.log"
        path.write_text(text)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert isinstance(read_runs(path, format="text", pattern=pattern), RunSet)
        except InputError as exc:
            assert exc.location.file is not None


@SETTINGS
@given(header=st.binary(max_size=200), size=st.one_of(st.integers(0, 300), st.integers(0, 2**64 - 1)))
def test_random_safetensors_header(header: bytes, size: int) -> None:
    """The header reader returns a count or an InputError naming the file, whatever the bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.safetensors"
        path.write_bytes(struct.pack("<Q", size) + header)
        try:
            assert safetensors_params(path) >= 0
        except InputError as exc:
            assert exc.location.file == str(path)


def test_valid_seeds_read() -> None:
    for name in NAMES:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "run" / name
            path.parent.mkdir()
            path.write_bytes(VALID[name])
            assert len(read_runs(path)) >= 1
