"""A file's content before it becomes runs: its cells, its row numbers and its origin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

#: Which default column mapping applies: plain tables use names as they are; logger
#: exports (W&B, TensorBoard, MLflow) map their usual metric names to canonical ones.
Flavor = Literal["table", "logger"]


@dataclass(frozen=True)
class RawTable:
    """Cells of one input, with ``rows`` the 1-based data row of each line for errors.

    ``text`` says the cells are strings still to be parsed (CSV, TSV, JSONL strings) as
    opposed to typed values (Parquet, TensorBoard, MLflow). ``default_run`` is the run
    id used when there is no ``run`` column. ``notes`` are said once when the table becomes
    runs (how the reader derived a value, e.g. the sequence length from a model config);
    ``unknown`` says, for ``params`` or ``tokens``, why the reader could not find it and what fixes it.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    file: str
    default_run: str
    flavor: Flavor = "table"
    text: bool = False
    notes: tuple[str, ...] = ()
    unknown: Mapping[str, str] = field(default_factory=dict)
