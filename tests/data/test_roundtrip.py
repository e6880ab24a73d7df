"""Property tests: random valid runs survive CSV, JSONL and Parquet files and the run store unchanged."""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalelaw.data.pipeline import read_runs
from scalelaw.data.runs import RunSet
from scalelaw.data.store import RunStore

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
RUN_IDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                  min_size=1, max_size=12).filter(lambda s: s.strip() == s and "," not in s and '"' not in s)


@st.composite
def valid_runs(draw: st.DrawFn) -> pd.DataFrame:
    """A run table with increasing steps, positive params and finite losses (some missing)."""
    names = draw(st.lists(RUN_IDS, min_size=1, max_size=4, unique=True))
    parts = []
    for name in names:
        n = draw(st.integers(1, 6))
        steps = np.cumsum(draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))).astype(float)
        loss = draw(st.lists(st.floats(0.01, 99.0, allow_nan=False), min_size=n, max_size=n))
        loss[-1:] = [draw(st.floats(0.5, 20.0))]  # every run has a loss
        missing = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        parts.append(pd.DataFrame({
            "run": name,
            "step": steps,
            "loss": [np.nan if m and i < n - 1 else v for i, (v, m) in enumerate(zip(loss, missing, strict=True))],
            "lr": draw(st.lists(st.floats(0, 1.0), min_size=n, max_size=n)),
            "params": draw(st.floats(1.0, 1e12)),
        }))
    return pd.concat(parts, ignore_index=True)


def read_quietly(path: Path) -> RunSet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_runs(path)


@SETTINGS
@given(table=valid_runs())
def test_files_roundtrip(table: pd.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as folder:
        csv, jsonl, parquet = (Path(folder) / f"runs.{ext}" for ext in ("csv", "jsonl", "parquet"))
        table.to_csv(csv, index=False, float_format="%.17g")
        jsonl.write_text("\n".join(json.dumps({k: v for k, v in r.items() if v == v}) for r in table.to_dict("records")))
        table.to_parquet(parquet)
        for path in (csv, jsonl, parquet):
            read = read_quietly(path).table
            pd.testing.assert_frame_equal(read[list(table.columns)], table, check_dtype=False)


@SETTINGS
@given(table=valid_runs())
def test_store_roundtrip(table: pd.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(folder)
        store.put(RunSet(table))
        loaded = store.load(list(dict.fromkeys(table["run"])))
        pd.testing.assert_frame_equal(loaded.table, table, check_dtype=False)
        assert {e["run"] for e in store.list()} == set(table["run"])
