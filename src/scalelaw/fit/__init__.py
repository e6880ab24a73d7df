"""The fitting engine: ``scalelaw.fit(runs, law="chinchilla", bootstrap=200, seed=0)``.

The package module is callable (see docs/decisions.md): calling it runs
:func:`fit_law`. ``load_fit`` reads a FIT.json back.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from scalelaw.fit.diagnostics import Diagnostics
from scalelaw.fit.engine import fit_law
from scalelaw.fit.result import FitResult, Prediction
from scalelaw.fit.serialize import load_fit


class _CallableModule(types.ModuleType):
    """Module type whose instances can be called: ``scalelaw.fit(...)`` is ``fit_law(...)``."""

    def __call__(self, *args: Any, **kwargs: Any) -> FitResult:
        return fit_law(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["Diagnostics", "FitResult", "Prediction", "fit_law", "load_fit"]
