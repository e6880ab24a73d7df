"""The W&B run-file decoder on crafted files, and history pulled through a fake wandb.Api()."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalelaw.data.pipeline import ReadOptions, read_runs, to_runs
from scalelaw.data.readers.wandb_api import read_wandb_api
from scalelaw.errors import InputError

from tb_encoder import field
from wandb_encoder import write_run

CURVE = [(10, {"train/loss": 4.0, "train/learning_rate": 1e-3}), (20, {"train/loss": 3.5}), (30, {"train/loss": 3.25})]


def test_records_spanning_blocks_are_assembled(tmp_path: Path) -> None:
    long_name = "x" * 70_000  # a record longer than two 32 KiB blocks: FIRST, MIDDLE, LAST chunks
    steps = [(s, {"train/loss": 4.0 - s / 1000}) for s in range(1, 2001)]
    path = write_run(tmp_path / "run-a.wandb", steps, config={"n_params": 2e6, "note": long_name})
    curve = read_runs(path).curve("tiny")
    assert len(curve) == 2000 and curve["loss"].iloc[-1] == pytest.approx(2.0)
    assert curve["params"].iloc[0] == 2e6 and curve["param.note"].iloc[0] == long_name


def test_unknown_record_type_is_a_newer_version(tmp_path: Path) -> None:
    path = write_run(tmp_path / "run-a.wandb", CURVE, extra=[field(99, 2, b"future")])
    with pytest.raises(InputError, match="newer W&B") as info:
        read_runs(path)
    assert info.value.location.file == str(path) and info.value.location.row == 5


def test_damaged_chunk_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = write_run(tmp_path / "run-a.wandb", CURVE)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="bad checksum") as info:
        read_runs(path)
    assert info.value.location.file == str(path)


def test_not_a_wandb_file(tmp_path: Path) -> None:
    path = tmp_path / "run-a.wandb"
    path.write_bytes(b"hello, this is text\n")
    with pytest.raises(InputError, match="not a W&B run file"):
        read_runs(path)


def test_resumed_run_files_are_merged_and_shared_names_disambiguated(tmp_path: Path) -> None:
    write_run(tmp_path / "wandb" / "offline-run-1-abc123" / "run-abc123.wandb", CURVE)
    write_run(tmp_path / "wandb" / "offline-run-2-abc123" / "run-abc123.wandb", [(30, {"train/loss": 3.2}), (40, {"train/loss": 3.1})])
    runs = read_runs(tmp_path / "wandb")
    assert runs.runs == ["tiny"]
    assert runs.curve("tiny")["loss"].tolist() == [4.0, 3.5, 3.2, 3.1]


class FakeRun:
    def __init__(self, run_id: str, name: str, rows: list[dict[str, object]], config: dict[str, object]) -> None:
        self.id, self.name, self.config, self._rows = run_id, name, config, rows

    def scan_history(self, page_size: int = 1000) -> list[dict[str, object]]:
        return self._rows


class FakeApi:
    def __init__(self, runs: list[FakeRun]) -> None:
        self._runs = runs
        self.asked: list[str] = []

    def runs(self, path: str, filters: dict[str, object] | None = None) -> list[FakeRun]:
        self.asked.append(path)
        return self._runs


def test_history_from_a_fake_api() -> None:
    rows = [{"_step": 0, "_runtime": 1.0, "train/loss": 4.0, "media": {"_type": "image"}},
            {"_step": 1, "_runtime": 2.0, "train/loss": 3.5, "eval/loss": 3.6}]
    api = FakeApi([FakeRun("r1", "small", rows, {"num_params": 1.5e6, "_wandb": {}}),
                   FakeRun("r2", "small", rows, {"model_params": 3e6})])
    tables = read_wandb_api(api, "me/proj")
    assert api.asked == ["me/proj"]
    runs = [to_runs(t) for t in tables]
    assert [r.runs for r in runs] == [["small-r1"], ["small-r2"]]
    assert runs[0].table["loss"].tolist()[1:] == [3.6]  # the eval loss by default
    assert to_runs(tables[0], ReadOptions(loss="train")).table["loss"].tolist() == [4.0, 3.5]
    assert runs[0].table["params"].iloc[0] == 1.5e6 and runs[1].table["params"].iloc[0] == 3e6


def test_fake_api_errors_are_input_errors() -> None:
    class Broken(FakeApi):
        def runs(self, path: str, filters: dict[str, object] | None = None) -> list[FakeRun]:
            raise RuntimeError("401 unauthorized")

    with pytest.raises(InputError, match="401") as info:
        read_wandb_api(Broken([]), "me/proj")
    assert info.value.location.file == "wandb://me/proj"
    bad = FakeApi([FakeRun("r1", "a", [{"loss": 1.0}], {})])
    with pytest.raises(InputError, match="_step"):
        read_wandb_api(bad, "me/proj")
    nan = FakeApi([FakeRun("r1", "a", [{"_step": 1, "loss": float("nan")}], {})])
    with pytest.raises(InputError, match="nan"):
        read_wandb_api(nan, "me/proj")


def test_wandb_uri_without_the_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(InputError, match=r"pip install 'scalelaw\[wandb\]'") as info:
        read_runs("wandb://me/proj")
    assert info.value.location.file == "wandb://me/proj"
    with pytest.raises(InputError, match="ENTITY/PROJECT"):
        read_runs("wandb://just-a-project")
