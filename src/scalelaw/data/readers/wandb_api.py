"""W&B run history pulled live through ``wandb.Api()`` (needs the optional ``wandb`` package and a key).

:func:`read_wandb_api` takes any object with wandb's ``Api`` interface (``api.runs(path,
filters=...)`` giving runs with ``id``, ``name``, ``config`` and ``scan_history()``), so it is
tested with a fake. ``scan_history`` returns every logged row (``history()`` would sample).
The CLI reads ``wandb://ENTITY/PROJECT`` with a real ``wandb.Api()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from scalelaw.data.readers.raw import Keys, RawTable
from scalelaw.data.readers.wandb_file import INTERNAL_KEYS, history_table
from scalelaw.errors import InputError

PREFIX = "wandb://"
PAGE_SIZE = 1000


def is_wandb_uri(text: str) -> bool:
    """True for ``wandb://ENTITY/PROJECT``."""
    return text.startswith(PREFIX)


def read_wandb_api(api: Any, path: str, *, filters: Mapping[str, Any] | None = None, keys: Keys = Keys()
                   ) -> list[RawTable]:
    """Every run of ``path`` (``entity/project``) as a table, like a ``.wandb`` file's (config as metadata)."""
    source = PREFIX + path
    try:
        runs = list(api.runs(path, filters=dict(filters or {})))
    except Exception as exc:  # the wandb client raises many error types (network, auth, missing project)
        raise InputError(f"W&B could not list the runs of {path!r}: {exc}", file=source) from None
    if not runs:
        raise InputError("the W&B project has no runs (or none match the filters)", file=source)
    names = [str(getattr(run, "name", "") or run.id) for run in runs]
    tables = []
    for run, name in zip(runs, names, strict=True):
        label = name if names.count(name) == 1 else f"{name}-{run.id}"
        history: dict[int, dict[str, float]] = {}
        rows: dict[int, int] = {}
        try:
            for number, row in enumerate(run.scan_history(page_size=PAGE_SIZE), start=1):
                _add_row(history, rows, row, number, source, label)
        except InputError:
            raise
        except Exception as exc:  # network or API errors while paging
            raise InputError(f"W&B failed while reading the history: {exc}", file=source, run=label) from None
        config = {k: v for k, v in dict(getattr(run, "config", {}) or {}).items() if not str(k).startswith("_")}
        tables.append(history_table(history, rows, config, file=source, run=label, run_id=str(run.id), keys=keys))
    return tables


def _add_row(history: dict[int, dict[str, float]], rows: dict[int, int], row: Mapping[str, Any], number: int,
             source: str, run: str) -> None:
    if "_step" not in row or isinstance(row["_step"], bool) or not isinstance(row["_step"], (int, float)):
        raise InputError("a history row has no numeric _step", file=source, run=run, row=number)
    step = int(row["_step"])
    values = history.setdefault(step, {})
    rows.setdefault(step, number)
    for key, value in row.items():
        if key == "_step" or key in INTERNAL_KEYS or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not math.isfinite(value):
            raise InputError(f"history value of {key!r} is {value}", file=source, run=run, row=number, column=key)
        values[str(key)] = float(value)


def read_wandb_uri(uri: str, *, keys: Keys = Keys()) -> list[RawTable]:
    """``wandb://ENTITY/PROJECT`` read with a real ``wandb.Api()`` (the key from ``wandb login`` or WANDB_API_KEY)."""
    path = uri[len(PREFIX) :].strip("/")
    if path.count("/") != 1:
        raise InputError(f"expected wandb://ENTITY/PROJECT, got {uri!r}", file=uri)
    try:
        import wandb
    except ImportError:
        raise InputError("reading wandb:// needs the wandb package: pip install 'scalelaw[wandb]'", file=uri) from None
    try:
        api = wandb.Api()
    except Exception as exc:  # no key, no network
        raise InputError(f"cannot open the W&B API: {exc}", file=uri) from None
    return read_wandb_api(api, path, keys=keys)
