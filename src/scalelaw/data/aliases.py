"""Names under which trackers keep run metadata, and how they become run-table columns.

MLflow params, W&B config and TensorBoard hparams hold the model size under many names;
:data:`PARAMS_ALIASES` are the ones recognised as ``params``. Other metadata keeps its
name when it is a known metadata column (``batch_size``, ...) and is ``param.<name>`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from scalelaw.data.runs import META_COLUMNS
from scalelaw.errors import InputError

#: Hyperparameter names read as the model size N, in order of preference.
PARAMS_ALIASES: tuple[str, ...] = ("params", "n_params", "num_params", "model_params")


def _positive_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def metadata_columns(values: Mapping[str, object], *, file: str, run: str | None = None) -> dict[str, object]:
    """Run metadata ``{name: value}`` as run-table columns, with the model size under ``params``.

    An alias whose value is not a positive number stays ``param.<name>``; two aliases
    with different sizes are an :class:`InputError`.
    """
    columns: dict[str, object] = {}
    size_from: str | None = None
    for name, value in values.items():
        size = _positive_number(value) if name in PARAMS_ALIASES else None
        if size is not None:
            if size_from is not None and columns["params"] != size:
                raise InputError(f"the model size is given twice and differs: {size_from}={columns['params']:g}, "
                                 f"{name}={size:g}", file=file, run=run, column=name)
            columns["params"], size_from = size, name
        elif name in META_COLUMNS and name != "params":
            columns[name] = value
        else:
            columns[f"param.{name}"] = value
    return columns
