"""The fitting commands end to end: fit, predict, evaluate, backtest, laws (exit codes and JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelaw.cli.main import run

POWER = ["--law", "power", "--option", "variable=flops"]


@pytest.fixture(scope="module")
def power_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    flops = np.logspace(17, 21, 14)
    loss = (2.0 + 129.0 * flops**-0.106) * np.exp(rng.normal(0, 0.002, flops.size))
    path = tmp_path_factory.mktemp("data") / "runs.csv"
    pd.DataFrame({"run": [f"r{i}" for i in range(flops.size)], "flops": flops, "loss": loss}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fit_json(power_csv: Path) -> Path:
    out = power_csv.parent / "fit.json"
    assert run(["fit", str(power_csv), *POWER, "--bootstrap", "30", "--out", str(out), "--json"]) == 0
    return out


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def test_fit_writes_fit_json_and_prints_it(power_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = power_csv.parent / "fit2.json"
    assert run(["fit", str(power_csv), *POWER, "--out", str(out), "--json"]) == 0
    printed = _json(capsys)
    assert printed["law"] == "power" and printed["law_options"] == {"variable": "flops"}
    assert printed["params"]["alpha"] == pytest.approx(0.106, rel=0.1)
    saved = json.loads(out.read_text())
    assert saved["params"] == printed["params"] and saved["data_hash"] == printed["data_hash"]


def test_fit_table_output(power_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["fit", str(power_csv), *POWER]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out and "starts reached the best basin" in out


def test_predict_at_points(fit_json: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run(["predict", str(fit_json), "--at", "flops=1e20", "--at", "flops=1e24", "--json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert [r["flops"] for r in rows] == [1e20, 1e24]
    assert all(r["lo"] < r["loss"] < r["hi"] for r in rows)
    assert rows[0]["extrapolation_decades"] == 0 and rows[1]["extrapolation_decades"] == pytest.approx(3.0)
    assert "extrapolates" in captured.err


def test_predict_runs(fit_json: Path, power_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run(["predict", str(fit_json), "--runs", str(power_csv), "--json"]) == 0
    rows = _json(capsys)
    assert len(rows) == 14 and {"run", "loss", "lo", "hi", "observed"} <= set(rows[0])


def test_evaluate_json_fields(fit_json: Path, power_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run(["evaluate", str(fit_json), str(power_csv), "--json"]) == 0
    scores = _json(capsys)
    fields = {"n", "r2", "mae", "rmse", "mean_rel_error", "worst_rel_error"}
    assert fields <= set(scores["overall"]) and {"run"} | fields <= set(scores["runs"][0])
    assert scores["overall"]["r2"] > 0.99


def test_backtest_holds_out_the_largest(power_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["backtest", str(power_csv), *POWER, "--holdout", "largest:2", "--json"]) == 0
    result = _json(capsys)
    assert result["held_out_runs"] == ["r12", "r13"] and result["by"] == "flops"
    assert result["evaluation"]["overall"]["n"] == 2
    assert result["evaluation"]["overall"]["mean_rel_error"] < 0.01


def test_fix_and_fix_from(power_csv: Path, fit_json: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["fit", str(power_csv), *POWER, "--fix", "alpha=0.1", "--json"]) == 0
    assert _json(capsys)["params"]["alpha"] == 0.1
    old = json.loads(fit_json.read_text())["params"]
    assert run(["fit", str(power_csv), *POWER, "--fix-from", f"{fit_json}:alpha", "--json"]) == 0
    printed = _json(capsys)
    assert printed["params"]["alpha"] == old["alpha"] and printed["options"]["fix"] == {"alpha": old["alpha"]}


def test_strict_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "rising.csv"
    flops = np.logspace(17, 21, 12)
    pd.DataFrame({"run": [f"r{i}" for i in range(12)], "flops": flops, "loss": 2 + 0.01 * np.log10(flops)}).to_csv(
        path, index=False
    )
    assert run(["fit", str(path), *POWER, "--strict"]) == 3


def test_bad_inputs_exit_2(tmp_path: Path, power_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"law": "no-such-law", "params": {}}))
    assert run(["predict", str(bad), "--at", "flops=1e20"]) == 2
    assert str(bad) in capsys.readouterr().err
    assert run(["fit", str(power_csv), "--law", "no-such-law"]) == 2
    assert run(["fit", str(power_csv), *POWER, "--fix", "alpha"]) == 2
    assert run(["fit", str(power_csv), "--law", "chinchilla"]) == 2  # no params/tokens columns


def test_laws_lists_formulas(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["laws", "--json"]) == 0
    rows = {r["name"]: r for r in _json(capsys)}
    assert {"power", "chinchilla", "kaplan", "data-constrained", "overtraining"} <= set(rows)
    assert "alpha" in rows["chinchilla"]["params"] and rows["chinchilla"]["citation"].startswith("Hoffmann")


def test_fit_auto_then_predict_targets_at_a_level(power_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "auto.json"
    assert run(["fit", str(power_csv), "--law", "auto", "--bootstrap", "20", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "backtests" in printed and "power(variable=flops)" in printed
    saved = json.loads(out.read_text())
    assert saved["law"] == "power" and saved["selection"]["chosen"] == "power(variable=flops)"
    targets = tmp_path / "targets.csv"
    pd.DataFrame({"run": ["big", "bigger"], "flops": [3e21, 1e22]}).to_csv(targets, index=False)
    assert run(["predict", str(out), "--runs", str(targets), "--level", "0.9", "--json"]) == 0
    rows = _json(capsys)
    assert [r["run"] for r in rows] == ["big", "bigger"] and all(r["step"] is None for r in rows)
    assert all(r["lo"] < r["loss"] < r["hi"] for r in rows)
    assert run(["predict", str(out), "--runs", str(targets), "--level", "0.5", "--json"]) == 0
    narrow = _json(capsys)
    assert all(n["hi"] - n["lo"] < w["hi"] - w["lo"] for n, w in zip(narrow, rows))


def test_inputs_sharing_run_ids_are_qualified_by_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scalelaw.cli._data_options import load_inputs
    from scalelaw.errors import DataWarning

    with pytest.warns(DataWarning, match="distinct runs"):
        runs = load_inputs(["dataset:multipowerlaw-25m", "dataset:multipowerlaw-100m"])
    assert "multipowerlaw-25m/cosine_24000" in runs and "multipowerlaw-100m/cosine_24000" in runs
    assert len(runs) == 18


def test_a_bad_worker_count_exits_2_naming_the_variable(power_csv: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SCALELAW_WORKERS", "many")
    assert run(["fit", str(power_csv), *POWER, "--bootstrap", "10"]) == 2
    assert "SCALELAW_WORKERS" in capsys.readouterr().err
    monkeypatch.setenv("SCALELAW_WORKERS", "1")
    assert run(["fit", str(power_csv), *POWER, "--bootstrap", "10", "--json"]) == 0
