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
    assert json.loads(out.read_text())["step1"]["calibration"]["runs"] > 0  # step 1 backtested by default


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


def family_csv(tmp_path: Path, values: dict[str, list[float]], sizes=(1.6e8, 4.1e8, 1.0e9, 1.4e9, 2.8e9)) -> Path:
    """A public-eval-table family: one row per size, accuracies, and no loss column."""
    path = tmp_path / "family.csv"
    lines = ["run,params,tokens," + ",".join(values)]
    lines += [f"m{i},{n},3e11," + ",".join(str(v[i]) for v in values.values()) for i, n in enumerate(sizes)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_table_without_a_loss_column_fits_its_metric_with_auto(tmp_path: Path, capsys) -> None:
    csv_path = family_csv(tmp_path, {"hellaswag": [0.30, 0.40, 0.47, 0.52, 0.59]})
    out = tmp_path / "fit.json"
    assert run(["fit", str(csv_path), "--metric", "hellaswag", "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["law"] in {"log-linear", "chance-sigmoid"} and data["selection"]["chance"] == 0.25
    assert data["calibration"]["runs"] >= 2
    assert run(["predict", str(out), "--at", "params=6.9e9,tokens=3e11", "--level", "0.9", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert 0.59 < row["value"] < 0.8 and row["lo"] < row["value"] < row["hi"]


def test_the_metric_may_be_mapped_into_the_loss(tmp_path: Path, capsys) -> None:
    csv_path = family_csv(tmp_path, {"hellaswag": [0.30, 0.40, 0.47, 0.52, 0.59]})
    assert run(["fit", str(csv_path), "--map", "loss=hellaswag", "--metric", "hellaswag", "--law", "log-linear",
                "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["law"] == "log-linear"


@pytest.mark.parametrize("values,extra,message", [
    ([0.3] * 5, [], "does not change with scale"),
    ([30, 40, 47, 52, 59], [], "a percentage"),
    ([0.30, 0.40, 0.50, 0.45, 0.38], [], "rises then falls"),
    ([0.30, 0.40, 0.47, 0.52, 0.59], ["--chance", "0.7"], "at or above every observed value"),
    ([0.30, 0.40, 0.47, 0.52, 0.59], ["--chance", "2"], "--chance must be a fraction"),
])
def test_bad_accuracy_input_exits_2_with_a_message(tmp_path: Path, capsys, values, extra, message) -> None:
    csv_path = family_csv(tmp_path, {"hellaswag": values})
    assert run(["fit", str(csv_path), "--metric", "hellaswag", *extra]) == 2
    assert message in capsys.readouterr().err


def test_a_family_with_two_sizes_exits_2(tmp_path: Path, capsys) -> None:
    csv_path = family_csv(tmp_path, {"hellaswag": [0.30, 0.31, 0.40]}, sizes=(1.6e8, 1.6e8, 4.1e8))
    assert run(["fit", str(csv_path), "--metric", "hellaswag"]) == 2
    assert "needs at least 3" in capsys.readouterr().err


def test_a_named_accuracy_law_keeps_its_options_and_is_backtested(tmp_path: Path, capsys) -> None:
    csv_path = family_csv(tmp_path, {"hellaswag": [0.30, 0.40, 0.47, 0.52, 0.59]})
    assert run(["fit", str(csv_path), "--metric", "hellaswag", "--law", "chance-sigmoid", "--option", "ceiling=0.9",
                "--chance", "0.2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["law"] == "chance-sigmoid" and data["law_options"]["ceiling"] == 0.9
    assert data["law_options"]["chance"] == 0.2 and data["calibration"]["runs"] >= 2


def test_the_report_of_a_metric_fit_reads_its_table_without_a_loss_column(tmp_path: Path, capsys) -> None:
    csv_path = family_csv(tmp_path, {"hellaswag": [0.30, 0.40, 0.47, 0.52, 0.59]})
    out, page = tmp_path / "fit.json", tmp_path / "report.html"
    assert run(["fit", str(csv_path), "--metric", "hellaswag", "--bootstrap", "10", "--out", str(out)]) == 0
    assert run(["report", str(out), "--fit-data", str(csv_path), "-o", str(page)]) == 0
    assert "hellaswag" in page.read_text()
