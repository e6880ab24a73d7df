"""Run codes read from a categorical run column, and handed from normalising to merging and validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw.data.pipeline import ReadOptions, _dataframe, to_runs
from scalelaw.data.runs import run_codes
from scalelaw.errors import InputError


@pytest.mark.parametrize("codes, categories", [
    ([0, 0, 1, 1, 2], ["a", "b", "c"]),  # grouped, numbered in first-seen order: the codes as they are
    ([0, 0, 0], ["a"]),
    ([0, 2, 2], ["a", "b", "c"]),  # a category unused
    ([1, 1, 0], ["a", "b"]),  # numbered otherwise
    ([0, 1, 0], ["a", "b"]),  # not grouped
    ([0, -1, 1], ["a", "b"]),  # a missing id
    ([], ["a"]),
])
def test_codes_of_a_categorical_are_those_of_factorize(codes: list[int], categories: list[str]) -> None:
    column = pd.Series(pd.Categorical.from_codes(np.array(codes, dtype=np.int8), categories))
    found, names = run_codes(column)
    expected, uniques = pd.factorize(column.astype(object))
    assert found.tolist() == expected.tolist() and found.dtype == np.int64
    assert names.tolist() == list(uniques)


def test_runs_renamed_by_set_values_are_coded_again() -> None:
    frame = pd.DataFrame({"run": ["a"] * 2 + ["b"] * 2, "step": [1, 2] * 2, "loss": [3.0, 2.0, 3.0, 2.5]})
    with pytest.raises(InputError, match="lower than the step") as info:  # one run now, its steps going back
        to_runs(_dataframe(frame), ReadOptions(set_values={"run": "x"}))
    assert (info.value.location.run, info.value.location.row) == ("x", 3)


def test_a_runset_read_from_a_dataframe_does_not_change_when_the_frame_is_edited() -> None:
    """read_runs(df) copies the user's frame: editing it afterwards leaves the RunSet's losses as read."""
    import pandas as pd

    from scalelaw.data.pipeline import read_runs

    frame = pd.DataFrame({"run": ["a"] * 3 + ["b"] * 3, "step": [1, 2, 3] * 2, "loss": [3.0, 2.5, 2.2, 3.1, 2.6, 2.3]})
    runs = read_runs(frame)
    read = runs.table["loss"].to_numpy().copy()
    frame.loc[0, "loss"] = 99.0
    frame["loss"] *= 2
    assert (runs.table["loss"].to_numpy() == read).all()
