"""The run store: put/has/list/load/remove, refusal of duplicates, orphan cleanup."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from scalelaw.data.runs import RunSet
from scalelaw.data.store import RunStore
from scalelaw.errors import InputError


def runset(*names: str, loss: float = 3.0) -> RunSet:
    table = pd.DataFrame(
        {
            "run": [n for n in names for _ in range(3)],
            "step": [1.0, 2.0, 3.0] * len(names),
            "loss": [loss + 1, loss + 0.5, loss] * len(names),
            "params": [1e6] * 3 * len(names),
        }
    )
    return RunSet(table, {n: f"{n}.csv" for n in names})


def test_put_list_load_roundtrip(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s")
    assert store.list() == [] and not store.has("a")
    store.put(runset("a", "b/with slash"))
    assert store.has("a") and store.has("b/with slash")
    listed = {entry["run"]: entry for entry in store.list()}
    assert listed["a"]["points"] == 3 and listed["a"]["final_loss"] == 3.0 and listed["a"]["params"] == 1e6
    assert listed["a"]["source"] == "a.csv" and listed["a"]["written"]
    loaded = store.load()
    pd.testing.assert_frame_equal(loaded.table, runset("a", "b/with slash").table)
    assert store.load(["b/with slash"]).runs == ["b/with slash"]


def test_interleaved_runs_are_stored_each_with_its_own_rows_and_summary(tmp_path: Path) -> None:
    """Runs whose rows alternate in the table are written from one Arrow conversion, sliced per run:
    each file holds exactly its run's rows in table order, and the manifest its own summary."""
    table = pd.DataFrame({
        "run": ["a", "b", "a", "b", "a", "b"],
        "step": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0],
        "loss": [4.0, float("nan"), 3.5, 5.0, float("nan"), 4.5],
        "params": [float("nan"), 2e6, 1e6, 2e6, 1e6, 2e6],
        "loss_source": ["eval", None, "eval", "train", None, "train"],
    })
    store = RunStore(tmp_path / "s")
    store.put(RunSet(table, {"a": "a.csv", "b": "b.csv"}))
    listed = {entry["run"]: entry for entry in store.list()}
    assert (listed["a"]["points"], listed["a"]["final_loss"], listed["a"]["params"]) == (2, 3.5, 1e6)
    assert (listed["b"]["points"], listed["b"]["final_loss"], listed["b"]["last_step"]) == (2, 4.5, 3.0)
    assert (listed["a"]["loss_source"], listed["b"]["loss_source"]) == ("eval", "train")
    for run in ("a", "b"):
        expected = table[table["run"] == run].reset_index(drop=True)
        pd.testing.assert_frame_equal(store.load([run]).table, expected)


def test_put_refuses_a_stored_run_unless_overwrite(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.put(runset("a"))
    with pytest.raises(InputError, match="already holds run 'a'"):
        store.put(runset("c", "a"))
    assert not store.has("c"), "a refused put must write nothing"
    store.put(runset("a", loss=2.0), overwrite=True)
    assert store.load(["a"]).final()["loss"].tolist() == [2.0]
    assert len(list((tmp_path / "runs").iterdir())) == 1, "the replaced file is deleted"


def test_put_accepts_a_single_run_table(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.put(runset("solo").table)
    assert store.has("solo")


def test_put_validates(tmp_path: Path) -> None:
    bad = runset("a").table.assign(step=[1.0, 1.0, 2.0])
    with pytest.raises(InputError, match="duplicate step"):
        RunStore(tmp_path).put(bad)


def test_remove(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.put(runset("a", "b"))
    store.remove("a")
    assert [e["run"] for e in store.list()] == ["b"]
    assert len(list((tmp_path / "runs").iterdir())) == 1
    with pytest.raises(InputError, match="no run 'a'"):
        store.remove("a")


def test_orphans_are_ignored_then_cleaned(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.put(runset("a"))
    (tmp_path / "runs" / "a-0123456789ab-01234567.parquet").write_bytes(b"PAR1 garbage")
    (tmp_path / "runs" / ".tmp-123-a.parquet").write_bytes(b"PAR1")
    (tmp_path / ".tmp-123-manifest.json").write_text("{")
    assert store.load().runs == ["a"]
    store.put(runset("b"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "manifest.json", "runs"]
    assert len(list((tmp_path / "runs").iterdir())) == 2


def test_damaged_manifest_is_an_input_error(tmp_path: Path) -> None:
    RunStore(tmp_path).put(runset("a"))
    (tmp_path / "manifest.json").write_text('{"runs": [1, 2')
    with pytest.raises(InputError, match="manifest is damaged"):
        RunStore(tmp_path).list()


def test_manifest_is_plain_json(tmp_path: Path) -> None:
    RunStore(tmp_path).put(runset("a"))
    content = json.loads((tmp_path / "manifest.json").read_text())
    assert content["version"] == 1 and set(content["runs"]) == {"a"}


def test_a_read_only_store_can_be_read(tmp_path: Path) -> None:
    RunStore(tmp_path / "s").put(runset("a"))
    for path in [tmp_path / "s", tmp_path / "s" / "runs"]:
        path.chmod(0o555)
    try:
        assert RunStore(tmp_path / "s").load().runs == ["a"]
    finally:
        for path in [tmp_path / "s", tmp_path / "s" / "runs"]:
            path.chmod(0o755)


def test_append_merges_steps_and_refuses_bad_points(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s")
    assert store.append("r", pd.DataFrame({"step": [1.0, 2.0], "loss": [4.0, 3.5]})) == 2
    assert store.append("r", pd.DataFrame({"step": [2.0, 3.0], "lr": [0.1, 0.1], "loss": [float("nan"), 3.0]})) == 3
    curve = store.load().curve("r")
    assert curve["loss"].tolist() == [4.0, 3.5, 3.0] and curve["lr"].tolist()[1:] == [0.1, 0.1]
    before = sorted((p.name, p.read_bytes()) for p in store.path.rglob("*") if p.is_file())
    with pytest.raises(InputError, match="loss"):
        store.append("r", pd.DataFrame({"step": [4.0], "loss": [-1.0]}))
    assert sorted((p.name, p.read_bytes()) for p in store.path.rglob("*") if p.is_file()) == before
