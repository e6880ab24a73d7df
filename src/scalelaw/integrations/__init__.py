"""Log runs to the scalelaw run store straight from a training loop, with a live forecast.

- :class:`RunLogger` and :func:`log_point`: a hand-written (PyTorch or any) loop.
- :class:`ScalelawCallback` (Hugging Face ``Trainer``) and :class:`ScalelawLightningCallback`
  (Lightning): need transformers / lightning, imported only when these names are used.
- :class:`LiveForecast`: the run's final loss, refitted on its own points as it trains, with its interval.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RunLogger": "scalelaw.integrations.logger",
    "log_point": "scalelaw.integrations.logger",
    "flush_all": "scalelaw.integrations.logger",
    "LiveForecast": "scalelaw.integrations.forecast",
    "ScalelawCallback": "scalelaw.integrations.huggingface",
    "ScalelawLightningCallback": "scalelaw.integrations.lightning",
}


def __getattr__(name: str) -> Any:
    """Import each integration on first use, so torch, transformers and lightning stay optional."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'scalelaw.integrations' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


__all__ = sorted(_EXPORTS)
