"""``scalelaw ladder run --plan``: train the runs a ladder plan proposes from a size family."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("torch")

from scalelaw.cli.main import run  # noqa: E402


@pytest.fixture
def family(tmp_path: Path, tiny_spec: dict[str, Any]) -> Path:
    spec = {**tiny_spec, "models": {"width": [8, 12, 16, 24], "depth": 1, "heads": 2}}
    path = tmp_path / "family.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def _plan(family: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    argv = ["plan", "ladder", "--family", str(family), "--params", "30000", "--tokens-per-param", "2",
            "--multiples", "1,2", "--budget", "10%", "--out", str(out), "--json"]
    assert run(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_run_trains_the_planned_runs(family: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "plan.json"
    plan = _plan(family, plan_file, capsys)
    assert plan["family"]["spec"] == str(family.resolve()) and len(plan["runs"]) >= 6
    store = str(tmp_path / "store")
    assert run(["ladder", "run", "--plan", str(plan_file), "--store", store, "--workers", "1", "--threads", "1",
                "--json"]) == 0
    outcomes = json.loads(capsys.readouterr().out)["runs"]
    assert [o["status"] for o in outcomes] == ["trained"] * len(plan["runs"])
    for planned, outcome in zip(plan["runs"], outcomes, strict=True):  # the run id names width and tokens
        assert f"-w{planned['width']}d" in outcome["run_id"] and f"-t{round(planned['tokens'])}-" in outcome["run_id"]
    assert run(["ladder", "run", "--plan", str(plan_file), "--store", store, "--workers", "1", "--json"]) == 0
    assert {o["status"] for o in json.loads(capsys.readouterr().out)["runs"]} == {"skipped"}


def test_plan_refused_when_unusable(family: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "plan.json"
    _plan(family, plan_file, capsys)
    store = str(tmp_path / "store")
    assert run(["ladder", "run", str(family), "--plan", str(plan_file), "--store", store]) == 2
    assert "exactly one" in capsys.readouterr().err
    data = json.loads(plan_file.read_text())
    data["runs"][0]["width"] = 40
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    assert run(["ladder", "run", "--plan", str(edited), "--store", store]) == 2
    err = capsys.readouterr().err
    assert "not in the family spec" in err and "row 1" in err
    family.write_text(family.read_text() + "\n# changed\n")
    assert run(["ladder", "run", "--plan", str(plan_file), "--store", store]) == 2
    assert "changed since the plan" in capsys.readouterr().err
    bare = tmp_path / "bare.json"
    assert run(["plan", "ladder", "--params", "1e9", "--out", str(bare), "--json"]) == 0
    capsys.readouterr()
    assert run(["ladder", "run", "--plan", str(bare), "--store", store]) == 2
    assert "no size family" in capsys.readouterr().err
