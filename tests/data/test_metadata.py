"""Metadata where users keep it (--set, --meta, aliases), merged rows per step, DataFrames validated like files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalelaw
from scalelaw.cli.main import run
from scalelaw.data.aliases import metadata_from
from scalelaw.data.pipeline import read_runs
from scalelaw.errors import InputError

CURVE = "run,step,loss\na,1,4.0\na,2,3.5\nb,1,4.2\nb,2,3.6\n"


def test_set_and_meta_give_every_run_its_metadata(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text(CURVE)
    (tmp_path / "meta.csv").write_text("run,params,dataset\na,1e7,c4\nb,2e7,\n")
    runs = read_runs(path, meta=tmp_path / "meta.csv", set={"batch_size": 1024})
    assert runs.meta("a") == {"params": 1e7, "batch_size": 1024.0, "dataset": "c4"}
    assert runs.meta("b")["params"] == 2e7 and runs.curve("b")["tokens"].tolist() == [1024.0, 2048.0]
    assert read_runs(path, meta=tmp_path / "meta.csv", set={"params": 5e6}).meta("a")["params"] == 5e6


def test_bad_metadata_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text(CURVE)
    (tmp_path / "meta.csv").write_text("run,params\na,big\n")
    with pytest.raises(InputError) as info:
        read_runs(path, meta=tmp_path / "meta.csv")
    assert info.value.location.file.endswith("meta.csv") and info.value.location.row == 1
    with pytest.raises(InputError, match="changes along a run"):
        read_runs(path, set={"loss": 3})
    with pytest.raises(InputError, match="not positive"):
        read_runs(path, set={"params": -1})
    with pytest.warns(scalelaw.errors.DataWarning, match="not read: zz"):
        (tmp_path / "meta2.csv").write_text("run,params\nzz,1e6\n")
        read_runs(path, meta=tmp_path / "meta2.csv")


def test_param_aliases_in_nested_hparams() -> None:
    assert metadata_from({"model": {"num_params": "1.5e8", "block_size": 256}, "dataset": "owt"}, file="h") == {
        "params": 1.5e8, "seq_len": 256.0, "dataset": "owt"}
    assert metadata_from({"n_params": 10, "params": 20}, file="h") == {"params": 20.0}
    with pytest.raises(InputError, match="model_params"):
        metadata_from({"model_params": "large"}, file="h")


def test_rows_of_one_step_merge_and_conflicts_name_both_rows(tmp_path: Path) -> None:
    path = tmp_path / "split.csv"
    path.write_text("run,step,train_loss,val_loss,lr\na,10,4.0,,0.1\na,10,,3.9,\na,20,3.5,,0.1\na,20,,3.4,\n")
    runs = read_runs(path, map={"loss": "val_loss"})
    assert runs.curve("a")[["step", "loss", "train_loss", "lr"]].to_numpy().tolist() == [
        [10.0, 3.9, 4.0, 0.1], [20.0, 3.4, 3.5, 0.1]]
    path.write_text("run,step,loss\na,10,4.0\na,10,4.0\na,20,3.5\na,20,3.6\n")
    with pytest.raises(InputError, match=r"3\.5 \(row 3\) and 3\.6 \(row 4\)") as info:
        read_runs(path)
    assert info.value.location.row == 4 and info.value.location.run == "a"


def test_dataframes_are_validated_like_files() -> None:
    frame = pd.DataFrame({"name": ["a", "a"], "step": [1, 2], "val": [4.0, 3.5], "n": [1e6, 1e6]})
    runs = scalelaw.read_runs(frame, map={"run": "name", "loss": "val"}, set={"dataset": "x"})
    assert runs.meta("a") == {"dataset": "x"} and runs.curve("a")["loss"].tolist() == [4.0, 3.5]
    with pytest.raises(InputError, match="the DataFrame.*row 2.*lower than"):
        scalelaw.read_runs(pd.DataFrame({"run": ["a", "a"], "step": [2, 1], "loss": [4.0, 3.0]}))
    with pytest.raises(InputError, match="DataFrame.*NaN or infinite"):
        scalelaw.fit(pd.DataFrame({"run": ["a"], "params": [math.inf], "tokens": [1e9], "loss": [3.0]}))


def test_fit_validates_a_dataframe() -> None:
    rng = np.random.default_rng(0)
    n = np.repeat([1e7, 3e7, 1e8, 3e8], 3)
    d = np.tile([1e9, 3e9, 1e10], 4)
    loss = 1.7 + 400 / n**0.34 + 410 / d**0.28 + rng.normal(0, 1e-3, n.size)
    frame = pd.DataFrame({"run": [f"r{i}" for i in range(n.size)], "params": n, "tokens": d, "loss": loss})
    bad = frame.copy()
    bad.loc[3, "step"] = -1.0
    with pytest.raises(InputError, match="step is negative"):
        scalelaw.fit(bad, "chinchilla")
    assert scalelaw.fit(frame, "chinchilla").options["loss_source"] == ["loss"]


def test_cli_set_loss_and_list_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wandb.csv"
    path.write_text("_step,_runtime,train/loss,eval/loss\n0,1,4.0,\n10,2,3.5,3.6\n20,3,3.2,3.3\n")
    store = str(tmp_path / "store")
    assert run(["runs", "import", str(path), "--set", "params=1.2e8", "--store", store]) == 0
    capsys.readouterr()
    assert run(["runs", "list", "--store", store, "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert {k: entry[k] for k in ("run", "params", "points", "last_step", "loss_source")} == {
        "run": "wandb", "params": 1.2e8, "points": 2, "last_step": 20.0, "loss_source": "eval/loss"}
    assert run(["runs", "import", str(path), "--loss", "train", "--store", store, "--overwrite"]) == 0
    capsys.readouterr()
    assert run(["runs", "show", "wandb", "--store", store, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["loss_source"] == "train/loss" and len(shown["points"]) == 3
    assert run(["runs", "import", str(path), "--loss", "val", "--store", store]) == 2
    assert "--loss val" in capsys.readouterr().err


def test_loss_source_reaches_fit_output_fit_json_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ["run,_step,train/loss,eval/loss,n_params"]
    for size in (1e7, 3e7, 1e8, 3e8):
        for step in (100, 200, 400, 800):
            loss = 1.8 + 300 / size**0.3 + 5 / step**0.5
            rows.append(f"n{size:g},{step},{loss + 0.05:.6f},{loss:.6f},{size:g}")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(rows) + "\n")
    fit_json = tmp_path / "fit.json"
    assert run(["fit", str(path), "--law", "power", "--map", "params=n_params", "--where", "step == 800",
                "--out", str(fit_json)]) == 0
    assert "loss read from eval/loss" in capsys.readouterr().out
    assert json.loads(fit_json.read_text())["options"]["loss_source"] == ["eval/loss"]
    report = tmp_path / "report.html"
    assert run(["report", str(fit_json), "-o", str(report)]) == 0
    assert "loss read from eval/loss" in report.read_text()
    capsys.readouterr()
    assert run(["fit", str(path), "--law", "power", "--loss", "train", "--map", "params=n_params", "--where",
                "step == 800", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["options"]["loss_source"] == ["train/loss"]
