"""``scalelaw fit --out`` records where its runs came from, and ``scalelaw report FIT.json`` plots them again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelaw.cli.main import run

TRUE = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.36}


def _write_runs(path: Path, n: int = 40, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    params, tokens = 10 ** rng.uniform(7, 9, n), 10 ** rng.uniform(9, 11, n)
    loss = TRUE["E"] + TRUE["A"] / params ** TRUE["alpha"] + TRUE["B"] / tokens ** TRUE["beta"]
    pd.DataFrame({"run": [f"r{i}" for i in range(n)], "params": params, "tokens": tokens,
                  "loss": loss * np.exp(rng.normal(0, 0.005, n))}).to_csv(path, index=False)
    return path


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A project folder with its data in data/ and its fits in fits/, fitted as a user would."""
    (tmp_path / "data").mkdir()
    (tmp_path / "fits").mkdir()
    _write_runs(tmp_path / "data" / "runs.csv")
    assert run(["fit", str(tmp_path / "data" / "runs.csv"), "--where", "params < 5e8", "--law", "chinchilla",
                "--no-calibrate", "-o", str(tmp_path / "fits" / "fit.json")]) == 0
    return tmp_path


def _report(fit: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert run(["report", str(fit), "--out", str(out), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_fit_records_its_runs_relative_to_the_fit_file(project: Path) -> None:
    source = json.loads((project / "fits" / "fit.json").read_text())["source"]
    assert source["data"] == ["../data/runs.csv"] and source["where"] == "params < 5e8"
    assert str(project) not in json.dumps(source)  # no absolute path of the user's machine


def test_report_plots_the_recorded_runs_even_after_the_project_moves(
        project: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]) -> None:
    moved = tmp_path_factory.mktemp("elsewhere") / "project"
    shutil.copytree(project, moved)
    shutil.rmtree(project)
    summary = _report(moved / "fits" / "fit.json", moved / "r.html", capsys)
    fitted = int((pd.read_csv(moved / "data" / "runs.csv")["params"] < 5e8).sum())
    assert summary["fitted_runs"] == fitted and summary["figures"] == 2  # the law on its data, and residuals
    assert "plotted the fitted runs recorded in" in summary["note"]
    page = (moved / "r.html").read_text(encoding="utf-8")
    assert "The law is not drawn on its data" not in page
    # and says where the runs came from, with the options that selected them, so the fit can be redone
    assert "Runs read from ../data/runs.csv with --where params &lt; 5e8 (paths relative to the FIT.json" in page


def test_changed_or_missing_runs_are_not_plotted_and_the_report_says_why(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = project / "data" / "runs.csv"
    frame = pd.read_csv(csv)
    frame.loc[0, "loss"] *= 1.01  # one fitted loss edited after the fit
    frame.to_csv(csv, index=False)
    summary = _report(project / "fits" / "fit.json", project / "changed.html", capsys)
    assert summary["fitted_runs"] == 0 and "changed since the fit" in summary["note"]
    csv.unlink()
    summary = _report(project / "fits" / "fit.json", project / "missing.html", capsys)
    assert summary["fitted_runs"] == 0 and "no longer exist" in summary["note"]
    assert "The law is not drawn on its data" in (project / "missing.html").read_text(encoding="utf-8")


def test_a_bundled_dataset_is_recorded_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fit = tmp_path / "fit.json"
    assert run(["fit", "dataset:porian2024", "--where", "flops < 3e18", "--no-calibrate", "-o", str(fit)]) == 0
    assert json.loads(fit.read_text())["source"]["data"] == ["dataset:porian2024"]
    assert _report(fit, tmp_path / "r.html", capsys)["fitted_runs"] > 0


@pytest.mark.parametrize("source", [
    {"data": "../data/runs.csv"},  # not a list
    {"data": ["x.csv"], "targets": "yes"},
    {"data": ["x.csv"], "command": "rm -rf /"},  # a field nobody declared
])
def test_a_malformed_source_record_is_refused_naming_the_field(
        project: Path, source: dict, capsys: pytest.CaptureFixture[str]) -> None:
    fit = project / "fits" / "fit.json"
    data = json.loads(fit.read_text())
    data["source"] = source
    fit.write_text(json.dumps(data))
    assert run(["report", str(fit), "--out", str(project / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "source" in err and "Traceback" not in err and not (project / "x.html").exists()


@pytest.mark.parametrize("data", [["../../../../../../etc/passwd"], ["/etc/hostname"], ["wandb://e/p"], ["../fits"]])
def test_a_hostile_source_never_puts_other_data_in_the_report(
        project: Path, data: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """A FIT.json from someone else names files outside its folder, a server, or a folder: the report reads them only
    through the hardened readers, plots nothing that does not hash as the fit's data, and still writes the page."""
    fit = project / "fits" / "fit.json"
    record = json.loads(fit.read_text())
    record["source"]["data"] = data
    fit.write_text(json.dumps(record))
    link = project / "fits" / "runs.csv"
    link.symlink_to(project / "data" / "runs.csv")  # a symlink beside it changes nothing either
    summary = _report(fit, project / "r.html", capsys)
    assert summary["fitted_runs"] == 0 and summary["note"]
    text = (project / "r.html").read_text(encoding="utf-8")
    assert "root:" not in text and "The law is not drawn on its data" in text
