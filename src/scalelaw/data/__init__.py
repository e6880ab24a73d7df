"""The data layer: the run model, validation, readers and the run store."""

from scalelaw.data.readers import iter_runs, read_runs
from scalelaw.data.reduce import final_losses, keep_every
from scalelaw.data.runs import CANONICAL_COLUMNS, META_COLUMNS, RunSet
from scalelaw.data.store import RunStore
from scalelaw.data.validate import check_enough_points

__all__ = [
    "CANONICAL_COLUMNS",
    "META_COLUMNS",
    "RunSet",
    "RunStore",
    "check_enough_points",
    "final_losses",
    "iter_runs",
    "keep_every",
    "read_runs",
]
