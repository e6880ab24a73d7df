"""Logs written by the real tools (tests/fixtures/tools, made by tests/fixtures/make_tool_fixtures.py) read as runs.

The fixture curves are known: ``train_loss``/``eval_loss`` below are the functions the script logged.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
import warnings
from pathlib import Path

import pytest

from scalelaw.data.pipeline import read_runs
from scalelaw.errors import DataWarning, InputError

TOOLS = Path(__file__).parent.parent / "fixtures" / "tools"
SIZES = {"small": 1.2e6, "medium": 4.8e6}


def train_loss(size: float, step: int) -> float:
    return 2.0 + 40.0 / size**0.25 + 3.0 * step**-0.4 + 0.01 * math.sin(step / 7.0)


def eval_loss(size: float, step: int) -> float:
    return 2.02 + 40.0 / size**0.25 + 3.0 * step**-0.4


def quiet_read(path: str | Path, **options: object):  # noqa: ANN201 - a RunSet
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_runs(path, **options)


# -- TensorBoard --------------------------------------------------------------------------------
def test_tensorboard_add_hparams_become_run_metadata() -> None:
    runs = quiet_read(TOOLS / "tensorboard")
    assert sorted(runs.runs) == ["resumed", "running", "small"]  # the add_hparams sub-folder is not a run
    small = runs.curve("small")
    assert small["params"].unique().tolist() == [1.2e6]
    assert small["param.batch_size"].unique().tolist() == [4096.0]  # a bare batch_size is not taken as tokens
    assert small["param.optimizer"].unique().tolist() == ["adamw"]
    assert small["step"].tolist() == [float(s) for s in range(10, 501, 10)]
    assert small["loss"].dropna().iloc[-1] == pytest.approx(eval_loss(1.2e6, 500), rel=1e-6)  # eval loss by default
    assert set(small["loss_source"]) == {"eval/loss"}
    train = quiet_read(TOOLS / "tensorboard", loss="train").curve("small")
    assert train["loss"].iloc[-1] == pytest.approx(train_loss(1.2e6, 500), rel=1e-6)


def test_tensorboard_resumed_run_keeps_the_later_values() -> None:
    with pytest.warns(DataWarning, match="11 point"):
        curve = read_runs(TOOLS / "tensorboard" / "resumed").curve("resumed")
    assert curve["step"].tolist() == [float(s) for s in range(10, 501, 10)]
    by_step = dict(zip(curve["step"], curve["loss"], strict=True))
    assert by_step[190.0] == pytest.approx(train_loss(4.8e6, 190), rel=1e-6)  # first file only
    assert by_step[200.0] == pytest.approx(train_loss(4.8e6, 200) - 0.05, rel=1e-6)  # logged again after the resume
    assert by_step[300.0] == pytest.approx(train_loss(4.8e6, 300) - 0.05, rel=1e-6)


def test_tensorboard_run_still_writing_reads_the_complete_records() -> None:
    with pytest.warns(DataWarning, match="cut off") as caught:
        curve = read_runs(TOOLS / "tensorboard" / "running").curve("running")
    assert len([w for w in caught if "cut off" in str(w.message)]) == 1
    assert curve["step"].tolist() == [float(s) for s in range(10, 191, 10)]  # step 200 was being written


# -- MLflow -------------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["db", "sqlite-uri", "file-store", "file-uri"])
def test_mlflow_backends_read_the_same_runs(source: str) -> None:
    database = TOOLS / "mlflow-sqlite" / "mlflow.db"
    path = {
        "db": database,
        "sqlite-uri": f"sqlite:///{database.resolve()}".replace("sqlite:///", "sqlite:////", 1),
        "file-store": TOOLS / "mlruns",
        "file-uri": (TOOLS / "mlruns").resolve().as_uri(),
    }[source]
    runs = quiet_read(path, loss="train", set={"batch_size": 4096})
    assert sorted(runs.runs) == ["medium", "small"]
    assert "tokens" not in quiet_read(path).columns  # a bare batch_size param is not tokens per step
    for name, size in SIZES.items():
        curve = runs.curve(name)
        assert curve["params"].unique().tolist() == [size]  # the param n_params
        assert curve["seq_len"].unique().tolist() == [128.0]
        assert curve["step"].tolist() == [float(s) for s in range(10, 501, 10)]
        assert curve["tokens"].iloc[0] == 10 * 4096
        assert curve["loss"].iloc[-1] == pytest.approx(train_loss(size, 500), rel=1e-12)
        assert curve["val_loss"].dropna().iloc[-1] == pytest.approx(eval_loss(size, 500), rel=1e-12)
        assert quiet_read(path).curve(name)["loss"].dropna().iloc[-1] == pytest.approx(eval_loss(size, 500))


def test_mlflow_relative_sqlite_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(TOOLS / "mlflow-sqlite" / "mlflow.db", tmp_path / "mlflow.db")
    monkeypatch.chdir(tmp_path)
    assert sorted(quiet_read("sqlite:///mlflow.db").runs) == ["medium", "small"]


def test_mlflow_locked_database_names_the_file(tmp_path: Path) -> None:
    database = tmp_path / "mlflow.db"
    shutil.copyfile(TOOLS / "mlflow-sqlite" / "mlflow.db", database)
    writer = sqlite3.connect(database)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(InputError, match="locked") as info:
            read_runs(database)
    finally:
        writer.rollback()
        writer.close()
    assert info.value.location.file == str(database)


def test_sqlite_database_that_is_not_mlflow(tmp_path: Path) -> None:
    database = tmp_path / "other.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE things (x)")
    with pytest.raises(InputError, match="not MLflow's"):
        read_runs(database)


# -- Weights & Biases ---------------------------------------------------------------------------
def test_wandb_offline_run_folders() -> None:
    runs = read_runs(TOOLS / "wandb", loss="train")
    assert sorted(runs.runs) == ["medium", "small"]
    for name, size in SIZES.items():
        curve = runs.curve(name)
        assert curve["params"].unique().tolist() == [size]  # config n_params
        assert curve["step"].tolist() == [float(s) for s in range(10, 501, 10)]
        assert curve["loss"].iloc[-1] == pytest.approx(train_loss(size, 500), rel=1e-12)
        assert curve["eval/loss"].dropna().tolist() == pytest.approx([eval_loss(size, s) for s in range(50, 501, 50)])
        default = read_runs(TOOLS / "wandb").curve(name)  # eval loss by default
        assert default["loss"].dropna().tolist() == pytest.approx([eval_loss(size, s) for s in range(50, 501, 50)])
        assert curve["lr"].iloc[0] == pytest.approx(1e-4)


def test_wandb_single_run_file() -> None:
    file = next((TOOLS / "wandb").rglob("run-*.wandb"))
    assert len(read_runs(file).runs) == 1


def test_wandb_panel_export_is_one_run_per_prefix() -> None:
    runs = read_runs(TOOLS / "wandb-panel.csv", columns={"loss": "eval/loss"})
    assert runs.runs == ["small", "medium"]
    for name, size in SIZES.items():
        curve = runs.curve(name)
        assert curve["step"].tolist() == [float(s) for s in range(50, 501, 50)]
        assert curve["loss"].tolist() == pytest.approx([eval_loss(size, s) for s in range(50, 501, 50)], rel=1e-12)
        assert "eval/loss__MIN" in curve.columns


def test_wandb_file_of_a_newer_version_names_the_file(tmp_path: Path) -> None:
    data = bytearray(next((TOOLS / "wandb").rglob("run-*.wandb")).read_bytes())
    data[6] = 1  # the format version byte
    path = tmp_path / "run-new.wandb"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="format version 1") as info:
        read_runs(path)
    assert info.value.location.file == str(path)


def test_wandb_run_still_writing(tmp_path: Path) -> None:
    data = next((TOOLS / "wandb").rglob("run-*.wandb")).read_bytes()
    path = tmp_path / "run-cut.wandb"
    path.write_bytes(data[: len(data) // 2])
    with pytest.warns(DataWarning, match="cut off"):
        curve = read_runs(path).curve(read_runs(path).runs[0])
    assert 0 < len(curve) < 50



@pytest.mark.parametrize(("uri", "message"), [("sqlite:/x.db", "sqlite:///RELATIVE"), ("file://otherhost/mlruns", "another host")])
def test_bad_tracking_uris(uri: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_runs(uri)
