"""RunSet selection by run codes: the same rows, order and sources as masking the table run by run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError


def _runs() -> RunSet:
    table = pd.DataFrame({
        "run": ["a", "a", "b", "c", "c", "b", "d"],
        "step": [1, 2, 1, 1, 2, 2, 1],
        "loss": [3.0, 2.5, 3.1, np.nan, 2.9, np.nan, np.nan],
    })
    return RunSet(table, {"a": "x.csv", "b": "x.csv", "c": "y.csv", "d": "y.csv"})


def _masked(runs: RunSet, names: list[str]) -> pd.DataFrame:
    """The selection as the old code made it: one mask over the table per run."""
    return pd.concat([runs.table[runs.table["run"] == r] for r in names], ignore_index=True)


def test_select_matches_masks_in_the_order_given() -> None:
    runs = _runs()
    for names in (["c", "a"], ["b"], ["d", "c", "b", "a"], ["a", "a"]):
        chosen = runs.select(names)
        pd.testing.assert_frame_equal(chosen.table, _masked(runs, names))
        assert chosen.runs == list(dict.fromkeys(names))
        assert set(chosen.sources) == set(names)


def test_select_refuses_an_unknown_run_and_allows_none() -> None:
    runs = _runs()
    with pytest.raises(InputError, match="no run named 'zz'"):
        runs.select(["a", "zz"])
    assert len(runs.select([])) == 0


def test_membership_length_curves_and_final() -> None:
    runs = _runs()
    assert len(runs) == 4 and "c" in runs and "zz" not in runs
    assert [name for name, _ in runs.curves()] == ["a", "b", "c", "d"]
    rows = dict(runs.curves())["b"]
    assert rows["step"].tolist() == [1, 2] and rows.index.tolist() == [0, 1]
    final = runs.final()
    assert final["run"].tolist() == ["a", "b", "c"] and final["loss"].tolist() == [2.5, 3.1, 2.9]
    pd.testing.assert_frame_equal(runs.curve("c"), _masked(runs, ["c"]))


def test_take_by_codes_resamples_runs() -> None:
    runs = _runs()
    resample = runs.take(np.array([1, 1, 3]))
    assert resample.table["run"].tolist() == ["b", "b", "b", "b", "d"]


def test_require_names_the_first_run_without_the_column() -> None:
    runs = _runs()
    with pytest.raises(InputError) as caught:
        runs.require(["loss"], purpose="the test")
    assert caught.value.location.run == "d" and caught.value.location.file == "y.csv"


def test_concat_refuses_a_run_in_two_parts() -> None:
    first = RunSet(pd.DataFrame({"run": ["x", "y"], "loss": [1.0, 2.0]}), {"x": "a.csv", "y": "a.csv"})
    second = RunSet(pd.DataFrame({"run": ["z", "y"], "loss": [1.0, 2.0]}), {"z": "b.csv", "y": "b.csv"})
    with pytest.raises(InputError, match="run 'y' appears in both a.csv and b.csv"):
        RunSet.concat([first, second])
    assert RunSet.concat([first]).runs == ["x", "y"]


def test_selection_cost_grows_with_rows_not_runs_times_rows() -> None:
    """10^5 runs: every one selected singly would be O(runs x rows) with masks; by codes it is one gather each."""
    n = 100_000
    runs = RunSet(pd.DataFrame({"run": [f"r{i}" for i in range(n)], "loss": np.ones(n)}))
    picks = [f"r{i}" for i in range(0, n, 2)]
    chosen = runs.select(picks)
    assert len(chosen) == n // 2 and chosen.table["run"].iloc[-1] == f"r{n - 2}"
    singles = [runs.select([f"r{i}"]) for i in range(0, n, n // 50)]
    assert [len(s.table) for s in singles] == [1] * 50


def test_data_hash_is_computed_once_per_run_set_and_follows_the_content() -> None:
    runs = _runs()
    first = runs.data_hash()
    assert runs.data_hash() == first == RunSet(runs.table.copy(), dict(runs.sources)).data_hash()
    assert runs.__dict__["_data_hash"] == first  # kept on the (immutable) set
    assert runs.select(["a", "b"]).data_hash() != first
    changed = runs.table.copy()
    changed.loc[0, "loss"] = 3.5
    assert RunSet(changed, dict(runs.sources)).data_hash() != first
