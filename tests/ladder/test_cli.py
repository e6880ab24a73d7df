"""The ``scalelaw ladder`` commands: plan, run, errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from scalelaw.cli.main import run  # noqa: E402


def test_plan_lists_runs_with_flops_and_time(tiny_spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ladder", "plan", str(tiny_spec_file), "--store", str(tmp_path / "s"), "--json", "--no-measure"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["summary"]["runs"] == 2 and plan["summary"]["estimate"] == "calibrated cost model"
    assert all(r["flops"] > 0 and r["seconds"] > 0 and not r["stored"] for r in plan["runs"])
    assert plan["runs"][1]["flops"] > plan["runs"][0]["flops"]  # width 16 costs more than width 8
    assert run(["ladder", "plan", str(tiny_spec_file), "--store", str(tmp_path / "s"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["estimate"] == "measured"


def test_run_trains_then_skips_and_plan_sees_stored_runs(tiny_spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "store")
    assert run(["ladder", "run", str(tiny_spec_file), "--store", store, "--workers", "1", "--threads", "1", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in first["runs"]] == ["trained", "trained"]
    assert run(["ladder", "run", str(tiny_spec_file), "--store", store, "--workers", "1", "--threads", "1", "--json"]) == 0
    assert [r["status"] for r in json.loads(capsys.readouterr().out)["runs"]] == ["skipped", "skipped"]
    assert run(["ladder", "plan", str(tiny_spec_file), "--store", store, "--json", "--no-measure"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["to_train"] == 0
    assert run(["runs", "list", "--store", store, "--json"]) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), ("name: x\nmodels: 3\ntokens: [1000]\n", "column 'models'"), ("tokens: [1e4]\nsize: 3\n", "unknown key")],
)
def test_bad_spec_exits_2_with_a_location(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str) -> None:
    path = tmp_path / "spec.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert run(["ladder", "run", str(path), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err


def test_unknown_executor_exits_2(tiny_spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ladder", "run", str(tiny_spec_file), "--store", str(tmp_path), "--executor", "slurm"]) == 2
    assert "unknown executor" in capsys.readouterr().err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("plan", "run", "demo"):
        assert run(["ladder", command, "--help"]) == 0
        assert "--json" in capsys.readouterr().out


def test_demo_with_a_tiny_spec_predicts_and_compares(tmp_path: Path, tiny_spec: dict, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    spec = {**tiny_spec, "models": {"width": [8, 12, 16], "depth": 1, "heads": 2}, "tokens": [2048, 4096],
            "target": {"width": 32, "depth": 1, "heads": 2, "tokens": 4096}}
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    args = ["ladder", "demo", "--spec", str(path), "--store", str(tmp_path / "s"), "--workers", "1", "--threads", "1",
            "--bootstrap", "0", "--json"]
    assert run(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ladder_runs"] == 6 and result["size_ratio"] > 2
    assert [p["law"] for p in result["predictions"]] == ["chinchilla", "kaplan-steps"]
    for prediction in result["predictions"]:
        assert prediction["predicted"] > 0 and prediction["actual"] > 0
        assert prediction["relative_error"] == pytest.approx(prediction["predicted"] / prediction["actual"] - 1)
    truth = result["irreducible_loss"]
    assert truth["entropy_rate"] < truth["oracle_eval_loss"] + 0.05 and truth["fitted_E"] > 0
    assert run(["runs", "list", "--store", str(tmp_path / "s"), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 7  # the six ladder runs and the target


def test_demo_without_a_target_is_an_input_error(tiny_spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ladder", "demo", "--spec", str(tiny_spec_file), "--store", str(tmp_path)]) == 2
    assert "target" in capsys.readouterr().err
