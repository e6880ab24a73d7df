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
from scalelaw.data.readers.raw import RawTable
from scalelaw.data.runs import META_COLUMNS, RunSet, run_codes
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


def validate_table(table: pd.DataFrame, *, file: str, targets: bool = False,
                   codes: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Raise an :class:`InputError` for the first problem in a canonical table (grouped by run).

    ``targets`` (rows to predict) may have runs without any loss. ``codes``: the run column's
    :func:`run_codes` (codes and names), when the caller has them already.
    """
    if table.empty:
        raise InputError("no data rows (after filtering)", file=file)
    codes, names = run_codes(table["run"]) if codes is None else codes  # once: each check below works on these
    _check_ranges(table, file, codes)
    _check_order(table, file, codes)
    _check_constant_metadata(table, file)
    if targets:
        return
    logged = ~_missing(table["loss"])
    has_loss = np.ones(len(names), dtype=bool)
    if not logged.all():
        has_loss[:] = False
        has_loss[codes[logged]] = True
    if not has_loss.all():
        raise InputError("the run has no loss value", file=file, run=str(names[int(np.argmax(~has_loss))]),
                         column="loss")


def _check_ranges(table: pd.DataFrame, file: str, codes: np.ndarray) -> None:
    for column, (low, high, low_ok) in LIMITS.items():
        series = table[column] if column in table.columns else None  # one column lookup each
        if series is None or series.dtype.kind != "f":
            continue
        values = series.to_numpy()
        if _within(values, low, high, low_ok and column not in ("tokens", "flops")):
            continue
        below = values < low if low_ok else values <= low
        relation = "negative" if low_ok else "not positive"
        _fail(table, below, f"{column} is {relation} ({{value}})", file=file, column=column)
        zero = values == 0 if column in ("tokens", "flops") else None
        if zero is not None and zero.any():
            zero &= ~_first_of_multi_row_run(codes)
            _fail(table, zero, f"{column} is not positive (0); only the first point of a curve may be 0",
                  file=file, column=column)
        _fail(table, values > high, f"{column} = {{value}} is absurd (above {high:g})", file=file, column=column)
    if "step" in table.columns:
        _fail(table, _missing(table["step"]), "the step is missing", file=file, column="step")


def _missing(values: pd.Series) -> np.ndarray:
    """``values.isna()`` as an array; a float64 column's NaN found by NumPy (no Series made on the way)."""
    return np.isnan(values.to_numpy()) if values.dtype == np.float64 else values.isna().to_numpy()


def _within(values: np.ndarray, low: float, high: float, low_ok: bool) -> bool:
    """True when every value that is not NaN lies in the limits (``low`` itself allowed if ``low_ok``), by two
    reductions that skip NaN and allocate nothing; False sends the column to the checks that name the row."""
    lowest, highest = np.fmin.reduce(values), np.fmax.reduce(values)  # NaN only when every value is NaN
    return bool((lowest > low or (low_ok and lowest == low)) and highest <= high)


def _first_of_multi_row_run(codes: np.ndarray) -> np.ndarray:
    """Rows that start a run of several rows (``codes`` in first-seen order: a new code exceeds all before it)."""
    first = np.concatenate([[True], codes[1:] > np.maximum.accumulate(codes)[:-1]])
    return first & (np.bincount(codes)[codes] > 1)


def _check_order(table: pd.DataFrame, file: str, codes: np.ndarray) -> None:
    same_run = codes[1:] == codes[:-1]  # for each row but the first: the same run as the row before?
    if "step" in table.columns:
        step = table["step"].to_numpy()
        if not ((step[1:] > step[:-1]) | ~same_run).all():  # some step does not rise within its run: name the first
            delta = np.diff(step)
            duplicate = np.concatenate([[False], same_run & (delta == 0)])
            _fail(table, duplicate, "duplicate step {value} (the same step appears on the row before)", file=file,
                  column="step")
            back = np.concatenate([[False], same_run & (delta < 0)])
            _fail(table, back, "step {value} is lower than the step on the row before (steps must increase)",
                  file=file, column="step")
    if "tokens" in table.columns:
        column = table["tokens"]
        tokens, known = column.to_numpy(), ~_missing(column)
        if known.all():
            back = np.concatenate([[False], same_run & (tokens[1:] < tokens[:-1])])
        else:  # compared with the run's last known tokens
            rows = np.flatnonzero(known)
            back = np.zeros(len(table), dtype=bool)
            back[rows[1:][(codes[rows][1:] == codes[rows][:-1]) & (np.diff(tokens[rows]) < 0)]] = True
        _fail(table, back, "tokens decrease (to {value}) within the run", file=file, column="tokens")


def _check_constant_metadata(table: pd.DataFrame, file: str) -> None:
    for column in META_COLUMNS:
        if column not in table.columns:
            continue
        first = table.groupby("run", sort=False)[column].transform("first")
        changed = (table[column].notna() & first.notna() & (table[column] != first)).to_numpy()
        _fail(table, changed, f"{column} changes within the run (to {{value}}); it must be constant per run",
              file=file, column=column)


def lookalike_key(name: str) -> str:
    """A key equal for names that differ only by case, Unicode width or common Cyrillic/Greek look-alikes
    (an ASCII name: its lower case, which is what the three steps give it)."""
    if name.isascii():
        return name.lower()
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


def _logged_losses(runs: RunSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every run's logged losses in order, run after run (rows without a loss dropped), where each run
    starts in them (``starts[k]:starts[k + 1]`` is run k), and the table row of each run's first logged
    loss (the order runs are spoken of in): from the run codes the set already holds, no groupby."""
    index = runs._index
    loss = runs.table["loss"].to_numpy(dtype="float64")
    loss = loss if index.grouped else loss[index.order]
    logged = ~np.isnan(loss)
    if logged.all() and index.grouped:  # the order is the identity: each run's first row, no order array
        begin = index.starts[:-1]
        return loss, index.starts, np.where(begin < len(loss), begin, 0)  # 0 for a run without rows, as below
    rows = index.order
    if logged.all():
        starts = index.starts
    else:
        counts = np.bincount(index.codes[rows][logged], minlength=len(index.names))
        loss, rows, starts = loss[logged], rows[logged], np.concatenate([[0], np.cumsum(counts)])
    first_row = np.zeros(len(starts) - 1, dtype=rows.dtype)  # 0 for a run without a loss: never spoken of
    spoken = starts[:-1] < len(rows)  # the rows are not copied to append that 0
    first_row[spoken] = rows[starts[:-1][spoken]]
    return loss, starts, first_row


def _spikes(loss: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Positions in ``loss`` (runs one after another) of points above ``SPIKE_RATIO`` x the median of the
    ``SPIKE_WINDOW`` points of their run before them, leaving out each run's last two points.

    A point below the ratio times the window's minimum cannot be a spike, so the minima are taken over
    all runs at once (one shifted minimum per window place) and medians only for the few points above.
    """
    begin, end = starts[:-1], starts[1:]
    usable = np.ones(len(loss), dtype=bool)  # but the first SPIKE_WINDOW and the last two points of each run
    heads = (begin[:, None] + np.arange(SPIKE_WINDOW)).ravel()
    tails = (end[:, None] - np.arange(1, 3)).ravel()
    usable[heads[heads < np.repeat(end, SPIKE_WINDOW)]] = False
    usable[tails[tails >= np.repeat(begin, 2)]] = False
    low = np.full(len(loss), np.inf)  # the minimum of the SPIKE_WINDOW points before each point
    for k in range(1, SPIKE_WINDOW + 1 if len(loss) > SPIKE_WINDOW else 1):
        np.minimum(low[SPIKE_WINDOW:], loss[SPIKE_WINDOW - k : len(loss) - k], out=low[SPIKE_WINDOW:])
    candidates = np.flatnonzero(usable & (loss > np.multiply(low, SPIKE_RATIO, out=low)))  # in place: no copy
    medians = np.median(loss[candidates[:, None] + np.arange(-SPIKE_WINDOW, 0)], axis=1)
    return candidates[loss[candidates] > SPIKE_RATIO * medians]


def warn_suspicious(runs: RunSet) -> list[str]:
    """Warn about runs with loss spikes or a diverging end (the first few, then a count); return all.

    The checks run over all runs' losses at once; only runs with something to say cost Python work."""
    warn_lookalike_runs(runs)
    loss, starts, first_row = _logged_losses(runs)
    counts = np.diff(starts)
    checked = counts >= SPIKE_WINDOW + 2  # shorter runs are not judged
    spikes = _spikes(loss, starts)
    spike_run = np.searchsorted(starts, spikes, side="right") - 1
    spike_count = np.bincount(spike_run, minlength=len(counts))
    first_spike = np.zeros(len(counts), dtype=np.int64)
    spiky, first = np.unique(spike_run, return_index=True)  # spikes are in order: a run's first comes first
    first_spike[spiky] = spikes[first] - starts[spiky]
    lowest, last, second = np.full(len(counts), np.inf), np.zeros(len(counts)), np.zeros(len(counts))
    if loss.size:
        logged = counts > 0
        lowest[logged] = np.minimum.reduceat(loss, starts[:-1][logged])
        last[checked], second[checked] = loss[starts[1:][checked] - 1], loss[starts[1:][checked] - 2]
    diverging = checked & (last > DIVERGENCE_RATIO * lowest) & (second > DIVERGENCE_RATIO * lowest)
    messages = []
    flagged = np.flatnonzero(spike_count.astype(bool) | diverging)
    for code in flagged[np.argsort(first_row[flagged], kind="stable")].tolist():
        run = str(runs._index.names[code])
        if spike_count[code]:
            messages.append(f"run {run!r}: {spike_count[code]} loss spike(s) above {SPIKE_RATIO:g}x the recent "
                            f"median (first at loss point {first_spike[code] + 1})")
        if diverging[code]:
            messages.append(f"run {run!r} looks diverging at its end: final loss {last[code]:.4g} "
                            f"vs its minimum {lowest[code]:.4g}")
    for message in messages[:MAX_WARNINGS]:
        warn(message, DataWarning)
    if len(messages) > MAX_WARNINGS:
        warn(f"... and {len(messages) - MAX_WARNINGS} more suspicious run(s)", DataWarning)
    return messages


#: How to give what a tool's log lacks, for the run-model columns every size law reads.
SIZE_FIXES: dict[str, str] = {
    "params": "give it with --set params=N (or a --meta table with a params column)",
    "tokens": "give the tokens per step with --set batch_size=TOKENS (or --set batch_sequences=B --set seq_len=L)",
}
SIZE_WHAT = {"params": "the model size N", "tokens": "the tokens seen D"}


def say_unknown_sizes(table: pd.DataFrame, raw: RawTable) -> None:
    """Say once per run of a tool's log how the reader derived values, and when N or D is unknown, with the fix.

    Plain tables (CSV, Parquet, DataFrames) hold what the user wrote, so only logger outputs get a note.
    """
    if raw.flavor != "logger":
        return
    runs = table["run"].unique().tolist()
    for note in raw.notes:
        warn(f"{raw.file}: {note}", DataWarning)
    for column, fix in SIZE_FIXES.items():
        known = table.loc[table[column].notna(), "run"].unique() if column in table.columns else []
        for run in sorted(frozenset(runs) - frozenset(known)):
            reason = raw.unknown.get(column, "the log does not record it")
            warn(f"run {run!r} ({raw.file}): {SIZE_WHAT[column]} is unknown ({reason}); {fix}", DataWarning)


#: Run metadata naming the tokenizer: runs with different values have losses per token that do not compare.
TOKENIZER_COLUMNS = ("tokenizer", "vocab_size")


def check_tokenizers(runs: RunSet, loss_unit: str) -> None:
    """Refuse runs of different tokenizers in one read, unless the loss is per byte (comparable across them)."""
    if loss_unit == "bits_per_byte":
        return
    for column in TOKENIZER_COLUMNS:
        if column not in runs.table.columns:
            continue
        first = runs.table[["run", column]].drop_duplicates("run")
        first = first[first[column].notna() & (first[column].astype(str) != "")]
        values = first[column].astype(str).unique()
        if len(values) > 1:
            a = first[first[column].astype(str) == values[0]].iloc[0]
            b = first[first[column].astype(str) == values[1]].iloc[0]
            raise InputError(
                f"runs use different tokenizers: {a['run']!r} has {column} {values[0]!r} and {b['run']!r} has "
                f"{values[1]!r}, so their losses per token do not compare; read the runs of one tokenizer "
                f"(--where \"{column} == ...\"), or give the loss per byte (--loss-unit bits_per_byte "
                "--bytes-per-token B)", file=runs.sources.get(str(b["run"])), run=str(b["run"]), column=column)


def check_enough_points(runs: RunSet, n_params: int) -> bool:
    """Warn (and return False) when the data has fewer loss points than a law has parameters."""
    points = int(runs.table["loss"].notna().sum())
    if points < n_params:
        warn(f"only {points} loss point(s) for a law with {n_params} parameters: the fit is underdetermined",
             DataWarning)
        return False
    return True
