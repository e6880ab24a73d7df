"""Validation: every error names file, run, row and column; suspicious data only warns."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalelaw.datasets as datasets
from scalelaw.data.pipeline import read_runs
from scalelaw.data.runs import RunSet
from scalelaw.data.validate import check_enough_points, validate_table, warn_suspicious
from scalelaw.errors import DataWarning, InputError

HEADER = "run,step,tokens,loss,lr,params\n"
GOOD = ["a,1,100,4.0,0.1,1e6", "a,2,200,3.5,0.1,1e6", "b,1,100,4.1,0.1,2e6"]

# (bad line replacing the second line, expected message part, expected run, row, column)
CASES = [
    ("a,2,200,abc,0.1,1e6", "not a number", "a", 2, "loss"),
    ("a,2,200,nan,0.1,1e6", "NaN or infinite", "a", 2, "loss"),
    ("a,2,200,inf,0.1,1e6", "NaN or infinite", "a", 2, "loss"),
    ("a,2,200,3.5,0.1,-1e6", "not positive", "a", 2, "params"),
    ("a,2,200,3.5,0.1,1e40", "absurd", "a", 2, "params"),
    ("a,2,200,150,0.1,1e6", "absurd", "a", 2, "loss"),
    ("a,2,200,-0.5,0.1,1e6", "negative", "a", 2, "loss"),
    ("a,2,200,3.5,-0.1,1e6", "negative", "a", 2, "lr"),
    ("a,1,200,3.5,0.1,1e6", "logged twice with different values of 'tokens'", "a", 2, "tokens"),
    ("a,0,200,3.5,0.1,1e6", "lower than the step", "a", 2, "step"),
    ("a,2,50,3.5,0.1,1e6", "tokens decrease", "a", 2, "tokens"),
    ("a,2,200,3.5,0.1,3e6", "changes within the run", "a", 2, "params"),
    ("a,2,-5,3.5,0.1,1e6", "negative", "a", 2, "tokens"),
    ("a,,200,3.5,0.1,1e6", "step is missing", "a", 2, "step"),
    (",2,200,3.5,0.1,1e6", "run id is empty", None, 2, "run"),
    ("a,2,200,3.5,0.1,0", "params is not positive", "a", 2, "params"),  # the limit itself, where it is refused
    ("a,2,0,3.5,0.1,1e6", "tokens is not positive", "a", 2, "tokens"),  # 0 past a curve's first point
    ("a,2,200,100.5,0.1,1e6", "absurd", "a", 2, "loss"),
]


@pytest.mark.parametrize(("line", "message", "run", "row", "column"), CASES)
def test_errors_name_the_place(tmp_path: Path, line: str, message: str, run: str | None, row: int, column: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n".join([GOOD[0], line, GOOD[2]]) + "\n")
    with pytest.raises(InputError, match=message) as info:
        read_runs(path)
    where = info.value.location
    assert (where.file, where.run, where.row, where.column) == (str(path), run, row, column)


def test_run_without_any_loss(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("run,step,loss,lr\na,1,,0.1\nb,1,3.0,0.1\n")
    with pytest.raises(InputError, match="no loss value") as info:
        read_runs(path)
    assert info.value.location.run == "a"


def test_values_at_allowed_limits_are_read(tmp_path: Path) -> None:
    path = tmp_path / "edge.csv"
    path.write_text(HEADER + "a,1,0,100,0,1e6\na,2,200,3.5,0.0,1e6\nb,1,100,0,1e3,1e15\n")
    assert read_runs(path).table["loss"].tolist() == [100.0, 3.5, 0.0]


def test_final_loss_data_needs_positive_tokens(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("run,params,tokens,loss\na,1e6,0,3.0\n")
    with pytest.raises(InputError, match="tokens is not positive"):
        read_runs(path)
    path.write_text("run,step,tokens,loss\na,0,0,9.0\na,1,100,3.0\n")
    assert len(read_runs(path)) == 1, "tokens 0 at the first point of a curve is fine"


def curve(loss: list[float]) -> RunSet:
    n = len(loss)
    return RunSet(pd.DataFrame({"run": "r", "step": np.arange(1.0, n + 1), "loss": loss}))


def test_spike_and_divergence_warn() -> None:
    smooth = list(np.linspace(4, 3, 20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_suspicious(curve(smooth)) == []
    spiky = smooth.copy()
    spiky[10] = 6.0
    with pytest.warns(DataWarning, match="spike"):
        warn_suspicious(curve(spiky))
    diverging = smooth[:-3] + [3.5, 4.0, 5.0]
    with pytest.warns(DataWarning, match="diverging"):
        warn_suspicious(curve(diverging))


def test_read_runs_warns_on_suspicious_data(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    losses = [4 - 0.1 * i for i in range(1, 10)] + [4.0, 4.5]
    path.write_text("step,loss\n" + "\n".join(f"{i},{loss}" for i, loss in enumerate(losses, start=1)) + "\n")
    with pytest.warns(DataWarning, match="diverging"):
        read_runs(path)


def test_check_enough_points() -> None:
    with pytest.warns(DataWarning, match="underdetermined"):
        assert check_enough_points(curve([4.0, 3.0]), 3) is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_enough_points(curve([4.0, 3.0, 2.5]), 3) is True


@pytest.mark.parametrize("name", datasets.names())
def test_bundled_datasets_are_valid_and_unsuspicious(name: str) -> None:
    runs = datasets.load(name)
    validate_table(runs.table, file=name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_suspicious(runs)


def test_suspicious_runs_are_named_in_table_order_with_their_first_spike() -> None:
    """All runs are checked at once: each message must still name its own run, count and point."""
    smooth = list(np.linspace(4, 3, 20))
    spiky = smooth.copy()
    spiky[8] = spiky[12] = 6.0  # two spikes, the first at loss point 9
    diverging = smooth[:-3] + [3.5, 4.0, 5.0]
    rows = [("calm", smooth), ("short", [3.0, 9.0, 9.0]), ("spiky", spiky), ("none", [np.nan] * 4),
            ("diverging", diverging)]
    table = pd.DataFrame({"run": [r for r, loss in rows for _ in loss], "loss": [x for _, loss in rows for x in loss]})
    with pytest.warns(DataWarning):
        messages = warn_suspicious(RunSet(table))
    assert messages == [
        "run 'spiky': 2 loss spike(s) above 1.2x the recent median (first at loss point 9)",
        "run 'diverging' looks diverging at its end: final loss 5 vs its minimum 3.158",
    ]
    interleaved = table.iloc[np.argsort(np.arange(len(table)) % 5, kind="stable")].reset_index(drop=True)
    with pytest.warns(DataWarning):
        assert warn_suspicious(RunSet(interleaved)) != []  # runs read row by row still judged per run
