"""A file's content before it becomes runs (its cells, row numbers and origin), and which logged keys become columns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from scalelaw.data.aliases import RUN_MODEL_NAMES
from scalelaw.errors import DataWarning, InputError, warn

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
    ``run_factors``: the ``run`` column factorised by a reader that had to factorise it anyway (codes in
    first-seen order, -1 for a missing cell, and the distinct cells), so run ids are hashed once per read.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    file: str
    default_run: str
    flavor: Flavor = "table"
    text: bool = False
    notes: tuple[str, ...] = ()
    unknown: Mapping[str, str] = field(default_factory=dict)
    run_factors: tuple[np.ndarray, np.ndarray] | None = None


#: Metric keys a reader keeps beyond the names the run model reads (first logged first).
MAX_EXTRA_KEYS = 200


@dataclass(frozen=True)
class Keys:
    """Which logged keys a reader turns into columns: every name the run model reads
    (:data:`~scalelaw.data.aliases.RUN_MODEL_NAMES`), the names the user asked for (``--map``,
    ``--loss``, ``--where``), and the first ``limit`` others. A log that adds a new key at every
    step would otherwise cost rows x keys cells; dropping the rest keeps a read linear in cells."""

    named: frozenset[str] = frozenset()
    limit: int = MAX_EXTRA_KEYS

    def select(self, keys: Iterable[str], *, file: str) -> list[str]:
        """The keys kept, in the order given; how many were dropped is said once for ``file``."""
        kept, extra, dropped = [], 0, 0
        for key in keys:
            if key in RUN_MODEL_NAMES or key in self.named:
                kept.append(key)
            elif extra < self.limit:
                kept.append(key)
                extra += 1
            else:
                dropped += 1
        if dropped:
            warn(f"{file}: {dropped} logged keys beyond the first {self.limit} were dropped (scalelaw reads step, "
                 "loss, lr, tokens and run metadata; name a key with --map or --loss to keep it)", DataWarning)
        return kept


def columns_from_records(records: Sequence[Mapping[str, object]], *, keys: Keys, fill: object, file: str,
                         max_keys: int) -> pd.DataFrame:
    """One column per kept key of per-row records (``fill`` where a row lacks it), built column by
    column: time and memory grow with the cells logged plus rows x kept keys, never rows x every key.
    A column of numbers (with NaN fills) comes out float64, so parsing it is one vectorised step.
    More than ``max_keys`` distinct keys is an InputError."""
    seen: dict[str, None] = {}
    for record in records:
        seen.update(dict.fromkeys(record))
    if len(seen) > max_keys:
        raise InputError(f"the records have {len(seen)} keys, more than the {max_keys} allowed", file=file)
    kept = keys.select(seen, file=file)
    data = {key: [record.get(key, fill) for record in records] for key in kept}
    return pd.DataFrame(data, index=range(len(records)))
