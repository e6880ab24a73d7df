"""Names under which tools keep run metadata, and how they become run-table columns.

``META_ALIASES`` lists the names under which tools store run metadata (Lightning hparams,
Trainer arguments, config files, MLflow params, W&B config, TensorBoard hparams);
:data:`PARAMS_ALIASES` are the ones recognised as the model size ``params``.
:func:`metadata_from` finds canonical metadata under any alias; :func:`metadata_columns` maps
tracker params through it: a name listed there becomes its canonical column, every other param
is ``param.<name>`` (a bare ``batch_size`` too: it usually counts sequences, not the tokens the
run model means). Every reader uses this module; none imports the pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from scalelaw.data.runs import NUMERIC_COLUMNS
from scalelaw.errors import InputError

#: Hyperparameter names read as the model size N, in order of preference.
PARAMS_ALIASES: tuple[str, ...] = ("params", "n_params", "num_params", "model_params", "num_parameters", "n_parameters")


#: Names of a held-out loss, tried first: eval loss is the default loss where a log has it.
EVAL_LOSS_NAMES: tuple[str, ...] = (
    "eval/loss", "eval_loss", "val/loss", "val_loss", "valid/loss", "valid_loss", "validation/loss",
    "validation_loss", "val/lm_loss", "eval/lm_loss", "lm_loss_validation",
)
#: Names of the training loss (per step; epoch averages such as ``train_loss_epoch`` are not curves).
TRAIN_LOSS_NAMES: tuple[str, ...] = (
    "train/loss", "loss", "train_loss", "train_loss_step", "training_loss", "train/lm_loss", "lm_loss",
)
#: Default mapping of logger metric names, first present name wins (documented).
LOGGER_NAMES: dict[str, tuple[str, ...]] = {
    "step": ("_step", "global_step", "trainer/global_step", "train/global_step", "step"),
    "loss": EVAL_LOSS_NAMES + TRAIN_LOSS_NAMES,
    "lr": ("train/learning_rate", "learning_rate", "train/lr", "lr", "lr-Adam", "lr-AdamW", "lr-SGD"),
    "tokens": ("train/tokens", "tokens", "num_tokens", "train/num_input_tokens_seen", "num_input_tokens_seen",
               "tokens_seen"),
}
#: canonical metadata column -> the names tools log it under, in order of preference.
META_ALIASES: dict[str, tuple[str, ...]] = {
    "params": PARAMS_ALIASES,
    "non_embedding_params": ("non_embedding_params", "n_params_non_embedding", "num_non_embedding_params"),
    "seq_len": ("seq_len", "seq_length", "max_seq_length", "max_seq_len", "block_size", "context_length",
                "sequence_length"),
    "batch_size": ("batch_size_tokens", "tokens_per_step", "tokens_per_batch"),
    "unique_tokens": ("unique_tokens",),
    "dataset": ("dataset", "dataset_name"),
    "tokenizer": ("tokenizer", "tokenizer_name", "tokenizer_name_or_path"),
    "vocab_size": ("vocab_size", "n_vocab"),
}
MAX_NESTING = 8
#: Values that mean "not given" (Lightning writes a None hyperparameter to TensorBoard as the text "None").
NOT_GIVEN = (None, "", "None", "null")


def _flatten(values: Mapping[str, object], depth: int = 0) -> Iterator[tuple[str, object]]:
    """Leaf ``(key, value)`` pairs of nested mappings, outer keys first (bounded depth)."""
    nested = []
    for key, value in values.items():
        if isinstance(value, Mapping):
            nested.append(value)
        else:
            yield str(key), value
    if depth < MAX_NESTING:
        for inner in nested:
            yield from _flatten(inner, depth + 1)


def as_number(value: object, *, what: str, file: str | None) -> float:
    """A finite number from a param value (numbers, or text like ``"1.2e8"``); anything else is an error."""
    if isinstance(value, bool):
        raise InputError(f"{what} is {value!r}, not a number", file=file)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{what} is {str(value)[:40]!r}, not a number", file=file) from None
    if not math.isfinite(number):
        raise InputError(f"{what} is {value!r} (NaN or infinite)", file=file)
    return number


def metadata_from(values: Mapping[str, object], *, file: str | None) -> dict[str, object]:
    """Canonical run metadata found under any alias in params/hparams/config values.

    Nested sections are searched too (outer keys first); a value that should be a
    number and is not is an :class:`InputError` naming ``file`` and the key.
    """
    leaves: dict[str, object] = {}
    for key, value in _flatten(values):
        leaves.setdefault(key, value)
    out: dict[str, object] = {}
    for column, aliases in META_ALIASES.items():
        key = next((a for a in aliases if a in leaves and leaves[a] not in NOT_GIVEN), None)
        if key is None:
            continue
        value = leaves[key]
        out[column] = as_number(value, what=f"{key}", file=file) if column in NUMERIC_COLUMNS else str(value)
    return out


#: Every name the run model reads from a log (canonical columns and the names tools log them under):
#: readers never drop these when a log has too many keys.
RUN_MODEL_NAMES: frozenset[str] = frozenset(
    {"run", "_step", *NUMERIC_COLUMNS, *(n for names in LOGGER_NAMES.values() for n in names),
     *(n for names in META_ALIASES.values() for n in names)})


def metadata_columns(values: Mapping[str, object], *, file: str) -> dict[str, object]:
    """Tracker params ``{name: value}`` as run-table columns: canonical metadata under its
    column name (a value that should be a number and is not is an InputError), the rest as ``param.<name>``."""
    known = {alias for aliases in META_ALIASES.values() for alias in aliases}
    return {**metadata_from(values, file=file), **{f"param.{k}": v for k, v in values.items() if k not in known}}
