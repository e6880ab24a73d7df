"""Where a fit's runs came from, recorded in FIT.json so that ``scalelaw report FIT.json`` can draw the law on them.

``scalelaw fit --out`` records how it read its runs (the inputs and every reading option). Only local files,
folders, run stores and bundled datasets are recorded, local paths relative to the FIT.json's folder (so a
project folder can move and no home directory leaks into a shared file); a fit of remote runs (a W&B or MLflow
server) records nothing, since reading a FIT.json must never reach the network. A FIT.json may come from someone
else, so the runs read back are used only when their data hash equals the fit's: exactly the data that was
fitted, read by the same hardened readers as any input.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scalelaw.cli._data_options import DATASET_PREFIX, bundled_dataset, load_inputs
from scalelaw.errors import InputError
from scalelaw.fit.result import FitResult


def record_source(paths: Sequence[str], out: Path, *, maps: Sequence[str] = (), where: str | None = None,
                  loss_unit: str = "nats", bytes_per_token: float | None = None, format: str | None = None,
                  loss: str | None = None, sets: Sequence[str] = (), meta: str | None = None,
                  pattern: str | None = None, targets: bool = False) -> dict[str, Any] | None:
    """FIT.json's ``source`` for runs read from ``paths`` with these options; None when an input is not local."""
    folder = out.resolve().parent
    data = []
    for item in paths:
        text = str(item)
        if (name := bundled_dataset(text)) is not None:
            data.append(DATASET_PREFIX + name)
        elif Path(text).exists():
            data.append(_relative(Path(text), folder))
        else:
            return None  # a tracking-server or W&B address: a report must not reach the network to read it
    if meta is not None and not Path(meta).exists():
        return None
    return {"data": data, "map": list(maps), "where": where, "loss_unit": loss_unit, "bytes_per_token": bytes_per_token,
            "format": format, "loss": loss, "set": list(sets), "meta": None if meta is None else _relative(Path(meta), folder),
            "pattern": pattern, "targets": targets}


def read_source(fit: FitResult, fit_path: Path) -> tuple[Any, str]:
    """The fitted runs read back as FIT.json recorded them (a RunSet, or None) and a sentence saying what happened."""
    source = fit.source
    if not source:
        return None, ""
    folder = fit_path.resolve().parent
    items = [text if text.startswith(DATASET_PREFIX) else str(folder / text) for text in source["data"]]
    meta = None if source["meta"] is None else str(folder / source["meta"])
    missing = [text for text, item in zip(source["data"], items) if not text.startswith(DATASET_PREFIX)
               and not Path(item).exists()] + ([source["meta"]] if meta is not None and not Path(meta).exists() else [])
    if missing:
        return None, (f"the fitted runs are not plotted: {', '.join(missing)} (recorded in {fit_path}) no longer "
                      "exist; give them with --fit-data")
    try:
        runs = load_inputs(items, source["map"], source["where"], source["loss_unit"], source["bytes_per_token"],
                           format=source["format"], loss=source["loss"], sets=source["set"], meta=meta,
                           pattern=source["pattern"], targets=source["targets"])
    except InputError as exc:
        return None, f"the fitted runs recorded in {fit_path} could not be read again ({exc}); give them with --fit-data"
    if runs.data_hash() != fit.data_hash:
        return None, (f"the fitted runs are not plotted: {', '.join(source['data'])} changed since the fit (their data "
                      "hash differs from FIT.json's); give the fitted runs with --fit-data")
    return runs, f"plotted the fitted runs recorded in {fit_path}: {', '.join(source['data'])}"


def _relative(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` (absolute where no relative path exists, e.g. another drive)."""
    try:
        return os.path.relpath(path.resolve(), folder)
    except ValueError:
        return str(path.resolve())
