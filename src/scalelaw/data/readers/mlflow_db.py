"""Reader of MLflow's default sqlite backend (``mlflow.db``) and of MLflow tracking URIs.

The database is opened read-only (``file:...?mode=ro``) with the standard library's
sqlite3 and SQLite's own limits lowered; every column read is checked in SQL for the type
and length MLflow declares before any value reaches Python (see
:mod:`scalelaw.data.sqlite_bounds`); no MLflow import, no server. MLflow's schema: ``experiments``, ``runs``
(``run_uuid``, ``name``, ``experiment_id``, ``lifecycle_stage``), ``metrics`` (``key``,
``value``, ``timestamp``, ``step``, ``is_nan``), ``params`` and ``tags`` (``key``,
``value``, ``run_uuid``). Deleted runs and experiments are skipped. A metric logged
again at a step keeps its latest value (largest timestamp), MLflow's own rule for a
run's latest metrics.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd

from scalelaw.data.aliases import metadata_columns
from scalelaw.data.limits import MAX_COLUMNS, MAX_KEY_CHARS, MAX_QUOTED, quoted
from scalelaw.data.readers.raw import Keys, RawTable
from scalelaw.data.sqlite_bounds import NUMBER, Column, check_table, connect_read_only
from scalelaw.errors import DataWarning, InputError, warn

SQLITE_MAGIC = b"SQLite format 3\x00"
MLFLOW_TABLES = frozenset({"runs", "metrics", "params", "tags", "experiments"})
#: Seconds to wait for a database another process holds locked before giving up.
LOCK_TIMEOUT = 1.0
_URI = re.compile(r"^(sqlite|file):", re.IGNORECASE)
_ID = Column(("text", "integer"), max_length=64)
_NAME = Column(("text",), max_length=MAX_KEY_CHARS)
#: The columns read, with the types MLflow's schema gives them (ids are text in some versions).
MLFLOW_COLUMNS: dict[str, dict[str, Column]] = {
    "experiments": {"experiment_id": _ID, "name": _NAME, "lifecycle_stage": Column(("text",), 32, nullable=True)},
    "runs": {"run_uuid": _ID, "name": Column(("text",), MAX_KEY_CHARS, nullable=True), "experiment_id": _ID,
             "lifecycle_stage": Column(("text",), 32, nullable=True), "start_time": Column(NUMBER, 32, nullable=True)},
    "metrics": {"run_uuid": _ID, "key": _NAME, "value": Column(NUMBER, 64, nullable=True),
                "timestamp": Column(NUMBER, 32, nullable=True), "step": Column(NUMBER, 32),
                "is_nan": Column(NUMBER, 8, nullable=True)},
    "params": {"run_uuid": _ID, "key": _NAME, "value": Column(("text", "integer", "real"), nullable=True)},
    "tags": {"run_uuid": _ID, "key": _NAME, "value": Column(("text", "integer", "real"), nullable=True)},
}


def is_tracking_uri(text: str) -> bool:
    """True for ``sqlite:///...`` and ``file:///...`` (MLflow tracking URIs)."""
    return bool(_URI.match(text))


def tracking_path(uri: str) -> Path:
    """The file or folder an MLflow tracking URI names.

    ``sqlite:///mlflow.db`` is relative and ``sqlite:////abs/mlflow.db`` absolute (SQLAlchemy's
    rule); ``file:///abs/mlruns`` is a file-store folder.
    """
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == "sqlite":
        rest = uri[len("sqlite:") :]
        if not rest.startswith("///"):
            raise InputError(f"a sqlite tracking URI is sqlite:///RELATIVE or sqlite:////ABSOLUTE, got {uri!r}")
        return Path(unquote(rest[3:].split("?", 1)[0]))
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InputError(f"the file URI {uri!r} names another host ({parsed.netloc}); give a local path")
        return Path(unquote(parsed.path))
    raise InputError(f"unsupported tracking URI {uri!r}: use sqlite:///PATH, file:///PATH or a path")


def is_sqlite(head: bytes) -> bool:
    """True when a file's first bytes are SQLite's header."""
    return head.startswith(SQLITE_MAGIC)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        connection = connect_read_only(path, timeout=LOCK_TIMEOUT)
        connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise InputError(_sqlite_problem(exc), file=str(path)) from None
    return connection


def _sqlite_problem(exc: sqlite3.Error) -> str:
    text = str(exc)[:MAX_QUOTED]
    if "locked" in text or "busy" in text:
        return (f"the database is locked by another process ({text}); wait until MLflow stops writing "
                "or copy the file, then read the copy")
    return f"cannot read as an SQLite database: {text}"


def _check_schema(connection: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = MLFLOW_TABLES - tables
    if missing:
        raise InputError(f"an SQLite database, but not MLflow's: no table {sorted(missing)[0]!r} "
                         f"(tables: {', '.join(quoted(t, 40) for t in sorted(tables)[:10]) or 'none'})",
                         file=str(path))
    for table, columns in MLFLOW_COLUMNS.items():
        check_table(connection, path, table, columns)


def read_mlflow_db(path: Path, keys: Keys = Keys()) -> list[RawTable]:
    """Every active run in an MLflow sqlite database as one table each (one row per step)."""
    connection = _connect(path)
    try:
        _check_schema(connection, path)
        runs = connection.execute(
            "SELECT r.run_uuid, r.name, e.name FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id "
            "WHERE r.lifecycle_stage = 'active' AND e.lifecycle_stage = 'active' ORDER BY r.start_time, r.run_uuid"
        ).fetchall()
        names = [str(name or "") or uuid for uuid, name, _ in runs]
        counts = Counter(names)
        tables = []
        for (uuid, _, experiment), name in zip(runs, names, strict=True):
            run = name if counts[name] == 1 else f"{name}-{uuid[:8]}"
            tables.append(_read_run(connection, path, uuid, run, experiment, keys))
    except sqlite3.Error as exc:
        raise InputError(_sqlite_problem(exc), file=str(path)) from None
    finally:
        connection.close()
    if not tables:
        raise InputError("the MLflow database holds no active runs", file=str(path))
    return tables


def _read_run(connection: sqlite3.Connection, path: Path, uuid: str, run: str, experiment: str, keys: Keys
              ) -> RawTable:
    values: dict[str, dict[float, float]] = {}
    relogged = 0
    rows = connection.execute(
        "SELECT key, value, step, is_nan FROM metrics WHERE run_uuid = ? ORDER BY key, step, timestamp", (uuid,)
    )
    for key, value, step, is_nan in rows:
        if is_nan or value is None or not np.isfinite(float(value)):
            raise InputError(f"metric {quoted(key)} is NaN or infinite at step {step}", file=str(path), run=run,
                             column=key)
        series = values.setdefault(str(key), {})
        relogged += float(step) in series
        series[float(step)] = float(value)
    if not values:
        raise InputError("the MLflow run has no metrics", file=str(path), run=run)
    if len(values) > MAX_COLUMNS:
        raise InputError(f"the run has {len(values)} metrics, more than the {MAX_COLUMNS} allowed", file=str(path), run=run)
    if relogged:
        warn(f"run {run!r} ({path}): {relogged} metric value(s) logged again at a step already logged; "
             "the latest is kept, as MLflow does", DataWarning)
    kept = keys.select(values, file=f"{path} (run {run})")
    frame = pd.concat([pd.Series(values[k], name=k, dtype="float64") for k in kept], axis=1).sort_index()
    params = dict(connection.execute("SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key", (uuid,)).fetchall())
    tags = dict(connection.execute("SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key", (uuid,)).fetchall())
    constants = {**tags, "mlflow.experiment": experiment, **metadata_columns(params, file=str(path))}
    frame = frame.assign(**{k: v for k, v in constants.items() if k not in frame.columns})
    frame.insert(0, "_step", frame.index.to_numpy(dtype="float64"))
    frame = frame.reset_index(drop=True)
    return RawTable(frame, np.arange(1, len(frame) + 1), str(path), run, "logger")


def read_mlflow_sqlite(path: Path, *, keys: Keys = Keys()) -> list[RawTable]:
    """An ``mlflow.db`` file, or the one in the folder given."""
    return read_mlflow_db(path / "mlflow.db" if path.is_dir() else path, keys)
