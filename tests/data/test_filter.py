"""The --where filter language: every documented form works, nothing in it can run code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelaw.data.filter import MAX_DEPTH, MAX_LENGTH, row_mask
from scalelaw.data.pipeline import read_runs
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError

TABLE = pd.DataFrame(
    {
        "run": ["a", "b", "c", None],
        "params": [1e6, 5e8, 2e9, np.nan],
        "in_paper_fit": [True, False, True, False],
        "val loss": [1.0, 2.0, 3.0, 4.0],
        "dataset": ["rw", "rw", "c4", "rw"],
    }
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("params < 1e9", [1, 1, 0, 0]),
        ("params == 5e8", [0, 1, 0, 0]),
        ("1e6 <= params < 1e9", [1, 1, 0, 0]),
        ("1e9 > params", [1, 1, 0, 0]),
        ("dataset == 'rw' and params > 1e7", [0, 1, 0, 0]),
        ('dataset == "c4" or run == \'a\'', [1, 0, 1, 0]),
        ("run in ['a', 'c']", [1, 0, 1, 0]),
        ("run not in ('a',)", [0, 1, 1, 1]),
        ("not (run in ['a', 'b'])", [0, 0, 1, 1]),
        ("in_paper_fit", [1, 0, 1, 0]),
        ("in_paper_fit == True", [1, 0, 1, 0]),
        ("~in_paper_fit & params > -1", [0, 1, 0, 0]),
        ("`val loss` >= 3", [0, 0, 1, 1]),
        ("run != 'a'", [0, 1, 1, 1]),
        ("params > `val loss`", [1, 1, 1, 0]),
    ],
)
def test_filters_the_docs_show(expression: str, expected: list[int]) -> None:
    assert row_mask(TABLE, expression).astype(int).tolist() == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("@pd.io.common.os.system('true') == 0", "unexpected character '@'"),
        ("__import__('os').system('true')", "unexpected character"),
        ("run.str.len() > 0", "unexpected character '.'"),
        ("params = 1", "use == to compare"),
        ("params <", "expected a column, number or string"),
        ("run == 5", "cannot compare text with a number"),
        ("run in 'a'", "needs a list"),
        ("run", "not a true/false column"),
        ("nope > 1", "no column 'nope'"),
        ("params < 1e999", "out of range"),
        ("(" * (MAX_DEPTH + 1) + "in_paper_fit" + ")" * (MAX_DEPTH + 1), "nested more than"),
        ("params > 1 " * (MAX_LENGTH // 5), "longer than"),
        ("   ", "empty"),
    ],
)
def test_bad_filters_are_clear_errors(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        row_mask(TABLE, expression)


def test_a_filter_cannot_run_code(tmp_path: Path) -> None:
    """Under pandas' query engine this expression ran a shell command (issue 13, item 1)."""
    marker = tmp_path / "pwned"
    data = tmp_path / "c.csv"
    data.write_text("run,step,loss\na,1,4\na,2,3\n")
    payload = f"@pd.io.common.os.system('touch {marker}') == 0"
    with pytest.raises(InputError, match="cannot apply filter"):
        read_runs(data, where=payload)
    with pytest.raises(InputError, match="cannot apply filter"):
        RunSet(pd.DataFrame({"run": ["a"], "loss": [3.0]})).where(payload)
    assert not marker.exists()


def test_runset_where_keeps_sources_of_kept_runs() -> None:
    runs = RunSet(pd.DataFrame({"run": ["a", "b"], "loss": [3.0, 2.0]}), {"a": "a.csv", "b": "b.csv"})
    kept = runs.where("loss < 2.5")
    assert kept.runs == ["b"] and kept.sources == {"b": "b.csv"}
