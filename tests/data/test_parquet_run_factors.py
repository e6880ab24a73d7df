"""A Parquet file's run codes taken from its dictionary indices: the same as factorising the ids read; a column named twice is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scalelaw.data.parquet_bounds import dictionary_factors
from scalelaw.data.pipeline import read_runs, to_runs
from scalelaw.data.readers.raw import RawTable
from scalelaw.data.readers.tabular import read_parquet
from scalelaw.errors import InputError


def _table(runs: list[str | None]) -> pa.Table:
    steps = np.arange(len(runs)) % 4 + 1
    return pa.table({"run": pa.array(runs, type=pa.string()), "step": steps, "loss": 4.0 / steps})


def _runs() -> list[str | None]:
    return [name for name in ("b", "a", "c", "a ", "d") for _ in range(4)]


@pytest.mark.parametrize("rows_per_group", [3, 4, 7, 100])  # one dictionary per row group, unified when read
@pytest.mark.parametrize("null_at", [None, 0, 9])
def test_codes_from_the_dictionary_are_those_of_factorize(tmp_path: Path, rows_per_group: int,
                                                          null_at: int | None) -> None:
    runs = _runs()
    if null_at is not None:
        runs[null_at] = None
    path = tmp_path / "runs.parquet"
    pq.write_table(_table(runs), path, row_group_size=rows_per_group)
    raw = read_parquet(path)
    assert raw.run_factors is not None
    codes, names = raw.run_factors
    expected, uniques = pd.factorize(raw.frame["run"])
    assert codes.tolist() == expected.tolist()
    assert names.tolist() == list(uniques) and names.dtype == object


def test_a_dictionary_with_a_value_twice_gives_a_code_per_entry_and_one_run() -> None:
    """Two dictionary entries of one id keep two codes; normalising merges them into one run."""
    indices = pa.array([0, 0, 2, 2, 1, 1], type=pa.int32())
    column = pa.chunked_array([pa.DictionaryArray.from_arrays(indices, pa.array(["a", "b", "a"]))])
    codes, names = dictionary_factors(column)
    assert codes.tolist() == [0, 0, 1, 1, 2, 2] and names.tolist() == ["a", "a", "b"]
    frame = pd.DataFrame({"run": ["a", "a", "a", "a", "b", "b"], "step": [1, 2, 3, 4, 1, 2], "loss": 3.0})
    runs = to_runs(RawTable(frame, np.arange(1, 7), "f.parquet", "f", run_factors=(codes, names)))
    assert runs.runs == ["a", "b"] and runs.table["run"].tolist() == frame["run"].tolist()


def test_columns_that_are_not_dictionary_text_give_no_codes() -> None:
    assert dictionary_factors(pa.chunked_array([pa.array(["a", "b"])])) is None
    assert dictionary_factors(pa.chunked_array([pa.array([1, 2]).dictionary_encode()])) is None
    with_null = pa.DictionaryArray.from_arrays(pa.array([0, 1], type=pa.int32()), pa.array(["a", None]))
    assert dictionary_factors(pa.chunked_array([with_null])) is None


def test_a_missing_run_id_in_a_later_row_group_names_its_row(tmp_path: Path) -> None:
    runs = _runs()
    runs[13] = None
    path = tmp_path / "runs.parquet"
    pq.write_table(_table(runs), path, row_group_size=5)
    with pytest.raises(InputError, match="the run id is empty") as info:
        read_runs(path)
    assert info.value.location.row == 14


@pytest.mark.parametrize("twice", ["run", "loss", "x"])
def test_a_column_named_twice_is_refused_naming_it(tmp_path: Path, twice: str) -> None:
    """pandas would hand a frame where a column is expected (an internal error before): refused up front."""
    names = ["run", "step", "loss", "x", twice]
    columns = [pa.array(["a", "a"]), pa.array([1.0, 2.0]), pa.array([3.0, 2.0]), pa.array([1.0, 2.0]),
               pa.array(["a", "a"]) if twice == "run" else pa.array([1.0, 2.0])]
    path = tmp_path / "twice.parquet"
    pq.write_table(pa.Table.from_arrays(columns, names=names), path)
    with pytest.raises(InputError, match="names a column twice") as info:
        read_runs(path)
    assert info.value.location.column == twice
