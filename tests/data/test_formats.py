"""Format detection from what is on disk, and errors that point to the right reader."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from scalelaw.cli.main import run
from scalelaw.data.readers.formats import FORMATS, detect_format
from scalelaw.errors import InputError

STATE = {"best_metric": None, "epoch": 1.0, "global_step": 4,
         "log_history": [{"loss": 4.0, "learning_rate": 1e-3, "epoch": 0.5, "step": 2}]}


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def mlflow_db(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE experiments (experiment_id INTEGER, name TEXT)")
        db.execute("CREATE TABLE runs (run_uuid TEXT, name TEXT)")
        db.execute("CREATE TABLE metrics (key TEXT, value REAL, step INTEGER, run_uuid TEXT)")
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("out/trainer_state.json", json.dumps(STATE, indent=2), "hf-trainer"),
        ("state.json", json.dumps(STATE, indent=2, sort_keys=True), "hf-trainer"),
        ("run-abc.wandb", b":W&B\x00\x01\xbe\xe1" + bytes(40), "wandb"),
        ("renamed.bin", b":W&B\x00\x01\xbe\xe1" + bytes(40), "wandb"),
        ("export.csv", "Step,small - eval/loss,small - eval/loss__MIN,small - eval/loss__MAX\n1,4,4,4\n", "wandb-panel"),
        ("lightning_logs/version_0/metrics.csv", "epoch,step,train_loss,val_loss\n0,9,4.0,\n", "lightning"),
        ("train.log", "step 250: train loss 4.1234, val loss 4.2345\niter 260: loss 4.0, time 12ms\n", "text"),
        ("runs.csv", "run,step,loss\na,1,4\n", "csv"),
        ("history.log", '{"step": 1, "loss": 4}\n', "jsonl"),
        ("runs.txt", "run,step,loss\na,1,4\n", "csv"),
        ("runs.log", "run\tstep\tloss\na\t1\t4\n", "tsv"),
        ("notes.txt", "epoch 1 done\nall good\n", "text"),
        ("one.json", '{"step": 1, "loss": 4}\n{"step": 2, "loss": 3}\n', "jsonl"),
    ],
)
def test_files_are_recognised(tmp_path: Path, name: str, content: str | bytes, expected: str) -> None:
    assert detect_format(write(tmp_path / name, content)) == expected


def test_mlflow_sqlite_store_is_recognised(tmp_path: Path) -> None:
    assert detect_format(mlflow_db(tmp_path / "mlflow.db")) == "mlflow-sqlite"
    assert detect_format(tmp_path) == "mlflow-sqlite"


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ({"out/trainer_state.json": json.dumps(STATE), "out/runs/x/events.out.tfevents.1": b"\x00" * 20}, "hf-trainer"),
        ({"sweep/a/checkpoint-4/trainer_state.json": json.dumps(STATE)}, "hf-trainer"),
        ({"logs/lightning_logs/version_0/metrics.csv": "epoch,step,val_loss\n0,9,4.0\n"}, "lightning"),
        ({"proj/wandb/offline-run-1/run-1.wandb": b":W&B" + bytes(8)}, "wandb"),
        ({"tb/small/events.out.tfevents.1": b"\x00" * 20}, "tensorboard"),
    ],
)
def test_folders_are_recognised(tmp_path: Path, layout: dict[str, str | bytes], expected: str) -> None:
    for name, content in layout.items():
        write(tmp_path / name, content)
    top = tmp_path / next(iter(layout)).split("/")[0]
    assert detect_format(top) == expected


@pytest.mark.parametrize(
    ("name", "content", "forced", "says"),
    [
        ("trainer_state.json", json.dumps(STATE, indent=2), "jsonl", "Hugging Face Trainer"),
        ("trainer_state.jsonl", json.dumps(STATE, indent=2), None, "Hugging Face Trainer"),
        ("run-1.wandb", b":W&B\x00\x01" + bytes(40), "tensorboard", "W&B run file"),
        ("events.out.tfevents.9", b":W&B\x00\x01" + bytes(40), None, "W&B run file"),
        ("runs.csv", b"PAR1" + bytes(20), None, "Parquet"),
    ],
)
def test_a_file_that_looks_like_another_format_says_which(
    tmp_path: Path, name: str, content: str | bytes, forced: str | None, says: str
) -> None:
    path = write(tmp_path / name, content)
    with pytest.raises(InputError, match=says) as info:
        detect_format(path, forced)
    assert info.value.location.file == str(path)


def test_sqlite_named_csv_says_mlflow(tmp_path: Path) -> None:
    path = mlflow_db(tmp_path / "runs.csv")
    with pytest.raises(InputError, match="MLflow sqlite store.*--format mlflow-sqlite"):
        detect_format(path)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("config.json", json.dumps({"model_type": "gpt2"}, indent=2), "Trainer output folder"),
        ("wandb-summary.json", json.dumps({"loss": 1}, indent=2), "W&B run folder"),
        ("FIT.json", json.dumps({"law": "power", "params": {"a": 1}}, indent=2), "scalelaw predict"),
        ("doc.json", json.dumps({"a": [1, 2]}, indent=2), "not JSON Lines"),
    ],
)
def test_json_companion_files_point_to_what_to_import(tmp_path: Path, name: str, content: str, says: str) -> None:
    with pytest.raises(InputError, match=says):
        detect_format(write(tmp_path / name, content))


def test_unknown_format_and_folder_without_logs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown format"):
        detect_format(tmp_path, "xml")
    with pytest.raises(InputError, match="no training logs"):
        detect_format(tmp_path)


def test_every_registered_reader_resolves() -> None:
    for spec in FORMATS.values():
        if spec.reader is not None:
            assert callable(spec.load_reader()), spec.name


def test_cli_error_for_a_misnamed_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "trainer_state.json", json.dumps(STATE, indent=2))
    code = run(["runs", "import", str(path), "--format", "jsonl", "--store", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert code == 2 and "Hugging Face Trainer" in err and str(path) in err
    assert not (tmp_path / "store").exists()
