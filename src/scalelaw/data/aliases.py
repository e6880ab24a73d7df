"""Names under which trackers keep run metadata, and how they become run-table columns.

MLflow params, W&B config and TensorBoard hparams hold the model size under many names;
:data:`PARAMS_ALIASES` are the ones recognised as ``params``. :func:`metadata_columns` maps
tracker params through the one alias table (:data:`scalelaw.data.metadata.META_ALIASES`):
a name listed there becomes its canonical column, every other param is ``param.<name>``
(a bare ``batch_size`` too: it usually counts sequences, not the tokens the run model means).
"""

from __future__ import annotations

from collections.abc import Mapping

#: Hyperparameter names read as the model size N, in order of preference.
PARAMS_ALIASES: tuple[str, ...] = ("params", "n_params", "num_params", "model_params", "num_parameters", "n_parameters")


def metadata_columns(values: Mapping[str, object], *, file: str) -> dict[str, object]:
    """Tracker params ``{name: value}`` as run-table columns: canonical metadata under its
    column name (a value that should be a number and is not is an InputError), the rest as ``param.<name>``."""
    from scalelaw.data.metadata import META_ALIASES, metadata_from

    known = {alias for aliases in META_ALIASES.values() for alias in aliases}
    return {**metadata_from(values, file=file), **{f"param.{k}": v for k, v in values.items() if k not in known}}
