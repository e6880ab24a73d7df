"""The demo, the project's main job: it fits the laws on the bundled data and writes a report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalelaw.cli.main import run


def test_demo_reproduces_published_figures_and_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert run(["demo", "--json", "--bootstrap", "10", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = {row["question"]: row for row in result["summary"]}
    isoflop = rows["a in N*(C) ∝ C^a, isoFLOP"]
    assert abs(isoflop["scalelaw"] - isoflop["published"]) < 0.02
    assert isoflop["interval"][0] < isoflop["scalelaw"] < isoflop["interval"][1]
    assert rows["R² data-constrained, 182 runs"]["scalelaw"] >= 0.772
    assert rows["multi-power PredE, 6 held out (mean over curves)"]["scalelaw"] < 0.005
    assert result["best_schedule"].startswith("wsd:")
    html = out.read_text(encoding="utf-8")
    assert Path(result["report"]) == out
    for title in ("isoFLOP", "Chinchilla", "Data-constrained", "Multi-Power"):
        assert title in html
    assert "http://" not in html and "https://" not in html


def test_demo_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scalelaw.demo import run_demo

    first, second = (run_demo(bootstrap=2, seed=3, progress=False) for _ in range(2))
    assert [r["scalelaw"] for r in first.summary] == [r["scalelaw"] for r in second.summary]
