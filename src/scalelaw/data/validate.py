"""Checks that turn bad run tables into clear errors and suspicious ones into warnings.

Errors (:class:`InputError`) name the file, run, row and column: NaN or infinite values
(refused at parsing), negative or absurd values, steps that repeat or go back, tokens
that decrease, metadata that changes within a run. Warnings (:class:`DataWarning`) flag
data that is valid but looks wrong: loss spikes, a run diverging at its end, too few
points for a law.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from scalelaw.data.normalize import ROW
from scalelaw.data.runs import META_COLUMNS, RunSet
from scalelaw.errors import DataWarning, InputError, warn

#: column -> (lowest allowed, highest allowed, lowest is allowed itself); beyond is an error.
LIMITS: dict[str, tuple[float, float, bool]] = {
    "loss": (0.0, 100.0, True),
    "params": (0.0, 1e15, False),
    "non_embedding_params": (0.0, 1e15, False),
    "embedding_params": (0.0, 1e15, True),
    "tokens": (0.0, 1e17, True),
    "unique_tokens": (0.0, 1e17, False),
    "batch_size": (0.0, 1e12, False),
    "batch_sequences": (0.0, 1e12, False),
    "seq_len": (0.0, 1e9, False),
    "flops": (0.0, 1e32, True),
    "lr": (0.0, 1e3, True),
    "step": (0.0, 1e12, True),
}
SPIKE_RATIO = 1.2
DIVERGENCE_RATIO = 1.1
SPIKE_WINDOW = 5
MAX_WARNINGS = 5


#: Cyrillic and Greek letters that look like Latin ones (lower case, as after casefold).
_LOOKALIKES = str.maketrans("аеорсухіјѕԁԛԝνοαιτкмнвт", "aeopcyxijsdqwvoaitkmhbt")


def _fail(table: pd.DataFrame, mask: np.ndarray, message: str, *, file: str, column: str | None) -> None:
    if mask.any():
        i = int(np.argmax(mask))
        row = table[ROW].iloc[i] if ROW in table.columns else None
        raise InputError(message.format(value=_show(table, column, i)), file=file, run=str(table["run"].iloc[i]),
                         row=None if row is None or pd.isna(row) else int(row), column=column)


def _show(table: pd.DataFrame, column: str | None, i: int) -> str:
    if column is None or column not in table.columns:
        return ""
    return f"{table[column].iloc[i]:.6g}"


def validate_table(table: pd.DataFrame, *, file: str, targets: bool = False) -> None:
    """Raise an :class:`InputError` for the first problem in a canonical table (grouped by run).

    ``targets`` (rows to predict) may have runs without any loss.
    """
    if table.empty:
        raise InputError("no data rows (after filtering)", file=file)
    _check_ranges(table, file)
    _check_order(table, file)
    _check_constant_metadata(table, file)
    if targets:
        return
    has_loss = table["loss"].notna().groupby(table["run"], sort=False).any()
    if not has_loss.all():
        run = str(has_loss.index[int(np.argmax(~has_loss.to_numpy()))])
        raise InputError("the run has no loss value", file=file, run=run, column="loss")


def _check_ranges(table: pd.DataFrame, file: str) -> None:
    for column, (low, high, low_ok) in LIMITS.items():
        if column not in table.columns or table[column].dtype.kind != "f":
            continue
        values = table[column].to_numpy()
        below = values < low if low_ok else values <= low
        relation = "negative" if low_ok else "not positive"
        _fail(table, below, f"{column} is {relation} ({{value}})", file=file, column=column)
        if column in ("tokens", "flops"):
            zero = (values == 0) & ~_first_of_multi_row_run(table)
            _fail(table, zero, f"{column} is not positive (0); only the first point of a curve may be 0",
                  file=file, column=column)
        _fail(table, values > high, f"{column} = {{value}} is absurd (above {high:g})", file=file, column=column)
    if "step" in table.columns:
        _fail(table, table["step"].isna().to_numpy(), "the step is missing", file=file, column="step")


def _first_of_multi_row_run(table: pd.DataFrame) -> np.ndarray:
    runs = table["run"]
    first = ~runs.duplicated().to_numpy()
    sizes = runs.map(runs.value_counts()).to_numpy()
    return first & (sizes > 1)


def _same_run_as_previous(table: pd.DataFrame) -> np.ndarray:
    """For each row but the first: does it belong to the same run as the row before?"""
    codes = pd.factorize(table["run"])[0]
    return codes[1:] == codes[:-1]


def _check_order(table: pd.DataFrame, file: str) -> None:
    same_run = _same_run_as_previous(table)
    if "step" in table.columns:
        step = table["step"].to_numpy()
        delta = np.diff(step)
        duplicate = np.concatenate([[False], same_run & (delta == 0)])
        _fail(table, duplicate, "duplicate step {value} (the same step appears on the row before)", file=file, column="step")
        back = np.concatenate([[False], same_run & (delta < 0)])
        _fail(table, back, "step {value} is lower than the step on the row before (steps must increase)", file=file, column="step")
    if "tokens" in table.columns:
        sub = table[table["tokens"].notna()]
        tokens = sub["tokens"].to_numpy()
        same = _same_run_as_previous(sub)
        back = np.concatenate([[False], same & (np.diff(tokens) < 0)])
        _fail(sub, back, "tokens decrease (to {value}) within the run", file=file, column="tokens")


def _check_constant_metadata(table: pd.DataFrame, file: str) -> None:
    for column in META_COLUMNS:
        if column not in table.columns:
            continue
        first = table.groupby("run", sort=False)[column].transform("first")
        changed = (table[column].notna() & first.notna() & (table[column] != first)).to_numpy()
        _fail(table, changed, f"{column} changes within the run (to {{value}}); it must be constant per run",
              file=file, column=column)


def _loss_by_run(runs: RunSet) -> list[tuple[str, np.ndarray]]:
    """Each run's logged losses in order (rows without a loss dropped), without a groupby per run."""
    table = runs.table[runs.table["loss"].notna()]
    codes, names = pd.factorize(table["run"])
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    losses = np.split(table["loss"].to_numpy(dtype="float64")[order], bounds)
    names = np.asarray(names, dtype=object)  # one conversion, not an Index lookup per run
    return [(str(names[c]), loss) for c, loss in zip(np.unique(codes), losses, strict=True)] if len(codes) else []


def lookalike_key(name: str) -> str:
    """A key equal for names that differ only by case, Unicode width or common Cyrillic/Greek look-alikes."""
    return unicodedata.normalize("NFKC", name).casefold().translate(_LOOKALIKES)


def warn_lookalike_runs(runs: RunSet) -> list[str]:
    """Warn about run ids that differ only by case or look-alike characters (easy to mix up); return them."""
    seen: dict[str, str] = {}
    messages = []
    for run in runs.runs:
        other = seen.setdefault(lookalike_key(run), run)
        if other != run:
            messages.append(f"runs {other!r} and {run!r} differ only by case or look-alike characters")
    for message in messages[:MAX_WARNINGS]:
        warn(message, DataWarning)
    return messages


def warn_suspicious(runs: RunSet) -> list[str]:
    """Warn about runs with loss spikes or a diverging end (the first few, then a count); return all."""
    warn_lookalike_runs(runs)
    messages = []
    for run, loss in _loss_by_run(runs):
        if len(loss) < SPIKE_WINDOW + 2:
            continue
        previous = np.median(np.lib.stride_tricks.sliding_window_view(loss[:-1], SPIKE_WINDOW), axis=1)
        spikes = np.flatnonzero(loss[SPIKE_WINDOW:-2] > SPIKE_RATIO * previous[:-2]) + SPIKE_WINDOW
        if spikes.size:
            messages.append(f"run {run!r}: {spikes.size} loss spike(s) above {SPIKE_RATIO:g}x the recent median "
                            f"(first at loss point {spikes[0] + 1})")
        if loss[-1] > DIVERGENCE_RATIO * loss.min() and loss[-2] > DIVERGENCE_RATIO * loss.min():
            messages.append(f"run {run!r} looks diverging at its end: final loss {loss[-1]:.4g} "
                            f"vs its minimum {loss.min():.4g}")
    for message in messages[:MAX_WARNINGS]:
        warn(message, DataWarning)
    if len(messages) > MAX_WARNINGS:
        warn(f"... and {len(messages) - MAX_WARNINGS} more suspicious run(s)", DataWarning)
    return messages


def check_enough_points(runs: RunSet, n_params: int) -> bool:
    """Warn (and return False) when the data has fewer loss points than a law has parameters."""
    points = int(runs.table["loss"].notna().sum())
    if points < n_params:
        warn(f"only {points} loss point(s) for a law with {n_params} parameters: the fit is underdetermined",
             DataWarning)
        return False
    return True
