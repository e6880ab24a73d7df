"""scalelaw: fit scaling laws on small training runs and predict what large ones will do."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Lazy top-level API, so ``import scalelaw`` stays fast."""
    import importlib

    if name in {"fit", "datasets"}:
        # scalelaw.fit is a callable module: scalelaw.fit(runs, law=...) fits a law.
        return importlib.import_module(f"scalelaw.{name}")
    if name == "load_fit":
        return importlib.import_module("scalelaw.fit").load_fit
    if name == "read_runs":
        from scalelaw.data.pipeline import read_runs

        return read_runs
    raise AttributeError(f"module 'scalelaw' has no attribute {name!r}")
