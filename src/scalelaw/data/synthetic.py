"""Synthetic loss curves written straight to Parquet, for large-input benchmarks and tests.

Curves follow ``L = 2 + 3 * step^-0.3`` with a little seeded noise, written a row group
at a time so even 10^8 rows never sit in memory at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def write_synthetic_parquet(
    path: str | Path, *, runs: int, points: int, seed: int = 0, runs_per_group: int = 100
) -> int:
    """Write ``runs`` curves of ``points`` rows each (contiguous per run); return the row count."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, points + 1, dtype="float64")
    schema = pa.schema([("run", pa.string()), ("step", pa.float64()), ("loss", pa.float64()), ("lr", pa.float64())])
    with pq.ParquetWriter(path, schema) as writer:
        for first in range(0, runs, runs_per_group):
            count = min(runs_per_group, runs - first)
            names = np.repeat(np.array([f"run{i:06d}" for i in range(first, first + count)], dtype=object), points)
            clean = 2.0 + 3.0 * np.tile(steps, count) ** -0.3
            loss = clean * (1 + 0.002 * rng.standard_normal(count * points))
            table = pa.table({"run": names, "step": np.tile(steps, count), "loss": loss,
                              "lr": np.full(count * points, 1e-3)}, schema=schema)
            writer.write_table(table)
    return runs * points
