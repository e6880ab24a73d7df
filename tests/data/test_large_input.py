"""A 10^6-row version of the large-input benchmark: streaming in chunks, reducing each run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from scalelaw.data import final_losses, iter_runs, keep_every, read_runs
from scalelaw.data.synthetic import write_synthetic_parquet
from scalelaw.errors import InputError

RUNS, POINTS, BATCH = 1_000, 1_000, 100_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "runs.parquet"
    assert write_synthetic_parquet(path, runs=RUNS, points=POINTS, seed=3) == RUNS * POINTS
    return path


def test_iter_runs_streams_complete_runs_in_bounded_chunks(big: Path) -> None:
    sizes, runs = [], 0
    for chunk in iter_runs(big, batch_rows=BATCH):
        sizes.append(len(chunk.table))
        runs += len(chunk)
        assert all(len(curve) == POINTS for _, curve in chunk.curves())
    assert runs == RUNS and sum(sizes) == RUNS * POINTS
    assert len(sizes) >= RUNS * POINTS // BATCH and max(sizes) <= BATCH + POINTS


def test_keep_every_and_final_losses(big: Path) -> None:
    thinned = read_runs(big, reduce=keep_every(10))
    assert len(thinned) == RUNS and len(thinned.table) == RUNS * 101  # every 10th point plus the last
    finals = read_runs(big, reduce=final_losses)
    assert len(finals.table) == RUNS
    assert np.array_equal(thinned.final()["loss"].to_numpy(), finals.table["loss"].to_numpy())
    last = pq.read_table(big, columns=["loss"]).column("loss").to_numpy()[POINTS - 1 :: POINTS]
    assert np.array_equal(finals.table["loss"].to_numpy(), last)


def test_streaming_refuses_a_run_split_across_the_file(tmp_path: Path) -> None:
    path = tmp_path / "split.parquet"
    pd.DataFrame({"run": ["a", "b", "a"], "step": [1.0, 1.0, 2.0], "loss": [3.0, 3.0, 2.9]}).to_parquet(path)
    with pytest.raises(InputError, match="contiguous"):
        list(iter_runs(path, batch_rows=1))


def test_streaming_an_empty_parquet_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pd.DataFrame({"run": pd.Series([], dtype=str), "loss": pd.Series([], dtype=float)}).to_parquet(path)
    with pytest.raises(InputError, match="no rows"):
        read_runs(path, reduce=final_losses)
