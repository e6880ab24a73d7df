"""Run metadata where users keep it: tool params and hparams, ``--set`` and a ``--meta`` table.

``META_ALIASES`` lists the names under which tools store run metadata (Lightning hparams,
Trainer arguments, config files), with the model-size names shared with the MLflow, W&B and
TensorBoard readers (:data:`scalelaw.data.aliases.PARAMS_ALIASES`); readers map them through
:func:`metadata_from`. ``--set`` and ``--meta`` values are applied by
:func:`apply_metadata`, which wins over what the log says (set > meta table > log).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.data.aliases import PARAMS_ALIASES
from scalelaw.data.runs import NUMERIC_COLUMNS, RunSet
from scalelaw.errors import InputError

#: canonical metadata column -> the names tools log it under, in order of preference (the model
#: size names are the shared list in :mod:`scalelaw.data.aliases`).
META_ALIASES: dict[str, tuple[str, ...]] = {
    "params": PARAMS_ALIASES,
    "non_embedding_params": ("non_embedding_params", "n_params_non_embedding", "num_non_embedding_params"),
    "seq_len": ("seq_len", "seq_length", "max_seq_length", "max_seq_len", "block_size", "context_length",
                "sequence_length"),
    "batch_size": ("batch_size_tokens", "tokens_per_step", "tokens_per_batch"),
    "unique_tokens": ("unique_tokens",),
    "dataset": ("dataset", "dataset_name"),
}
#: Columns that vary along a run and can never be set per run.
NOT_METADATA = frozenset({"run", "step", "loss", "tokens", "lr", "loss_source", "_row"})
MAX_NESTING = 8


def _flatten(values: Mapping[str, object], depth: int = 0) -> Iterator[tuple[str, object]]:
    """Leaf ``(key, value)`` pairs of nested mappings, outer keys first (bounded depth)."""
    nested = []
    for key, value in values.items():
        if isinstance(value, Mapping):
            nested.append(value)
        else:
            yield str(key), value
    if depth < MAX_NESTING:
        for inner in nested:
            yield from _flatten(inner, depth + 1)


def as_number(value: object, *, what: str, file: str | None) -> float:
    """A finite number from a param value (numbers, or text like ``"1.2e8"``); anything else is an error."""
    if isinstance(value, bool):
        raise InputError(f"{what} is {value!r}, not a number", file=file)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{what} is {str(value)[:40]!r}, not a number", file=file) from None
    if not math.isfinite(number):
        raise InputError(f"{what} is {value!r} (NaN or infinite)", file=file)
    return number


def metadata_from(values: Mapping[str, object], *, file: str | None) -> dict[str, object]:
    """Canonical run metadata found under any alias in params/hparams/config values.

    Nested sections are searched too (outer keys first); a value that should be a
    number and is not is an :class:`InputError` naming ``file`` and the key.
    """
    leaves: dict[str, object] = {}
    for key, value in _flatten(values):
        leaves.setdefault(key, value)
    out: dict[str, object] = {}
    for column, aliases in META_ALIASES.items():
        key = next((a for a in aliases if a in leaves and leaves[a] not in (None, "")), None)
        if key is None:
            continue
        value = leaves[key]
        out[column] = as_number(value, what=f"{key}", file=file) if column in NUMERIC_COLUMNS else str(value)
    return out


def parse_set(items: Mapping[str, object] | None) -> dict[str, object]:
    """``--set`` values checked: metadata columns only, numbers where the column is numeric."""
    out: dict[str, object] = {}
    for column, value in (items or {}).items():
        if column in NOT_METADATA:
            raise InputError(f"--set {column}=...: {column!r} changes along a run; only per-run metadata can be set")
        if column in NUMERIC_COLUMNS or isinstance(value, (int, float)):
            out[column] = as_number(value, what=f"--set {column}", file=None)
        else:
            out[column] = str(value)
    return out


def read_sidecar(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """A ``--meta`` table (CSV/TSV/JSONL/Parquet file or DataFrame): one row per run, metadata columns."""
    from scalelaw.data.normalize import as_text, parse_numeric
    from scalelaw.data.raw import RawTable
    from scalelaw.data.readers import read_raw

    if isinstance(source, pd.DataFrame):
        raw = RawTable(source.reset_index(drop=True), np.arange(1, len(source) + 1), "the metadata table", "meta")
    else:
        tables = read_raw(Path(source))
        if len(tables) != 1:
            raise InputError("a --meta table must be one table file", file=str(source))
        raw = tables[0]
    frame = raw.frame
    if "run" not in frame.columns:
        raise InputError("a --meta table needs a 'run' column naming each run", file=raw.file, column="run")
    bad = [c for c in frame.columns if c in NOT_METADATA - {"run"}]
    if bad:
        raise InputError(f"a --meta table holds per-run metadata; {bad[0]!r} changes along a run", file=raw.file,
                         column=bad[0])
    runs = frame["run"].astype(str).str.strip()
    repeated = runs.duplicated().to_numpy()
    if repeated.any():
        i = int(np.argmax(repeated))
        raise InputError("the run appears twice in the --meta table", file=raw.file, run=runs.iloc[i],
                         row=int(raw.rows[i]), column="run")
    out = pd.DataFrame({"run": runs})
    for column in frame.columns:
        if column == "run":
            continue
        strict = column in NUMERIC_COLUMNS
        parsed = parse_numeric(frame[column], raw=raw, column=column, strict=strict, runs=runs)
        out[column] = parsed if parsed is not None else as_text(frame[column])
    out.attrs["file"] = raw.file
    return out.reset_index(drop=True)


def apply_metadata(table: pd.DataFrame, *, set_values: Mapping[str, object], sidecar: pd.DataFrame | None
                   ) -> pd.DataFrame:
    """Put ``--meta`` rows (matched by run) then ``--set`` values into every row of their runs."""
    if sidecar is not None:
        rows = sidecar.set_index("run")
        for column in rows.columns:
            mapped = table["run"].map(rows[column])
            given = mapped.notna() & (mapped != "")
            if column in table.columns:
                mapped = mapped.where(given, table[column])
            table[column] = mapped.astype("float64") if column in NUMERIC_COLUMNS else mapped
    for column, value in set_values.items():
        table[column] = value
    return table


def with_metadata(runs: RunSet, *, set_values: Mapping[str, object], meta: str | Path | pd.DataFrame | None
                  ) -> RunSet:
    """Runs already read (a run store, a dataset) with ``--set`` / ``--meta`` metadata applied and checked."""
    from scalelaw.data.normalize import fill_run_metadata
    from scalelaw.data.validate import validate_table

    sidecar = read_sidecar(meta) if meta is not None else None
    table = apply_metadata(runs.table.copy(), set_values=parse_set(set_values), sidecar=sidecar)
    table = fill_run_metadata(table)
    validate_table(table, file=next(iter(runs.sources.values()), "the runs"))
    return RunSet(table, runs.sources)
