"""The run model: many runs, each a curve of logged points, in one long table.

A :class:`RunSet` wraps a pandas DataFrame with one row per logged point. Only ``run``
and ``loss`` are always present; the other canonical columns appear when the data has
them. Per-run metadata (``params``, ``batch_size``, ...) is stored as columns that are
constant within a run, so the table stays flat and round-trips through Parquet. Data
with only a final loss per run is simply a run with one point.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from typing import TYPE_CHECKING

import numpy as np

from scalelaw._lazy import lazy
from scalelaw.data.guards import BIDI_CONTROLS
from scalelaw.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

#: Columns with a fixed meaning; anything else is kept as an extra metric or tag.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "run",
    "step",
    "tokens",
    "loss",
    "lr",
    "params",
    "batch_size",
    "flops",
    "unique_tokens",
)

#: Per-run metadata columns (constant within a run) and their meaning.
META_COLUMNS: dict[str, str] = {
    "params": "model size N in parameters (total unless non_embedding_params says otherwise)",
    "non_embedding_params": "model size without embedding parameters",
    "embedding_params": "embedding (and unembedding) parameters",
    "batch_size": "batch size in tokens per optimizer step",
    "batch_sequences": "sequences per optimizer step (times seq_len gives batch_size)",
    "seq_len": "sequence length in tokens",
    "dataset": "name of the training data",
}

#: Numeric columns, stored as float64 (NaN where not logged).
NUMERIC_COLUMNS: tuple[str, ...] = (
    "step",
    "tokens",
    "loss",
    "lr",
    "params",
    "non_embedding_params",
    "embedding_params",
    "batch_size",
    "batch_sequences",
    "seq_len",
    "flops",
    "unique_tokens",
)

#: Longest run id accepted.
MAX_RUN_NAME = 1000


def run_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of a run column (codes in first-seen order, and the names), read straight from
    the codes of a categorical column whose runs are grouped (how readers hand runs on: no hashing)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categorical = column.array  # its codes and categories as they are (no Series made of either)
        raw, categories = categorical.codes, categorical.categories
        rise = np.diff(raw)  # int8 codes wrap only to -128, which is refused below as well
        if raw.size and raw[0] == 0 and (rise.size == 0 or (rise.min() >= 0 and rise.max() <= 1)):
            # grouped, the runs numbered in first-seen order already (how normalising hands them on)
            return raw.astype(np.int64), np.asarray(categories, dtype=object)[: int(raw[-1]) + 1]
        if raw.size and raw.min() >= 0 and (raw[1:] >= raw[:-1]).all():
            new_run = np.concatenate([[True], raw[1:] != raw[:-1]])
            names = np.asarray(categories, dtype=object)[raw[new_run]]
            return np.cumsum(new_run) - 1, names
    codes, names = pd.factorize(column)
    return codes, np.asarray(names, dtype=object)


def run_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a run id (control characters such as NUL, newline or escape; too long), or None."""
    if len(name) > MAX_RUN_NAME:
        return f"is longer than {MAX_RUN_NAME} characters"
    if name.isprintable():  # no control (Cc) nor format (Cf) character, so no bidi control: one C-level scan
        return None
    bad = next((c for c in name if unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS), None)
    if bad is not None:
        return f"holds the control character {bad!r} (NUL, newlines, escapes and bidi controls are not allowed)"
    return None


@dataclass(frozen=True)
class RunSet:
    """A collection of runs as one long table, plus where each run came from.

    ``table`` has one row per logged point, sorted by run then step. A row whose
    ``loss`` is NaN but whose ``lr`` is set carries the learning-rate schedule between
    evaluations. ``sources`` maps a run id to the file it was read from, for errors.
    A RunSet is immutable: derive new ones (``select``, ``where``, ``target``) rather than
    editing ``table`` in place, since run codes and per-run curves are cached on it.
    """

    table: pd.DataFrame
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for column in ("run", "loss"):
            if column not in self.table.columns:
                raise InputError(f"the run table has no {column!r} column", column=column)

    # -- run codes ------------------------------------------------------------------
    @cached_property
    def _index(self) -> _RunIndex:
        """The run column factorised once: every selection is then an integer take, O(rows)."""
        return _RunIndex.of(self.table["run"])

    @classmethod
    def from_codes(cls, table: pd.DataFrame, sources: Mapping[str, str], codes: np.ndarray, names: np.ndarray
                   ) -> RunSet:
        """A run set whose ``run`` column is ``names[codes]`` (codes in first-seen order), factorised already:
        the reader has the codes, so they are not computed again from the strings."""
        runs = cls(table, sources)
        runs.__dict__["_index"] = _RunIndex.from_codes(np.asarray(codes), np.asarray(names, dtype=object))
        return runs

    # -- inspection -----------------------------------------------------------------
    @property
    def runs(self) -> list[str]:
        """Run ids in table order."""
        return list(self._index.names)

    def __len__(self) -> int:
        return len(self._index.names)

    def __contains__(self, run: object) -> bool:
        try:
            return run in self._index.lookup
        except TypeError:  # an unhashable object is no run id
            return False

    @property
    def columns(self) -> list[str]:
        return list(self.table.columns)

    def has(self, column: str) -> bool:
        """True if ``column`` exists and holds at least one value."""
        return column in self.table.columns and bool(self.table[column].notna().any())

    def rows_of(self, run: str) -> np.ndarray:
        """Positions (in table order) of the rows of ``run``."""
        if run not in self:
            raise InputError(f"no run named {run!r}; known runs: {', '.join(self.runs[:10])}")
        return self._index.rows(np.array([self._index.lookup.get_loc(run)], dtype=np.int64))

    def curve(self, run: str) -> pd.DataFrame:
        """The rows of one run, sorted by step."""
        return self.table.take(self.rows_of(run)).reset_index(drop=True)

    def curves(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """Yield ``(run, rows)`` for every run, in table order."""
        ordered, names, starts = self.grouped()
        for code, name in enumerate(names):
            yield name, ordered.iloc[starts[code] : starts[code + 1]].reset_index(drop=True)

    def grouped(self) -> tuple[pd.DataFrame, list[str], np.ndarray]:
        """The table with each run's rows together (table order within a run), the runs, and where each starts:
        run k's rows are ``table.iloc[starts[k]:starts[k + 1]]``. One take, for code that handles runs in bulk."""
        index = self._index
        ordered = self.table if index.grouped else self.table.take(index.order).reset_index(drop=True)
        return ordered, [str(name) for name in index.names], index.starts

    def final(self) -> pd.DataFrame:
        """One row per run: its last row with a loss (the final-loss view of the data)."""
        logged = np.flatnonzero(self.table["loss"].notna().to_numpy())
        last = np.full(len(self._index.names), -1, dtype=np.int64)
        np.maximum.at(last, self._index.codes[logged], logged)
        return self.table.take(np.sort(last[last >= 0])).reset_index(drop=True)

    def meta(self, run: str) -> dict[str, object]:
        """The per-run metadata columns of ``run`` (first non-missing value of each)."""
        rows = self.curve(run)
        out: dict[str, object] = {}
        for column in META_COLUMNS:
            if column in rows.columns:
                values = rows[column].dropna()
                if not values.empty:
                    out[column] = values.iloc[0]
        return out

    def loss_sources(self) -> list[str]:
        """The columns the loss was read from (``loss_source``), sorted; empty when not recorded."""
        return self.loss_sources_of(self.table)

    @staticmethod
    def loss_sources_of(table: pd.DataFrame) -> list[str]:
        """:meth:`loss_sources` of a bare table (a run's rows), without making a run set of it."""
        if "loss_source" not in table.columns:
            return []
        return sorted({str(v) for v in table["loss_source"].dropna().unique() if str(v)})

    def source(self, run: str) -> str | None:
        return self.sources.get(run)

    # -- derivation -----------------------------------------------------------------
    def select(self, runs: Iterable[str]) -> RunSet:
        """The runs named, in the order given (a name given twice is taken twice), in O(rows) time."""
        wanted = list(runs)
        codes = self._index.lookup.get_indexer(pd.Index(wanted, dtype=object)).astype(np.int64) if wanted else \
            np.empty(0, dtype=np.int64)
        if codes.size and codes.min() < 0:
            missing = wanted[int(np.argmin(codes))]
            raise InputError(f"no run named {missing!r}; known runs: {', '.join(self.runs[:10])}")
        return self.take(codes)

    def take(self, codes: np.ndarray) -> RunSet:
        """The runs with these codes (positions in :attr:`runs`), in the order given: the integer
        take that folds and resamples use (no per-run masks over the table)."""
        codes = np.asarray(codes, dtype=np.int64)
        table = self.table.take(self._index.rows(codes)).reset_index(drop=True)
        names = self._index.names[np.unique(codes)] if codes.size else []
        sources = {r: self.sources[r] for r in names if r in self.sources}
        subset = RunSet(table, sources)
        subset.__dict__["_whole_runs_of"] = self.whole_runs_root()  # its runs are that set's runs, row for row
        return subset

    def whole_runs_root(self) -> RunSet:
        """The run set this one took whole runs from (itself if it was not made by :meth:`select`/:meth:`take`).

        A run of this set has exactly the rows it has there, so what is derived from one run
        (a curve, a schedule) can be built once, on the root, and shared by every fold and resample.
        """
        return self.__dict__.get("_whole_runs_of", self)

    def per_run_cache(self, kind: str) -> dict[str, object]:
        """A cache of values derived from single runs (keyed by run id), shared with the root set."""
        caches = self.whole_runs_root().__dict__.setdefault("_per_run_caches", {})
        return caches.setdefault(kind, {})

    def where(self, expression: str) -> RunSet:
        """Rows for which a filter holds, e.g. ``"subset == 'paper'"`` (see :mod:`scalelaw.data.filter`)."""
        from scalelaw.data.filter import filter_rows

        table = filter_rows(self.table, expression)
        kept = set(table["run"].tolist())
        return RunSet(table, {r: s for r, s in self.sources.items() if r in kept})

    @classmethod
    def concat(cls, parts: Iterable[RunSet], *, qualify: bool = False) -> RunSet:
        """Join run sets; a run id present in two of them is an error, never a merge.

        With ``qualify``, a run id that two parts from different sources share is instead
        made distinct: each such run becomes ``SOURCE/run`` (one warning says so).
        """
        parts = list(parts)
        if qualify:
            parts = _qualified(parts)
        if len(parts) == 1 and parts[0].table.index.equals(pd.RangeIndex(len(parts[0].table))):
            return parts[0]  # immutable: shared as it is, with its run codes
        if len(parts) > 1:
            _refuse_shared_runs(parts)
        table = pd.concat([p.table for p in parts], ignore_index=True) if parts else pd.DataFrame(
            {"run": pd.Series(dtype=str), "loss": pd.Series(dtype=float)}
        )
        sources: dict[str, str] = {}
        for part in parts:
            sources.update(part.sources)
        return cls(table, sources)

    def target(self, metric: str, *, window: int = 1) -> RunSet:
        """The runs with ``metric`` in the ``loss`` slot, which is what every law fits.

        Any logged column can be the target (another validation loss, a task's bpb, an
        accuracy). The displaced loss is kept as ``orig_loss`` (the convention for a
        canonical name displaced by a mapping). ``window`` > 1 replaces each value by the
        mean of the run's last ``window`` logged values (OLMo's smoothing of noisy evals).
        Runs that never log ``metric`` are left out; none logging it is an error.
        """
        if metric not in self.table.columns:
            shown = ", ".join(c for c in self.columns if c != "run")
            raise InputError(f"no column {metric!r} to fit (columns: {shown[:600]})", column=metric)
        if window < 1:
            raise InputError(f"the smoothing window must be at least 1, got {window!r}")
        values = self.table[metric]
        if values.dtype.kind not in "fiu":
            raise InputError(f"column {metric!r} is not numeric, so no law can be fitted to it", column=metric)
        values = values.astype(float)
        has = values.notna().groupby(self.table["run"], sort=False).any()
        if not has.any():
            raise InputError(f"no run logs {metric!r}", column=metric)
        table = self.table[self.table["run"].isin(has.index[has])].copy()
        values = values.loc[table.index]
        if window > 1:
            logged = values.dropna()
            smoothed = logged.groupby(table.loc[logged.index, "run"], sort=False).transform(
                lambda v: v.rolling(window, min_periods=1).mean()
            )
            values = values.copy()
            values.loc[smoothed.index] = smoothed
        if metric != "loss":
            table["orig_loss"] = table["loss"]
        table["loss"] = values
        kept = set(table["run"].tolist())
        return RunSet(table.reset_index(drop=True), {r: s for r, s in self.sources.items() if r in kept})

    def require(self, columns: Iterable[str], *, purpose: str) -> None:
        """Raise an :class:`InputError` naming the first run that lacks a needed column."""
        for column in columns:
            if column not in self.table.columns:
                raise InputError(
                    f"{purpose} needs a {column!r} column, which the data does not have "
                    f"(columns: {', '.join(self.columns)}); map one with --map {column}=NAME",
                    file=next(iter(self.sources.values()), None),
                    column=column,
                )
            has = np.bincount(self._index.codes, weights=self.table[column].notna().to_numpy(),
                              minlength=len(self._index.names)) > 0
            if not has.all():
                run = str(self._index.names[int(np.argmin(has))])
                raise InputError(
                    f"{purpose} needs {column!r}, which this run never sets",
                    file=self.source(run),
                    run=run,
                    column=column,
                )

    def data_hash(self) -> str:
        """A SHA-256 of the table's content, stable across processes and platforms.

        Computed once per run set (it is immutable): ``--law auto`` fits every candidate on
        the same one, and each fit records the hash.
        """
        cached = self.__dict__.get("_data_hash")
        if cached is None:
            cached = self.__dict__["_data_hash"] = self._table_hash()
        return cached

    def _table_hash(self) -> str:
        """:meth:`data_hash` computed."""
        digest = hashlib.sha256()
        for column in sorted(self.table.columns):
            digest.update(column.encode())
            values = self.table[column]
            if values.dtype.kind in "fiub":
                digest.update(np.ascontiguousarray(values.to_numpy(dtype="float64")).tobytes())
            else:
                digest.update("\x1f".join(values.astype(str).tolist()).encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class _RunIndex:
    """The run column as integer codes: ``codes[i]`` is row i's run (a position in ``names``);
    ``order`` lists the rows run by run (table order within a run), run k's rows being
    ``order[starts[k]:starts[k + 1]]``; ``lookup`` finds a run's code (a hash index: about
    50 bytes per run with its name, where a dict took twice that); ``grouped``: each run's rows are
    together in the table already (``order`` is then the identity, made only when asked for)."""

    names: np.ndarray
    codes: np.ndarray
    starts: np.ndarray
    lookup: pd.Index
    grouped: bool = False

    @cached_property
    def order(self) -> np.ndarray:
        """The rows run by run: the identity when grouped, else a stable sort of the codes."""
        return np.arange(self.codes.size, dtype=np.int64) if self.grouped else np.argsort(self.codes, kind="stable")

    @classmethod
    def of(cls, column: pd.Series) -> _RunIndex:
        codes, names = pd.factorize(column, sort=False, use_na_sentinel=False)
        return cls.from_codes(codes, np.asarray(names, dtype=object))

    @classmethod
    def from_codes(cls, codes: np.ndarray, names: np.ndarray) -> _RunIndex:
        codes = codes.astype(np.int64, copy=False)
        counts = np.bincount(codes, minlength=names.size)
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        grouped = codes.size < 2 or bool((codes[1:] >= codes[:-1]).all())  # each run's rows together already
        return cls(names, codes, starts, pd.Index(names, dtype=object), grouped)

    def rows(self, codes: np.ndarray) -> np.ndarray:
        """Row positions of the runs ``codes``, run after run: one gather, O(rows taken)."""
        first, count = self.starts[codes], self.starts[codes + 1] - self.starts[codes]
        offsets = np.repeat(first - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
        places = np.arange(int(count.sum()), dtype=np.int64) + offsets  # positions in the order
        return places if self.grouped else self.order[places]


def _refuse_shared_runs(parts: list[RunSet]) -> None:
    """Raise an InputError naming the first run id that two parts share (one pass over all run ids)."""
    names = np.concatenate([part._index.names for part in parts])
    repeated = pd.Index(names).duplicated()
    if not repeated.any():
        return
    later = int(np.argmax(repeated))
    run = names[later]
    owner = np.repeat(np.arange(len(parts)), [len(part) for part in parts])
    earlier = int(np.flatnonzero(names[:later] == run)[0])
    first, second = parts[owner[earlier]], parts[owner[later]]
    raise InputError(
        f"run {run!r} appears in both {first.source(run) or 'an input'} and {second.source(run) or 'another input'}",
        run=run,
    )


def source_label(source: str) -> str:
    """A short name for a run's source: ``dataset:NAME`` gives NAME, a path its last part."""
    text = source.removeprefix("dataset:").rstrip("/\\")
    return text.replace("\\", "/").rsplit("/", 1)[-1] or text


def _qualified(parts: list[RunSet]) -> list[RunSet]:
    """The parts with every run id shared by parts of different sources renamed ``SOURCE/run``."""
    if len(parts) < 2:
        return parts
    owners: dict[str, set[str]] = {}
    for part in parts:
        for run in part.runs:
            owners.setdefault(run, set()).add(part.source(run) or "")
    shared = {run for run, sources in owners.items() if len(sources) > 1 and "" not in sources}
    if not shared:
        return parts
    from scalelaw.errors import DataWarning, warn

    warn(
        f"{len(shared)} run id(s) appear in more than one input (e.g. {sorted(shared)[0]!r}); they are distinct "
        "runs, named SOURCE/run from here on",
        DataWarning,
    )
    out = []
    for part in parts:
        renames = {run: f"{source_label(part.source(run) or '')}/{run}" for run in part.runs if run in shared}
        if not renames:
            out.append(part)
            continue
        table = part.table.copy()
        table["run"] = table["run"].map(lambda r: renames.get(r, r))
        sources = {renames.get(r, r): s for r, s in part.sources.items()}
        out.append(RunSet(table, sources))
    return out
