"""Turn a :class:`RawTable` into canonical columns: mapping, parsing, run ids, tokens.

The mapping is ``{canonical: source}``. Logger exports (W&B, TensorBoard, MLflow) get a
default mapping from their usual metric names. Text cells are parsed strictly: an empty
cell is missing, ``nan``/``inf`` or a non-number in a numeric column is an error that
names the row and column.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from scalelaw.data.aliases import EVAL_LOSS_NAMES, LOGGER_NAMES, TRAIN_LOSS_NAMES
from scalelaw.data.readers.raw import RawTable
from scalelaw.data.runs import CANONICAL_COLUMNS, META_COLUMNS, NUMERIC_COLUMNS, run_name_problem
from scalelaw.data.units import check_declared_unit
from scalelaw.errors import InputError

MISSING_TEXT = frozenset({"", "na", "n/a", "null", "none"})
ROW = "_row"
#: Most columns a canonical table keeps as separate arrays (no copy); wider tables are consolidated.
SEPARATE_BLOCKS = 64


def _has_values(raw: RawTable, column: str) -> bool:
    values = raw.frame[column]
    present = values.notna()
    if values.dtype == object:
        present &= values.astype(str).str.strip() != ""
    return bool(present.any())


def _loss_column(raw: RawTable, choice: str | None) -> str | None:
    """The source of the loss: a named column, or the first logged eval (else train) loss name."""
    present = [c for c in raw.frame.columns if _has_values(raw, c)] if choice or raw.flavor == "logger" else []
    if choice not in (None, "eval", "train"):
        return choice
    if choice is None and raw.flavor == "table":
        return "loss" if "loss" in raw.frame.columns else next((c for c in LOGGER_NAMES["loss"] if c in
                                                                raw.frame.columns), None)
    names = {"eval": EVAL_LOSS_NAMES, "train": TRAIN_LOSS_NAMES, None: LOGGER_NAMES["loss"]}[choice]
    found = next((c for c in names if c in present), None)
    if found is None and choice is not None:
        raise InputError(f"--loss {choice}: the log has no {choice} loss (looked for {', '.join(names)}); "
                         "name the column with --loss COLUMN", file=raw.file, column="loss")
    return found


def resolve_mapping(raw: RawTable, columns: Mapping[str, str] | None, loss: str | None = None) -> dict[str, str]:
    """The full ``{canonical: source}`` mapping for one input, checked against its columns.

    ``loss`` is ``None`` (an eval loss where the log has one, else the train loss),
    ``"eval"``, ``"train"`` or a column name; an explicit ``columns["loss"]`` wins.
    """
    present = set(raw.frame.columns)
    mapping = dict(columns or {})
    if "loss" not in mapping:
        source = _loss_column(raw, loss)
        if source is not None and (source != "loss" or loss is not None):
            mapping["loss"] = source
    for canonical, source in mapping.items():
        if source not in present:
            shown = ", ".join(sorted(present)[:20])
            option = f"--loss {source}" if canonical == "loss" and loss == source else f"--map {canonical}={source}"
            raise InputError(
                f"{option}: the input has no column {source!r} (columns: {shown})",
                file=raw.file,
                column=source,
            )
    if raw.flavor == "logger":
        for canonical, candidates in LOGGER_NAMES.items():
            if canonical not in mapping:
                found = next((c for c in candidates if c in present), None)
                if found is not None:
                    mapping[canonical] = found
    return mapping


def apply_mapping(raw: RawTable, mapping: Mapping[str, str], *, loss_unit: str) -> dict[str, pd.Series]:
    """Renamed columns; a canonical name displaced by a mapping is kept as ``orig_<name>``."""
    check_declared_unit(mapping.get("loss", "loss"), loss_unit, file=raw.file)
    sources = set(mapping.values())
    result: dict[str, pd.Series] = {}
    for name in raw.frame.columns:
        if name not in sources:
            result[f"orig_{name}" if name in mapping else name] = raw.frame[name]
    for canonical, source in mapping.items():
        result[canonical] = raw.frame[source]
    return result


def parse_numeric(
    values: pd.Series, *, raw: RawTable, column: str, strict: bool, runs: pd.Series | None = None
) -> pd.Series | None:
    """Parse a column to float64 (NaN = missing). ``strict`` raises on a bad cell, else returns None."""
    if values.dtype.kind in "fiub":
        # a NumPy column holds no missing marker to replace (no pass looking for one); nullable ones do
        missing = {"na_value": np.nan} if isinstance(values.dtype, pd.api.extensions.ExtensionDtype) else {}
        numbers = values.to_numpy(dtype="float64", **missing)
        bad = np.isinf(numbers)  # NaN in a typed column is a missing value
    else:
        text = as_text(values).str.strip()
        missing = text.str.lower().isin(MISSING_TEXT).to_numpy()
        numbers = pd.to_numeric(text.where(~missing, "nan"), errors="coerce").to_numpy(dtype="float64")
        bad = ~missing & ~np.isfinite(numbers)
    if not bad.any():
        return pd.Series(numbers, index=values.index, copy=False)  # float64 already: no dtype to parse
    if not strict:
        return None
    i = int(np.argmax(bad))
    cell = values.iloc[i]
    try:
        what = "NaN or infinite" if not np.isfinite(float(cell)) else "not a number"
    except (TypeError, ValueError):
        what = "not a number"
    run = None if runs is None else str(runs.iloc[i])
    raise InputError(f"value {str(cell)[:40]!r} is {what}", file=raw.file, run=run, row=_row(raw, i), column=column)


def _row(raw: RawTable, position: int) -> int:
    return int(raw.rows[position])


def canonical_table(
    raw: RawTable, *, columns: Mapping[str, str] | None, loss_unit: str, loss: str | None = None,
    targets: bool = False,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The input as canonical columns plus extras (``_row`` holds each line's row number), and the mapping used.

    ``targets`` reads rows to predict, which need no loss (a missing loss column is all NaN).
    """
    mapping = resolve_mapping(raw, columns, loss)
    frame = apply_mapping(raw, mapping, loss_unit=loss_unit)
    if "loss" not in frame and targets:
        frame["loss"] = pd.Series(np.nan, index=raw.frame.index)
    if "loss" not in frame:
        shown = ", ".join(str(c) for c in list(frame)[:20])
        raise InputError(f"no 'loss' column (columns: {shown}); name one with --map loss=COLUMN", file=raw.file, column="loss")
    runs = _run_ids(frame, raw, factors=raw.run_factors if mapping.get("run", "run") == "run" else None)
    out: dict[str, pd.Series | np.ndarray] = {"run": runs}
    for name in frame:
        if name == "run":
            continue
        if name in NUMERIC_COLUMNS:
            out[name] = parse_numeric(frame[name], raw=raw, column=mapping.get(name, name), strict=True, runs=runs)
        else:
            parsed = parse_numeric(frame[name], raw=raw, column=name, strict=False)
            out[name] = parsed if parsed is not None else as_text(frame[name])
    out = {name: out[name] for name in sorted(out, key=_canonical_first)}  # the RunSet's column order already
    out[ROW] = raw.rows
    # a block per column, not copied into one, unless there are many (pandas slows on over 100 blocks)
    table = pd.DataFrame(out, index=raw.frame.index, copy=len(out) > SEPARATE_BLOCKS)
    return table.reset_index(drop=True), mapping


def _canonical_first(name: str) -> int:
    return CANONICAL_COLUMNS.index(name) if name in CANONICAL_COLUMNS else len(CANONICAL_COLUMNS)


def as_text(values: pd.Series) -> pd.Series:
    """Cells as Python strings, missing ones as ``""``."""
    return values.astype(object).where(values.notna(), "").astype(str).astype(object)


def _run_ids(frame: Mapping[str, pd.Series], raw: RawTable, factors: tuple[np.ndarray, np.ndarray] | None = None
             ) -> pd.Series:
    """Run ids as a categorical column (the strings once each, a code per row): every later step groups
    rows by run, and factorising codes costs a fraction of hashing a string per row. Ids are cleaned
    once per distinct value. ``factors``: the reader's factorisation of this column (code -1: a missing
    cell, read as ``""``), used in place of hashing every row's id again."""
    if "run" not in frame:
        problem = run_name_problem(raw.default_run)
        if problem:
            raise InputError(f"the run id {raw.default_run[:80]!r} (from the file or folder name) {problem}",
                             file=raw.file)
        one = pd.Index([raw.default_run], dtype=object)  # as the categories of many runs below (not inferred)
        return pd.Series(pd.Categorical.from_codes(np.zeros(len(raw.frame), dtype=np.int8), one, validate=False),
                         index=raw.frame.index, copy=False)
    codes, uniques = factors if factors is not None else pd.factorize(frame["run"], use_na_sentinel=True)
    names = np.array([str(name).strip() for name in uniques], dtype=object)  # once per distinct id
    empty = (codes < 0) | (names == "")[codes] if len(names) else np.ones(len(codes), dtype=bool)
    if empty.any():
        raise InputError("the run id is empty", file=raw.file, row=_row(raw, int(np.argmax(empty))), column="run")
    for code, name in enumerate(names):
        problem = run_name_problem(name)
        if problem:
            row = _row(raw, int(np.argmax(codes == code)))
            raise InputError(f"the run id {name[:80]!r} {problem}", file=raw.file, row=row, column="run")
    merged, distinct = pd.factorize(names)  # ids equal once stripped are one run
    categories = pd.Index(distinct, dtype=object)  # the codes index it: nothing to validate
    return pd.Series(pd.Categorical.from_codes(merged[codes], categories, validate=False), index=raw.frame.index,
                     copy=False)


def fill_run_metadata(table: pd.DataFrame) -> pd.DataFrame:
    """Spread per-run metadata over all rows of a run and derive ``tokens = step * batch_size``.

    ``batch_size`` (tokens per step) is ``batch_sequences * seq_len`` where it is missing.
    Tokens are derived only where missing and only when both step and batch size are known.
    """
    meta = [c for c in META_COLUMNS if c in table.columns and table[c].dtype.kind == "f"]
    if meta:
        table[meta] = table.groupby("run", sort=False)[meta].ffill()
        table[meta] = table.groupby("run", sort=False)[meta].bfill()
    if "batch_sequences" in table.columns and "seq_len" in table.columns:
        per_step = table["batch_sequences"] * table["seq_len"]
        table["batch_size"] = table["batch_size"].fillna(per_step) if "batch_size" in table.columns else per_step
    if "batch_size" in table.columns and "step" in table.columns:
        derived = table["step"] * table["batch_size"]
        if "tokens" in table.columns:
            table["tokens"] = table["tokens"].fillna(derived)
        elif derived.notna().any():
            table["tokens"] = derived
    return table
