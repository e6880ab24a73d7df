"""A module imported on first use, for heavy libraries a command may not need.

``pd = lazy("pandas")`` at module level lets a module name pandas in its code while importing
it only when a function first touches ``pd``: ``scalelaw predict FIT.json --at ...`` then never
pays pandas' import (about 0.4 s), and a command that reads a table pays it once, as before.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    """Stands in for a module until an attribute is asked for, then forwards to the imported module."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        module: ModuleType = importlib.import_module(self._name)
        value = getattr(module, attribute)
        setattr(self, attribute, value)  # later lookups are plain attribute hits, as on the module itself
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> Any:
    """The module ``name``, imported when first used."""
    return _LazyModule(name)
