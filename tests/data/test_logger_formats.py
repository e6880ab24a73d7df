"""TensorBoard event files, MLflow run folders and W&B history exports read as runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from scalelaw.data.pipeline import read_runs
from scalelaw.data.readers.tensorboard import crc32c
from scalelaw.errors import DataWarning, InputError

from tb_encoder import write_events

CURVE = [(10, {"train/loss": 4.0, "train/learning_rate": 1e-3}), (20, {"train/loss": 3.5}), (30, {"train/loss": 3.25})]


def test_crc32c_known_vector() -> None:
    assert crc32c(b"123456789") == 0xE3069283


@pytest.mark.parametrize("as_tensor", [False, True])
def test_tensorboard_scalars(tmp_path: Path, as_tensor: bool) -> None:
    path = write_events(tmp_path / "run_a" / "events.out.tfevents.1.host", CURVE, as_tensor=as_tensor)
    runs = read_runs(path)
    curve = runs.curve("run_a")
    assert curve["step"].tolist() == [10.0, 20.0, 30.0]
    assert curve["loss"].tolist() == [4.0, 3.5, 3.25]
    assert curve["lr"].iloc[0] == pytest.approx(1e-3) and math.isnan(curve["lr"].iloc[1])


def test_tensorboard_folder_names_runs_by_relative_folder(tmp_path: Path) -> None:
    for name in ("small/train", "small/eval", "large/train"):
        write_events(tmp_path / "logs" / name / "events.out.tfevents.1.host", CURVE)
    assert sorted(read_runs(tmp_path / "logs").runs) == ["large/train", "small/eval", "small/train"]
    assert read_runs(tmp_path / "logs" / "small" / "eval").runs == ["eval"]


def test_tensorboard_cut_last_record_reads_the_complete_ones(tmp_path: Path) -> None:
    path = write_events(tmp_path / "r" / "events.out.tfevents.1", CURVE)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.warns(DataWarning, match="record 4 is cut off") as caught:
        runs = read_runs(path)
    assert len([w for w in caught if "cut off" in str(w.message)]) == 1
    assert runs.curve("r")["loss"].tolist() == [4.0, 3.5]


def test_tensorboard_cut_record_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = write_events(tmp_path / "r" / "events.out.tfevents.1", CURVE)
    data = path.read_bytes()
    path.write_bytes(data[:60] + data[70:])  # ten bytes missing inside record 2 of 4
    with pytest.raises(InputError, match="checksum") as info:
        read_runs(path)
    assert info.value.location.file == str(path)


def test_tensorboard_flipped_byte_fails_the_checksum(tmp_path: Path) -> None:
    path = write_events(tmp_path / "r" / "events.out.tfevents.1", CURVE)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="checksum"):
        read_runs(path)


def test_tensorboard_step_logged_again_keeps_the_later_value(tmp_path: Path) -> None:
    path = write_events(tmp_path / "r" / "events.out.tfevents.1", CURVE + [(20, {"train/loss": 3.4})])
    with pytest.warns(DataWarning, match="logged again"):
        curve = read_runs(path).curve("r")
    assert curve["step"].tolist() == [10.0, 20.0] and curve["loss"].tolist() == [4.0, pytest.approx(3.4)]


def write_mlflow(root: Path, run_id: str, name: str, losses: list[tuple[int, float]], *, metric: str = "loss") -> Path:
    folder = root / "mlruns" / "0" / run_id
    (folder / "metrics" / Path(metric).parent).mkdir(parents=True, exist_ok=True)
    (folder / "metrics" / metric).write_text("".join(f"170000{s} {v} {s}\n" for s, v in losses))
    (folder / "metrics" / "lr").write_text("".join(f"170000{s} 0.001 {s}\n" for s, _ in losses))
    (folder / "params").mkdir()
    (folder / "params" / "tokens_per_step").write_text("256")
    (folder / "params" / "optimizer").write_text("adamw")
    (folder / "tags").mkdir()
    (folder / "tags" / "mlflow.runName").write_text(name)
    (folder / "meta.yaml").write_text(f"run_id: {run_id}\nrun_name: {name}\nexperiment_id: '0'\n")
    return folder


def test_mlflow_run_folder(tmp_path: Path) -> None:
    folder = write_mlflow(tmp_path, "abc123", "tiny-run", [(1, 4.0), (2, 3.0)])
    runs = read_runs(folder)
    curve = runs.curve("tiny-run")
    assert curve["loss"].tolist() == [4.0, 3.0]
    assert curve["tokens"].tolist() == [256.0, 512.0]
    assert curve["param.optimizer"].tolist() == ["adamw", "adamw"]


def test_mlflow_root_reads_every_run_and_nested_metric_names(tmp_path: Path) -> None:
    write_mlflow(tmp_path, "r1", "one", [(1, 4.0)], metric="train/loss")
    write_mlflow(tmp_path, "r2", "two", [(1, 3.0)], metric="train/loss")
    assert sorted(read_runs(tmp_path / "mlruns").runs) == ["one", "two"]


def test_mlflow_bits_metric_declared_as_nats(tmp_path: Path) -> None:
    folder = write_mlflow(tmp_path, "r1", "one", [(1, 1.2)], metric="val_bpb")
    with pytest.raises(InputError, match="named like bits"):
        read_runs(folder, columns={"loss": "val_bpb"})


def test_mlflow_bad_line_names_file_and_row(tmp_path: Path) -> None:
    folder = write_mlflow(tmp_path, "r1", "one", [(1, 4.0), (2, 3.0)])
    (folder / "metrics" / "loss").write_text("1700001 4.0 1\n1700002 oops 2\n")
    with pytest.raises(InputError) as info:
        read_runs(folder)
    assert info.value.location.row == 2 and info.value.location.file.endswith("loss")


def test_wandb_history_csv_and_jsonl(tmp_path: Path) -> None:
    csv = tmp_path / "wandb_run.csv"
    csv.write_text("_step,_runtime,_timestamp,train/loss,train/learning_rate,eval/loss\n"
                   "0,1.0,1700000000,4.0,0.001,\n1,2.0,1700000001,3.5,0.001,3.6\n")
    runs = read_runs(csv)  # the eval loss is the default loss where the log has one
    assert runs.curve("wandb_run")["loss"].tolist()[1:] == [3.6]
    assert runs.curve("wandb_run")["loss_source"].tolist() == ["eval/loss", "eval/loss"]
    assert runs.curve("wandb_run")["step"].tolist() == [0.0, 1.0]
    assert "train/loss" in runs.columns and "_runtime" in runs.columns
    train = read_runs(csv, loss="train").curve("wandb_run")
    assert train["loss"].tolist() == [4.0, 3.5] and train["loss_source"].iloc[0] == "train/loss"
    jsonl = tmp_path / "wandb-history.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in [
        {"_step": 0, "_runtime": 1.0, "train/loss": 4.0, "media": {"_type": "histogram"}},
        {"_step": 1, "_runtime": 2.0, "eval/loss": 3.7},
        {"_step": 2, "_runtime": 3.0, "train/loss": 3.2},
    ]))
    runs = read_runs(jsonl, loss="train")
    assert runs.curve("wandb-history")["loss"].tolist()[::2] == [4.0, 3.2]
    assert read_runs(jsonl).final()["loss"].tolist() == [3.7]
    assert read_runs(jsonl, columns={"loss": "eval/loss"}).final()["loss"].tolist() == [3.7]


def test_tensorboard_official_writer_if_installed(tmp_path: Path) -> None:
    """Files written by TensorBoard's own writer (only when the package happens to be installed)."""
    pytest.importorskip("tensorboard")
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter  # type: ignore[import-not-found]

    writer = SummaryWriter(log_dir=str(tmp_path / "official"))
    for step, loss in [(1, 4.0), (2, 3.5), (3, 3.25)]:
        writer.add_scalar("train/loss", loss, step)
    writer.close()
    assert read_runs(tmp_path / "official").curve("official")["loss"].tolist() == [4.0, 3.5, 3.25]


def test_batched_crc_matches_the_byte_loop() -> None:
    import random

    import numpy as np

    from scalelaw.data.readers.tensorboard import LONG_RECORD, masked_crc32c, masked_crc32c_many

    chunks = [random.Random(n).randbytes(n) for n in (0, 1, 7, 64, 300, LONG_RECORD + 5, 3)]
    data = b"".join(chunks)
    starts = np.cumsum([0] + [len(c) for c in chunks[:-1]])
    lengths = np.asarray([len(c) for c in chunks])
    assert masked_crc32c_many(data, starts, lengths).tolist() == [masked_crc32c(c) for c in chunks]


def test_mlflow_step_logged_again_keeps_the_latest_timestamp(tmp_path: Path) -> None:
    folder = write_mlflow(tmp_path, "r1", "one", [(1, 4.0), (2, 3.0)])
    (folder / "metrics" / "loss").write_text("100 4.0 1\n200 3.0 2\n300 2.9 2\n50 9.9 1\n")  # the last line is older
    with pytest.warns(DataWarning, match="2 value"):
        curve = read_runs(folder).curve("one")
    assert curve["loss"].tolist() == [4.0, 2.9]
