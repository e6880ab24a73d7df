"""Logs written by the real tools (tests/fixtures/tools, made by tests/fixtures/make_tool_fixtures.py) read as runs.

The fixture curves are known: ``train_loss``/``eval_loss`` below are the functions the script logged.
"""

from __future__ import annotations

import json
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


# -- Hugging Face Trainer (transformers 5.25, a plain trainer.train(): only checkpoint-*/ folders) -----------------
HF = TOOLS / "hf_trainer"
#: What tests/fixtures/make_tool_fixtures.py trained: per-device batch 4, gradient accumulation 2, 16 tokens a sequence.
HF_TOKENS_PER_STEP = 4 * 2 * 16


def gpt2_params(width: int) -> int:
    """GPT-2 with vocabulary 64, 32 positions, two layers, tied head: torch's parameter count."""
    block = 2 * width + 3 * width * width + 3 * width + width * width + width + 2 * width + 8 * width * width + 5 * width
    return 64 * width + 32 * width + 2 * block + 2 * width


def test_trainer_checkpoint_folders_give_params_and_tokens() -> None:
    assert not (HF / "tiny-a" / "config.json").exists(), "the fixture is a plain trainer.train() output"
    with pytest.warns(DataWarning, match="tokens per step 128 from the Trainer's FLOP count"):
        runs = read_runs(HF)
    assert runs.runs == ["tiny-a", "tiny-b"]
    for run, width in (("tiny-a", 16), ("tiny-b", 32)):
        curve = runs.curve(run)
        assert runs.meta(run)["params"] == gpt2_params(width)
        assert curve["tokens"].tolist() == [s * HF_TOKENS_PER_STEP for s in curve["step"]]
    seen = {e["step"]: e["num_input_tokens_seen"] for e in json.loads(
        (HF / "tiny-b" / "checkpoint-12" / "trainer_state.json").read_text())["log_history"] if "num_input_tokens_seen" in e}
    assert runs.curve("tiny-b").set_index("step")["tokens"].to_dict() == {float(s): float(t) for s, t in seen.items()}


def test_trainer_params_from_the_latest_checkpoint_config_without_weights(tmp_path: Path) -> None:
    run = tmp_path / "tiny-a"
    shutil.copytree(HF / "tiny-a", run)
    for weights in run.glob("checkpoint-*/model.safetensors"):
        weights.unlink()
    runs = quiet_read(run)
    assert runs.meta("tiny-a")["params"] == gpt2_params(16)  # from checkpoint-12/config.json
    assert "tokens" not in runs.table.columns or runs.table["tokens"].isna().all()  # the FLOP count needs the weights


def test_trainer_training_args_pickle_is_never_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("a pickle was loaded")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    assert quiet_read(HF).runs == ["tiny-a", "tiny-b"]


def test_trainer_without_tokens_says_so_once_per_run_with_the_fix(tmp_path: Path) -> None:
    run = tmp_path / "tiny-a"
    shutil.copytree(HF / "tiny-a", run)
    for weights in run.glob("checkpoint-*/model.safetensors"):
        weights.unlink()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_runs(run)
    said = [str(w.message) for w in caught if "tokens seen D is unknown" in str(w.message)]
    assert len(said) == 1 and "training_args.bin" in said[0] and "--set batch_size=" in said[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = read_runs(run, set={"batch_size": 128})
    assert not [w for w in caught if "unknown" in str(w.message)]
    assert runs.curve("tiny-a")["tokens"].iloc[-1] == 12 * 128


# -- Lightning 2.6 (CSVLogger and TensorBoardLogger folders) ----------------------------------------------------------
def test_lightning_folders_give_the_logged_parameter_count() -> None:
    for logger in ("csv", "tb"):
        runs = quiet_read(TOOLS / "lightning" / logger)
        assert runs.runs == ["w8/version_0"]
        assert runs.meta("w8/version_0")["params"] == 4 * 8 + 8 + 8 + 1  # Linear(4, 8) + Linear(8, 1)
        assert set(runs.table["loss_source"]) == {"val_loss"} and runs.table["loss"].notna().sum() == 3


def test_lightning_without_params_says_so_once_with_the_flag(tmp_path: Path) -> None:
    shutil.copytree(TOOLS / "lightning" / "csv", tmp_path / "csv")
    (tmp_path / "csv" / "w8" / "version_0" / "hparams.yaml").write_text("width: 8\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_runs(tmp_path / "csv")
    said = [str(w.message) for w in caught if "model size N is unknown" in str(w.message)]
    assert len(said) == 1 and "--set params=N" in said[0] and "w8/version_0" in said[0]
    assert quiet_read(tmp_path / "csv", set={"params": 49}).meta("w8/version_0")["params"] == 49


# -- W&B offline folders with the links wandb writes --------------------------------------------------------------------
def test_wandb_offline_folder_with_its_own_links_reads() -> None:
    links = [p for p in (TOOLS / "wandb").rglob("*") if p.is_symlink()]
    assert {p.name for p in links} >= {"debug.log", "debug-internal.log", "latest-run", "debug-core.log"}
    runs = quiet_read(TOOLS / "wandb")
    assert sorted(runs.runs) == ["medium", "small"]
    assert runs.meta("small")["params"] == SIZES["small"]


def test_wandb_folder_with_a_foreign_link_is_refused(tmp_path: Path) -> None:
    shutil.copytree(TOOLS / "wandb", tmp_path / "wandb", symlinks=True)
    run = next((tmp_path / "wandb").glob("offline-run-*"))
    (run / "notes.txt").symlink_to("/etc/hostname")
    with pytest.raises(InputError, match="'notes.txt' is a symlink .* outside the folder being read"):
        read_runs(tmp_path / "wandb")


# -- A folder of text logs: one run per file ------------------------------------------------------------------------
def test_a_folder_of_text_logs_is_one_run_per_file(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "megatron").mkdir(parents=True)
    (logs / "nano-small.log").write_text("number of parameters: 0.80M\niter 0: loss 4.0, time 1ms\n"
                                         "iter 1: loss 3.5, time 1ms\nstep 2: train loss 3.1, val loss 3.2\n")
    (logs / "megatron" / "big.out").write_text(
        " iteration        1/      10 | consumed samples: 8 | learning rate: 1.0E-04 | lm loss: 5.0 |\n"
        " iteration        2/      10 | consumed samples: 16 | learning rate: 1.0E-04 | lm loss: 4.5 |\n")
    (logs / "README.txt").write_text("runs of the sweep\n")
    with pytest.warns(DataWarning, match="1 file\\(s\\) are not training logs and were skipped: README.txt"):
        runs = read_runs(logs)
    assert sorted(runs.runs) == ["megatron/big", "nano-small"]
    assert runs.meta("nano-small")["params"] == 0.8e6
    assert runs.curve("megatron/big")["loss"].tolist() == [5.0, 4.5]
    with pytest.raises(InputError, match="holds no training logs"):
        read_runs(logs / "megatron", pattern="nothing (?P<step>\\d+) (?P<loss>\\S+)")


# -- Mixed tokenizers --------------------------------------------------------------------------------------------------
def test_runs_of_different_tokenizers_are_refused_unless_per_byte(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text("run,step,loss,params,tokenizer\na,1,3.0,1e6,gpt2\na,2,2.9,1e6,gpt2\nb,1,3.1,2e6,llama\n")
    with pytest.raises(InputError, match="runs use different tokenizers: 'a' has tokenizer 'gpt2' and 'b'"):
        read_runs(path)
    assert read_runs(path, where="tokenizer == 'gpt2'").runs == ["a"]
    assert quiet_read(path, loss_unit="bits_per_byte", bytes_per_token=4.0).runs == ["a", "b"]
