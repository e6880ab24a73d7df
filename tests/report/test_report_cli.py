"""The ``scalelaw report`` command: exit codes, quiet --json, the file it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalelaw.cli.main import run
from scalelaw.fit import FitResult

from report_fixtures import TUNED_SETUP

SMALL = f"{TUNED_SETUP} and flops < 3e18"
LARGE = f"{TUNED_SETUP} and flops >= 3e18"


@pytest.fixture(scope="module")
def fit_file(chinchilla_fit: FitResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    chinchilla_fit.save(path)
    return path


def test_report_with_heldout_and_fit_data_json(fit_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    args = ["report", str(fit_file), "dataset:porian2024", "--where", LARGE,
            "--fit-data", "dataset:porian2024", "--fit-where", SMALL, "-o", str(out), "--json"]
    assert run(args) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # stdout is the JSON and nothing else
    assert summary == {"path": str(out), "bytes": out.stat().st_size, "figures": 4, "fitted_runs": 91, "heldout_runs": 30,
                       "note": ""}
    text = out.read_text(encoding="utf-8")
    assert "Held-out evaluation" in text
    assert f"scalelaw report {fit_file} dataset:porian2024 -o {out} --fit-data dataset:porian2024" in text


def test_report_without_data_prints_a_line(fit_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plain.html"
    assert run(["report", str(fit_file), "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert text.count('<figure id="') == 1  # bootstrap only: no data given, and the API's FIT.json records none
    assert "The law is not drawn on its data" in text and "--fit-data" in text


def test_heldout_data_alone_is_plotted(fit_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "heldout.html"
    assert run(["report", str(fit_file), "dataset:porian2024", "--where", LARGE, "-o", str(out), "--json"]) == 0
    # final loss, residuals, bootstrap, held-out interval coverage
    assert json.loads(capsys.readouterr().out)["figures"] == 4
    assert "C = 3.2e+18 (held out)" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda fit, tmp: ["report", str(tmp / "missing.json")], "missing.json"),
        (lambda fit, tmp: ["report", str(_write(tmp / "bad.json", "{not json"))], "bad.json"),
        (lambda fit, tmp: ["report", str(fit), "dataset:no-such-data", "-o", str(tmp / "x.html")], "no-such-data"),
        (lambda fit, tmp: ["report", str(fit), "dataset:porian2024", "--map", "loss", "-o", str(tmp / "x.html")], "--map"),
    ],
)
def test_bad_input_exits_2_with_a_message(fit_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make_args, message: str) -> None:  # noqa: ANN001
    assert run(make_args(fit_file, tmp_path)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
