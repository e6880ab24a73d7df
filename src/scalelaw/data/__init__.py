"""The data layer: the run model, validation, readers and the run store."""

from scalelaw.data.runs import CANONICAL_COLUMNS, META_COLUMNS, RunSet

__all__ = ["CANONICAL_COLUMNS", "META_COLUMNS", "RunSet"]
