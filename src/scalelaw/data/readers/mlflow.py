"""Reader of MLflow run folders (``mlruns/<experiment>/<run_id>/``).

Each metric file ``metrics/<name>`` holds lines ``timestamp value step``; metrics are
joined on step. ``params/`` and ``tags/`` files become constant columns (a param keeps its name when
it is run metadata such as ``batch_size``, ``n_params`` and its aliases are ``params``, others are
``param.<name>``: see :mod:`scalelaw.data.aliases`); the run id is
``run_name`` from ``meta.yaml`` (else the ``mlflow.runName`` tag, else the folder name).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.data.aliases import metadata_columns
from scalelaw.data.guards import (
    MAX_LOG_FILE_BYTES,
    MAX_SMALL_FILE_BYTES,
    check_inside,
    files_under,
    read_capped,
)
from scalelaw.data.readers.raw import Keys, RawTable
from scalelaw.errors import DataWarning, InputError, warn


def is_mlflow_run(path: Path) -> bool:
    """True for an MLflow run folder (one with a ``metrics`` folder)."""
    return path.is_dir() and (path / "metrics").is_dir()


def mlflow_runs(path: Path) -> list[Path]:
    """Run folders at or under ``path`` (a run, an experiment or an ``mlruns`` root), none linked from outside."""
    if is_mlflow_run(path):
        return [path]
    found = sorted(p.parent for p in path.glob("*/metrics") if p.is_dir())
    found += sorted(p.parent for p in path.glob("*/*/metrics") if p.is_dir())
    return [check_inside(path, run / "metrics").parent for run in found]


def _files(folder: Path) -> dict[str, Path]:
    """``{name: file}`` under a folder; nested folders give names like ``train/loss``; no link out of the run."""
    if not folder.is_dir():
        return {}
    check_inside(folder.parent, folder)
    return {p.relative_to(folder).as_posix(): p for p in files_under(folder)}


def _read_text(path: Path, max_bytes: int = MAX_SMALL_FILE_BYTES) -> str:
    try:
        return read_capped(path, max_bytes).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read as text: {exc}", file=str(path)) from None


def _metric(name: str, path: Path) -> pd.Series:
    """One metric file; a step logged again keeps the value with the latest timestamp (MLflow's rule)."""
    values: dict[float, tuple[float, float]] = {}
    relogged = 0
    for number, line in enumerate(_read_text(path, MAX_LOG_FILE_BYTES).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) not in (2, 3):
            raise InputError("expected 'timestamp value step' on this line", file=str(path), row=number, column=name)
        try:
            timestamp = float(parts[0])
            value = float(parts[1])
            step = float(parts[2]) if len(parts) == 3 else 0.0
        except ValueError:
            raise InputError(f"{line.strip()[:40]!r} does not hold numbers", file=str(path), row=number, column=name) from None
        if not np.isfinite(value):
            raise InputError(f"value is {parts[1]} (NaN or infinite)", file=str(path), row=number, column=name)
        if step in values:
            relogged += 1
            if timestamp < values[step][0]:
                continue
        values[step] = (timestamp, value)
    if relogged:
        warn(f"file {path}: {relogged} value(s) of {name!r} logged again at a step already logged; the latest "
             "is kept, as MLflow does", DataWarning)
    return pd.Series({step: value for step, (_, value) in values.items()}, name=name, dtype="float64")


def _run_name(folder: Path, tags: dict[str, str]) -> str:
    meta = folder / "meta.yaml"
    if meta.is_file():
        from scalelaw.data.safe_yaml import load_yaml  # only MLflow folders need PyYAML

        check_inside(folder, meta)
        content = load_yaml(_read_text(meta), file=str(meta))
        if isinstance(content, dict) and content.get("run_name"):
            return str(content["run_name"])
    return tags.get("mlflow.runName") or folder.name


def read_mlflow_run(folder: Path, keys: Keys = Keys()) -> RawTable:
    """One MLflow run folder as a table: one row per step, one column per metric, params, tags."""
    files = _files(folder / "metrics")
    metrics = [_metric(name, files[name]) for name in keys.select(files, file=str(folder / "metrics"))]
    if not metrics:
        raise InputError("the MLflow run has no metric files", file=str(folder / "metrics"))
    frame = pd.concat(metrics, axis=1).sort_index()
    params = {n: _read_text(p).strip() for n, p in _files(folder / "params").items()}
    tags = {n: _read_text(p).strip() for n, p in _files(folder / "tags").items()}
    named = {**tags, **metadata_columns(params, file=str(folder))}
    frame = frame.assign(**{k: v for k, v in named.items() if k not in frame.columns})
    frame.insert(0, "_step", frame.index.to_numpy(dtype="float64"))
    frame = frame.reset_index(drop=True)
    return RawTable(frame, np.arange(1, len(frame) + 1), str(folder), _run_name(folder, tags), "logger")


def read_mlflow(path: Path, *, keys: Keys = Keys()) -> list[RawTable]:
    """Every run of an MLflow file store (``mlruns/``), experiment or run folder."""
    return [read_mlflow_run(run, keys) for run in mlflow_runs(path)]
