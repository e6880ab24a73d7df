"""The run store deletes only its own files, never follows symlinks, and rejects manifests pointing elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from scalelaw.cli.main import run
from scalelaw.data.runs import RunSet
from scalelaw.data.store import RunStore
from scalelaw.errors import InputError


def runset(*names: str) -> RunSet:
    return RunSet(pd.DataFrame({"run": list(names), "step": [1.0] * len(names), "loss": [3.0] * len(names)}))


def test_a_folder_of_someone_elses_files_is_refused_and_untouched(tmp_path: Path) -> None:
    """Before: a --store folder with a runs/ folder lost every file the manifest did not name."""
    (tmp_path / "runs").mkdir()
    mine = tmp_path / "runs" / "my_log.csv"
    mine.write_text("run,loss\na,3\n")
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a scalelaw run store and not empty"):
        RunStore(tmp_path).put(runset("a"))
    assert mine.read_text() == "run,loss\na,3\n" and (tmp_path / "notes.txt").exists()


def test_foreign_files_inside_a_store_survive_writes(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.put(runset("a"))
    mine = tmp_path / "runs" / "my_log.csv"
    mine.write_text("mine")
    (tmp_path / "runs" / "subfolder").mkdir()
    store.put(runset("b"))
    store.remove("a")
    assert mine.read_text() == "mine" and (tmp_path / "runs" / "subfolder").is_dir()
    assert store.load().runs == ["b"]


def test_a_symlinked_runs_folder_is_refused(tmp_path: Path) -> None:
    """Before: a symlinked runs/ extended the deletion to its target."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "precious.parquet").write_text("data")
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    (store_dir / "runs").symlink_to(target)
    (store_dir / "manifest.json").write_text(json.dumps({"version": 1, "runs": {}}))
    with pytest.raises(InputError, match="symlink"):
        RunStore(store_dir).put(runset("a"))
    assert (target / "precious.parquet").read_text() == "data"


@pytest.mark.parametrize("name", ["../../outside.parquet", "/etc/passwd", "runs/../../outside.parquet",
                                  "runs/sub/a-0123456789ab-01234567.parquet", "manifest.json", 7])
def test_manifest_entries_pointing_elsewhere_are_rejected(tmp_path: Path, name: object) -> None:
    """Before: --overwrite/remove deleted, and load read, whatever path an entry named."""
    outside = tmp_path / "outside.parquet"
    outside.write_text("not yours")
    store_dir = tmp_path / "store"
    store = RunStore(store_dir)
    store.put(runset("a"))
    manifest = json.loads((store_dir / "manifest.json").read_text())
    manifest["runs"]["a"]["file"] = name
    (store_dir / "manifest.json").write_text(json.dumps(manifest))
    for action in (store.load, lambda: store.remove("a"), lambda: store.put(runset("a"), overwrite=True)):
        with pytest.raises(InputError, match="manifest is damaged"):
            action()
    assert outside.read_text() == "not yours"


def test_a_symlinked_run_file_is_not_read(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    store.put(runset("a"))
    entry = json.loads((tmp_path / "store" / "manifest.json").read_text())["runs"]["a"]
    path = tmp_path / "store" / entry["file"]
    secret = tmp_path / "secret.parquet"
    path.rename(secret)
    path.symlink_to(secret)
    with pytest.raises(InputError, match="symlink"):
        store.load()


def test_cli_import_into_a_foreign_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "in.csv"
    data.write_text("run,step,loss\na,1,3\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "keep.csv").write_text("x")
    assert run(["runs", "import", str(data), "--store", str(tmp_path / "logs")]) == 2
    assert "not a scalelaw run store" in capsys.readouterr().err
    assert (tmp_path / "logs" / "keep.csv").read_text() == "x"
