"""The CLI contract of any-metric fits: fit --metric [--via] --out, predict --level --json rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from scalelaw.cli.main import run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fit"))
from metric_data import ACC, BPB, ladder  # noqa: E402


@pytest.fixture(scope="module")
def csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("metric") / "runs.csv"
    ladder(checkpoints=10).table.to_csv(path, index=False)
    return path


def test_two_step_fit_and_predict_rows(csv: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "fit.json"
    assert run(["fit", str(csv), "--metric", ACC, "--via", BPB, "--bootstrap", "10", "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert run(["predict", str(out), "--at", "params=6e8,tokens=1.2e10", "--level", "0.9", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["params"] == 6e8
    assert rows[0]["lo"] < rows[0]["value"] < rows[0]["hi"] and "loss" not in rows[0]


def test_loss_laws_keep_the_loss_field_beside_value(csv: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "bpb.json"
    assert run(["fit", str(csv), "--metric", BPB, "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert run(["predict", str(out), "--at", "params=6e8,tokens=1.2e10", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["loss"] == row["value"] and row["lo"] < row["value"] < row["hi"]
    assert json.loads(out.read_text())["options"]["metric"] == BPB


def test_a_loss_law_on_an_accuracy_is_a_clear_input_error(csv: Path, capsys) -> None:
    assert run(["fit", str(csv), "--metric", ACC, "--law", "chinchilla"]) == 2
    assert "rises with scale" in capsys.readouterr().err


def test_an_unknown_metric_names_the_column(csv: Path, capsys) -> None:
    assert run(["fit", str(csv), "--metric", "eval/none:x"]) == 2
    assert "eval/none:x" in capsys.readouterr().err
