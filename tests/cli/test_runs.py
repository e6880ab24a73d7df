"""``scalelaw runs import/list/show`` and the shared data-input helper."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalelaw.cli._data_options import load_inputs, parse_maps
from scalelaw.cli.main import run
from scalelaw.errors import InputError


def write_curves(tmp_path: Path) -> Path:
    path = tmp_path / "curves.csv"
    path.write_text("name,step,val_loss\na,1,4.0\na,2,3.5\nb,1,4.2\nb,2,3.6\n")
    return path


def test_import_list_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    path = write_curves(tmp_path)
    code = run(["runs", "import", str(path), "--map", "run=name", "--map", "loss=val_loss", "--store", str(store), "--json"])
    assert code == 0
    imported = json.loads(capsys.readouterr().out)["imported"]
    assert [r["run"] for r in imported] == ["a", "b"] and imported[0]["final_loss"] == 3.5
    assert run(["runs", "list", "--store", str(store), "--json"]) == 0
    assert {r["run"] for r in json.loads(capsys.readouterr().out)} == {"a", "b"}
    assert run(["runs", "show", "b", "--store", str(store), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [p["loss"] for p in shown["points"]] == [4.2, 3.6]
    assert run(["runs", "show", "b", "--store", str(store)]) == 0
    assert "points of 'b'" in capsys.readouterr().out
    assert run(["runs", "list", "--store", str(store)]) == 0
    assert "2 run(s)" in capsys.readouterr().out


def test_import_twice_is_refused_unless_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["runs", "import", str(write_curves(tmp_path)), "--map", "run=name", "--map", "loss=val_loss",
            "--store", str(tmp_path / "s")]
    assert run(args) == 0
    assert run(args) == 2
    assert "already holds run 'a'" in capsys.readouterr().err
    assert run([*args, "--overwrite"]) == 0


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("run,loss\na,3.0\nb,oops\n")
    good = write_curves(tmp_path)
    store = tmp_path / "s"
    assert run(["runs", "import", str(good), str(bad), "--map", "loss=val_loss", "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not (store / "manifest.json").exists()


def test_show_unknown_run_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["runs", "show", "ghost", "--store", str(tmp_path)]) == 2
    assert "no run 'ghost'" in capsys.readouterr().err


def test_import_a_bundled_dataset_with_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s"
    assert run(["runs", "import", "dataset:datablations", "--where", "in_paper_fit", "--store", str(store), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["imported"]) == 182


def test_load_inputs_mixes_files_stores_and_datasets(tmp_path: Path) -> None:
    store = tmp_path / "s"
    assert run(["runs", "import", str(write_curves(tmp_path)), "--map", "run=name", "--map", "loss=val_loss",
                "--store", str(store)]) == 0
    runs = load_inputs([str(store), "dataset:multipowerlaw-25m"])
    assert len(runs) == 11
    assert len(load_inputs(["porian2024"], where="flops == 1.25e16")) > 0
    with pytest.raises(InputError, match="no such file"):
        load_inputs([str(tmp_path / "missing.csv")])
    with pytest.raises(InputError, match="--map applies to files"):
        load_inputs(["dataset:datablations"], ["loss=val_loss_c4"])


def test_parse_maps() -> None:
    assert parse_maps(["loss=val_loss", " params = N "]) == {"loss": "val_loss", "params": "N"}
    with pytest.raises(InputError, match="CANONICAL=SOURCE"):
        parse_maps(["loss"])


@pytest.mark.parametrize("command", [["runs", "import"], ["runs", "list"], ["runs", "show"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*command, "--help"]) == 0
    assert "--store" in capsys.readouterr().out
