"""The data layer: the run model, validation, readers and the run store.

The names below load on first use (PEP 562), so importing one light module of this
package (e.g. :mod:`scalelaw.data.schedules`) does not import pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "iter_runs": "pipeline",
    "read_runs": "pipeline",
    "final_losses": "reduce",
    "keep_every": "reduce",
    "CANONICAL_COLUMNS": "runs",
    "META_COLUMNS": "runs",
    "RunSet": "runs",
    "RunStore": "store",
    "check_enough_points": "validate",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"scalelaw.data.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'scalelaw.data' has no attribute {name!r}")


__all__ = sorted(_HOMES)
