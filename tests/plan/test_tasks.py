"""Task forecasts: tasks found by their column pairs, one two-step fit each, the table and the task page."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelaw.cli.main import run
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.plan.tasks import find_tasks, forecast_table, forecast_tasks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fit"))
from metric_data import ACC, BPB, ladder  # noqa: E402

TASK_ACC = "eval/downstream/task_rc_5shot_len_norm"
OTHER_ACC = "eval/downstream/other_rc_5shot_len_norm"
OTHER_BPB = "eval/downstream_bpb/other_rc_5shot_bpb"


@pytest.fixture(scope="module")
def runs() -> RunSet:
    base = ladder(checkpoints=10)
    table = base.table.copy()
    table[TASK_ACC] = table.pop(ACC)
    table[OTHER_ACC] = (table[TASK_ACC] * 0.8 + 0.1).to_numpy()
    table[OTHER_BPB] = table[BPB] * 1.1
    table["eval/downstream/task_rc_5shot_acc"] = 0.5  # a plain accuracy beside the length-normalised one loses
    return RunSet(table)


def test_tasks_are_found_by_their_accuracy_and_bpb_columns(runs: RunSet) -> None:
    tasks = {t.name: t for t in find_tasks(runs)}
    assert set(tasks) == {"other_rc_5shot", "task_rc_5shot"}
    assert tasks["task_rc_5shot"].accuracy == TASK_ACC and tasks["other_rc_5shot"].bpb == OTHER_BPB
    assert [t.name for t in find_tasks(runs, ["other"])] == ["other_rc_5shot"]
    with pytest.raises(InputError, match="no task matching nothing"):
        find_tasks(runs, ["nothing"])


def test_every_task_is_forecast_with_an_interval(runs: RunSet) -> None:
    forecasts = forecast_tasks(runs, [{"params": 6e8, "tokens": 1.2e10}, {"params": 1e10, "tokens": 2e11}], bootstrap=10)
    rows = forecast_table(forecasts)
    assert len(rows) == 4 and {row["task"] for row in rows} == {"other_rc_5shot", "task_rc_5shot"}
    for row in rows:
        assert row["lo"] < row["value"] < row["hi"]
    far = [row for row in rows if row["params"] == 1e10]
    assert all(row["step2_extrapolates"] for row in far)  # lower bpb than any fitted checkpoint


def test_tasks_command_prints_json_and_writes_the_task_page(runs: RunSet, tmp_path: Path, capsys) -> None:
    data = tmp_path / "runs.csv"
    runs.table.to_csv(data, index=False)
    page = tmp_path / "tasks.html"
    code = run(["tasks", str(data), "--at", "params=6e8,tokens=1.2e10", "--task", "other", "--bootstrap", "5",
                "--report", str(page), "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["task"] == "other_rc_5shot" and rows[0]["lo"] < rows[0]["value"] < rows[0]["hi"]
    html = page.read_text()
    assert "Task forecasts" in html and "<svg" in html and "other_rc_5shot" in html
    # accuracy in percent as on the plots' axes (the table once gave fractions beside axes in percent)
    assert f"{100 * rows[0]['value']:.1f}" in html and "accuracy %" in html
    assert "0 fits" not in html and "1 section." in html
    assert np.isfinite(rows[0]["via"])


def test_tasks_command_without_tasks_is_a_clear_error(tmp_path: Path, capsys) -> None:
    data = tmp_path / "plain.csv"
    pd.DataFrame({"run": ["a", "b"], "params": [1e8, 2e8], "tokens": [1e9, 2e9], "loss": [3.0, 2.9]}).to_csv(data, index=False)
    assert run(["tasks", str(data), "--at", "params=1e9,tokens=2e10"]) == 2
    assert "no task" in capsys.readouterr().err


def test_tasks_command_warns_in_plain_words_when_it_extrapolates(runs: RunSet, tmp_path: Path, capsys) -> None:
    """The warnings were once printed with raw console markup ('[yellow]task:[/yellow]') by a console that reads none."""
    data = tmp_path / "runs.csv"
    runs.table.to_csv(data, index=False)
    assert run(["tasks", str(data), "--at", "params=1e10,tokens=2e11", "--bootstrap", "5"]) == 0
    out = capsys.readouterr().out
    assert "warning: other_rc_5shot:" in out and "extrapolat" in out and "[yellow]" not in out
