"""A folder of runs that survives crashes and concurrent writers.

Layout: ``runs/<name>.parquet`` (one file per run) and ``manifest.json`` (what is in
the store). Every file is written to a temporary name in the same folder, fsynced and
moved into place with ``os.replace``; the manifest is rewritten under an exclusive
``fcntl.flock`` on ``.lock``, and a run enters it only after its Parquet is complete.
So a crash at any moment leaves a store that opens and holds only complete runs; files
the manifest does not name (left by a crash) are removed by the next writer.

The store trusts nothing it finds on disk: it deletes only files it names itself
(``RUN_FILE`` and the temp files of :mod:`scalelaw.data.atomic`), never follows a symlink
(a symlinked ``runs/`` or run file is refused), refuses to write into a folder that is
neither a store nor empty, and rejects a manifest whose entries name any other file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from scalelaw.data.atomic import TEMP_PREFIX, WriteError, atomic_write, flush_folder
from scalelaw.data.runs import RunSet
from scalelaw.data.guards import read_capped
from scalelaw.data.parquet_bounds import read_parquet_bounded
from scalelaw.data.validate import validate_table
from scalelaw.errors import InputError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
LOCK = ".lock"
#: The name of every run file the store writes (slug, run-name hash, random suffix).
RUN_FILE = re.compile(r"[A-Za-z0-9_.-]{0,40}-[0-9a-f]{12}-[0-9a-f]{8}\.parquet")
#: Folders other scalelaw tools keep inside a store (the ladder's checkpoints); never deleted by the store.
COMPANION_FOLDERS = frozenset({"ladder-checkpoints"})
#: Largest manifest read (bytes): about a million runs.
MAX_MANIFEST_BYTES = 256 * 2**20


class RunStore:
    """Runs kept as Parquet files plus a JSON manifest in one folder (created on first write)."""

    def __init__(self, path: str | Path = "./scalelaw-runs") -> None:
        self.path = Path(path)
        self.runs_dir = self.path / "runs"
        self.manifest_path = self.path / MANIFEST

    # -- locking and atomic files ---------------------------------------------------
    @contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        """Hold the store's lock: exclusive for writers, shared for readers (read-only folders work)."""
        lock = self.path / LOCK
        if exclusive:
            self._claim_folder()
        elif not lock.exists():  # never written to: nothing to wait for
            yield
            return
        self._check_runs_dir()
        if lock.is_symlink() or (lock.exists() and not lock.is_file()):  # opening a FIFO to read would block
            raise InputError("the store's lock file is a symlink or not a regular file; refusing to use it",
                             file=str(lock))
        with open(lock, "a+b" if exclusive else "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _claim_folder(self) -> None:
        """Create the store, or check that the folder is one: a store, empty, or holding only store files."""
        if self.path.exists() and not self.path.is_dir():
            raise InputError("the run store path is a file, not a folder", file=str(self.path))
        if self.path.is_dir() and not self.manifest_path.exists():
            foreign = [p.name for p in self.path.iterdir() if not self._owned_top_level(p)]
            if foreign:
                raise InputError(f"the folder is not a scalelaw run store and not empty (it holds {foreign[0]!r}); "
                                 "choose an empty or new folder with --store", file=str(self.path))
        self._check_runs_dir()
        self.runs_dir.mkdir(parents=True, exist_ok=True)

    def _owned_top_level(self, path: Path) -> bool:
        """A file or folder a store creates in its own folder before its first manifest."""
        if path.name == LOCK and path.is_file() and not path.is_symlink():
            return True
        if path.name.startswith(TEMP_PREFIX) and not path.is_dir():
            return True
        if path.name in COMPANION_FOLDERS and path.is_dir() and not path.is_symlink():
            return True
        return path == self.runs_dir and not path.is_symlink() and path.is_dir() and all(
            self._owned_run_file(child) for child in path.iterdir())

    @staticmethod
    def _owned_run_file(path: Path) -> bool:
        """A file in ``runs/`` the store wrote: its run-file naming or its temp files, never a folder."""
        return not path.is_dir() and (RUN_FILE.fullmatch(path.name) is not None or path.name.startswith(TEMP_PREFIX))

    def _check_runs_dir(self) -> None:
        if self.runs_dir.is_symlink() or (self.runs_dir.exists() and not self.runs_dir.is_dir()):
            raise InputError("the store's runs/ is a symlink or not a folder; refusing to use it",
                             file=str(self.runs_dir))

    def _read_manifest(self) -> dict[str, dict[str, object]]:
        if not self.manifest_path.exists():
            return {}
        try:
            if self.manifest_path.is_symlink() or not self.manifest_path.is_file():
                raise ValueError("it is a symlink or not a regular file")  # a FIFO would block the read
            if self.manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
                raise ValueError(f"it is larger than {MAX_MANIFEST_BYTES >> 20} MB")
            raw = read_capped(self.manifest_path, MAX_MANIFEST_BYTES)
            runs = json.loads(raw.decode("utf-8"))["runs"]
            if not isinstance(runs, dict):
                raise TypeError("'runs' is not an object")
            owners: dict[str, str] = {}
            for run, entry in runs.items():
                self._check_entry(run, entry)
                other = owners.setdefault(str(entry["file"]), run)
                if other != run:  # replacing or removing one would delete the other's data
                    raise ValueError(f"runs {other[:100]!r} and {run[:100]!r} name the same file {entry['file']!r}")
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise InputError(f"the run store's manifest is damaged: {exc}", file=str(self.manifest_path)) from None
        return runs

    @staticmethod
    def _check_entry(run: str, entry: object) -> None:
        """An entry must name one of the store's own run files, directly inside ``runs/``."""
        if not isinstance(entry, dict):
            raise TypeError(f"the entry of run {run!r} is not an object")
        name = entry.get("file")
        folder, _, base = name.partition("/") if isinstance(name, str) else ("", "", "")
        if folder != "runs" or RUN_FILE.fullmatch(base) is None:
            shown = repr(name)[:80]
            raise ValueError(f"run {run!r} names the file {shown}, not a run file inside the store's runs/ folder")

    def _write_manifest(self, runs: dict[str, dict[str, object]]) -> None:
        text = json.dumps({"version": FORMAT_VERSION, "runs": runs}, indent=1, sort_keys=True).encode()
        atomic_write(self.manifest_path, lambda handle: handle.write(text))

    def _clean_orphans(self, runs: dict[str, dict[str, object]]) -> None:
        """Remove run and temp files a crash left (only the store's own names; symlinks are unlinked, not followed)."""
        named = {str(entry["file"]) for entry in runs.values()}
        for path in self.runs_dir.iterdir():
            if self._owned_run_file(path) and f"runs/{path.name}" not in named:
                path.unlink(missing_ok=True)
        for path in self.path.glob(f"{TEMP_PREFIX}*"):
            if not path.is_dir():
                path.unlink(missing_ok=True)

    # -- public API -----------------------------------------------------------------
    def put(self, runs: RunSet | pd.DataFrame, *, overwrite: bool = False) -> list[str]:
        """Record runs (all or none); a run already stored is refused unless ``overwrite``."""
        runset = runs if isinstance(runs, RunSet) else RunSet(runs.reset_index(drop=True))
        if not runset.runs:
            raise InputError("nothing to store: the run set is empty")
        validate_table(runset.table, file=next(iter(runset.sources.values()), "the runs to store"))
        with self._locked(exclusive=True):
            manifest = self._read_manifest()
            self._clean_orphans(manifest)
            present = [r for r in runset.runs if r in manifest]
            if present and not overwrite:
                raise InputError(f"the store already holds run {present[0]!r} (use overwrite to replace it)",
                                 file=str(self.path), run=present[0])
            replaced = [str(manifest[r]["file"]) for r in present]
            ordered, names, starts = runset.grouped()
            arrow = pa.Table.from_pandas(ordered, preserve_index=False, nthreads=1)  # once, sliced per run
            with self._undone_on_failure() as written:
                for code, run in enumerate(names):
                    first, count = int(starts[code]), int(starts[code + 1] - starts[code])
                    rows = ordered.iloc[first : first + count]
                    manifest[run] = self._write_run(run, rows, runset.source(run), arrow.slice(first, count))
                    written.append(str(manifest[run]["file"]))
                flush_folder(self.runs_dir)
                self._write_manifest(manifest)
            for name in replaced:
                (self.path / name).unlink(missing_ok=True)
        return runset.runs

    @contextmanager
    def _undone_on_failure(self) -> Iterator[list[str]]:
        """Collect the run files a write adds; if writing fails (a full disk), remove them and say so.

        The manifest is replaced atomically, so after a failure it still names the old
        files only; the new ones would be orphans until the next write.
        """
        written: list[str] = []
        try:
            yield written
        except WriteError as exc:
            for name in written:
                (self.path / name).unlink(missing_ok=True)
            raise InputError(f"cannot write to the run store: {exc.reason}; the store is unchanged (the files written "
                             "so far were removed)", file=str(self.path)) from None

    def _write_run(self, run: str, rows: pd.DataFrame, source: str | None,
                   table: pa.Table | None = None) -> dict[str, object]:
        """Write one run's file (``table``: ``rows`` as Arrow, when the caller converted many runs at once)
        without syncing the folder (the caller does, once, before the manifest names the file)."""
        slug = re.sub(r"[^A-Za-z0-9_.-]", "_", run)[:40]
        digest = hashlib.sha256(run.encode()).hexdigest()[:12]
        name = f"{slug}-{digest}-{uuid.uuid4().hex[:8]}.parquet"
        if table is None:
            table = pa.Table.from_pandas(rows, preserve_index=False, nthreads=1)
        import pyarrow.parquet as pq  # writing a store only: not imported by every command that may read one

        atomic_write(self.runs_dir / name, lambda handle: pq.write_table(table, handle), sync_folder=False)
        losses, params, steps = (_present(rows, column) for column in ("loss", "params", "step"))
        sources = RunSet.loss_sources_of(rows)
        return {
            "file": f"runs/{name}",
            "rows": len(rows),
            "points": len(losses),
            "params": float(params[0]) if len(params) else None,
            "final_loss": float(losses[-1]) if len(losses) else None,
            "last_step": float(steps[-1]) if len(steps) else None,
            "loss_source": ", ".join(sources) if sources else None,
            "source": str(Path(source).resolve()) if source and Path(source).exists() else source,
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def append(self, run: str, points: pd.DataFrame, *, source: str | None = None) -> int:
        """Add points (with a ``step`` column) to ``run``, creating it; returns the run's row count.

        Under the store's exclusive lock the run's file is read, merged and rewritten
        atomically, so several processes may append at once. A point at a step the run already
        has fills in or replaces that step's values (a later write wins, column by column;
        a missing value never erases a logged one).
        """
        if "step" not in points.columns or points.empty:
            raise InputError("points to append need a 'step' column and at least one row", file=str(self.path), run=run)
        new = points.assign(run=run)
        with self._locked(exclusive=True):
            manifest = self._read_manifest()
            self._clean_orphans(manifest)
            old_entry = manifest.get(run)
            if old_entry is not None:
                new = pd.concat([self._read_run(run, old_entry), new], ignore_index=True)
            merged = new.groupby("step", sort=True, as_index=False).last()
            ordered = [c for c in ("run", "step") if c in merged.columns]
            merged = merged[ordered + [c for c in merged.columns if c not in ordered]]
            validate_table(merged, file=str(self.path))
            with self._undone_on_failure() as written:
                manifest[run] = self._write_run(run, merged, source or (old_entry or {}).get("source"))
                written.append(str(manifest[run]["file"]))
                flush_folder(self.runs_dir)
                self._write_manifest(manifest)
            if old_entry is not None:
                (self.path / str(old_entry["file"])).unlink(missing_ok=True)
        return len(merged)

    def has(self, run_id: str) -> bool:
        """True if the store holds ``run_id``."""
        with self._locked(exclusive=False):
            return run_id in self._read_manifest()

    def list(self) -> list[dict[str, object]]:
        """One dict per stored run: run, rows, points, params, final_loss, last_step, loss_source, source, written."""
        with self._locked(exclusive=False):
            manifest = self._read_manifest()
        shown = ({k: v for k, v in entry.items() if k != "file"} for entry in manifest.values())
        return [{"run": run, "last_step": None, "loss_source": None, **entry} for run, entry in zip(manifest, shown)]

    def load(self, runs: Iterable[str] | None = None) -> RunSet:
        """The stored runs (all, or those named) as one RunSet."""
        with self._locked(exclusive=False):
            manifest = self._read_manifest()
            wanted = list(manifest) if runs is None else list(runs)
            missing = [r for r in wanted if r not in manifest]
            if missing:
                raise InputError(f"the store has no run {missing[0]!r}", file=str(self.path), run=missing[0])
            tables = [self._read_run(run, manifest[run]) for run in wanted]
        sources = {run: str(manifest[run].get("source") or self.path) for run in wanted}
        if not tables:
            return RunSet.concat([])
        return RunSet(pd.concat(tables, ignore_index=True), sources)

    def _read_run(self, run: str, entry: dict[str, object]) -> pd.DataFrame:
        path = self.path / str(entry["file"])
        try:
            if path.is_symlink() or not path.is_file():
                raise OSError("it is missing, a symlink or not a regular file")
            return read_parquet_bounded(path)
        except InputError:
            raise
        except Exception as exc:  # pyarrow raises several error types for a damaged file
            raise InputError(f"cannot read the stored run: {exc}", file=str(path), run=run) from None

    def remove(self, run_id: str) -> None:
        """Delete one run from the store."""
        with self._locked(exclusive=True):
            manifest = self._read_manifest()
            if run_id not in manifest:
                raise InputError(f"the store has no run {run_id!r}", file=str(self.path), run=run_id)
            entry = manifest.pop(run_id)
            self._write_manifest(manifest)
            (self.path / str(entry["file"])).unlink(missing_ok=True)


def _present(rows: pd.DataFrame, column: str) -> np.ndarray:
    """The non-missing values of ``column`` in row order (none when the column is absent)."""
    if column not in rows.columns:
        return np.empty(0)
    values = rows[column].to_numpy()
    return values[pd.notna(values)]
