"""Issue 21, "Bad input", through the CLI: a tracker folder with a foreign file, mixed tokenizers and a
run whose size cannot be found each give one clear message and exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scalelaw.cli.main import run

TOOLS = Path(__file__).parent.parent / "fixtures" / "tools"


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, errors
    return errors[0]


def test_a_tracker_folder_with_a_foreign_file_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(TOOLS / "mlruns", tmp_path / "mlruns")
    metrics = next((tmp_path / "mlruns").glob("*/*/metrics"))
    (metrics / "notes.txt").write_text("these are my notes\n")
    assert run(["runs", "import", str(tmp_path / "mlruns"), "--store", str(tmp_path / "store")]) == 2
    line = error_line(capsys)
    assert "notes.txt" in line and "row 1" in line and "expected 'timestamp value step'" in line
    shutil.copytree(TOOLS / "tensorboard" / "small", tmp_path / "tb" / "small")
    (tmp_path / "tb" / "small" / "events.out.tfevents.notes").write_text("these are my notes, not events\n")
    assert run(["runs", "import", str(tmp_path / "tb"), "--store", str(tmp_path / "store")]) == 2
    assert "events.out.tfevents.notes" in (line := error_line(capsys)) and "not a TensorBoard event file" in line
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").glob("*.parquet"))


def test_mixed_tokenizers_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "runs.csv"
    path.write_text("run,step,loss,params,vocab_size\na,1,3.0,1e6,50257\nb,1,3.1,2e6,32000\n")
    assert run(["runs", "import", str(path), "--store", str(tmp_path / "store")]) == 2
    line = error_line(capsys)
    assert "runs use different tokenizers: 'a' has vocab_size" in line and "bits_per_byte" in line


def test_a_run_whose_size_cannot_be_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(TOOLS / "lightning" / "csv", tmp_path / "csv")
    (tmp_path / "csv" / "w8" / "version_0" / "hparams.yaml").write_text("width: 8\n")
    code = run(["fit", str(tmp_path / "csv"), "--law", "chinchilla", "--set", "batch_size=8",
                "--out", str(tmp_path / "fit.json")])
    assert code == 2
    captured = capsys.readouterr().err
    said = [line for line in captured.splitlines() if "model size N is unknown" in line]
    assert len(said) == 1 and "--set params=N" in said[0]
    assert "params" in [line for line in captured.splitlines() if line.startswith("error:")][0]
    assert not (tmp_path / "fit.json").exists()
