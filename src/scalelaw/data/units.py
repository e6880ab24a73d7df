"""Loss units: everything is stored in nats per token; other units are converted on read.

A loss column whose source name says bits (``bits``, ``bpb``, ``bpc``) but is declared
as nats is refused, since fitting bits as nats silently shifts every prediction.
"""

from __future__ import annotations

import math
import re

import numpy as np

from scalelaw.errors import InputError

LOSS_UNITS: tuple[str, ...] = ("nats", "bits", "bits_per_byte")

_BITS_NAME = re.compile(r"(^|[^a-z])(bits?|bpb|bpc|bpt)([^a-z]|$)", re.IGNORECASE)


def looks_like_bits(column_name: str) -> bool:
    """True if a column or metric name says its values are in bits (``val_bpb``, ``loss_bits``)."""
    return bool(_BITS_NAME.search(column_name))


def check_declared_unit(source_column: str, loss_unit: str, *, file: str) -> None:
    """Refuse a loss column named like bits when the declared unit is nats."""
    if loss_unit not in LOSS_UNITS:
        raise InputError(f"unknown loss unit {loss_unit!r}; use one of {', '.join(LOSS_UNITS)}", file=file)
    if loss_unit == "nats" and looks_like_bits(source_column):
        raise InputError(
            f"the loss column {source_column!r} is named like bits but the loss unit is nats; "
            "pass --loss-unit bits (or bits_per_byte with --bytes-per-token)",
            file=file,
            column=source_column,
        )


def to_nats(loss: np.ndarray, loss_unit: str, *, bytes_per_token: float | None, file: str) -> np.ndarray:
    """Convert a loss array to nats per token (bits x ln 2; bits/byte x ln 2 x bytes/token)."""
    if loss_unit == "nats":
        return loss
    if loss_unit == "bits":
        return loss * math.log(2)
    if loss_unit == "bits_per_byte":
        if bytes_per_token is None or not math.isfinite(bytes_per_token) or bytes_per_token <= 0:
            raise InputError("loss unit bits_per_byte needs a positive --bytes-per-token", file=file)
        return loss * math.log(2) * bytes_per_token
    raise InputError(f"unknown loss unit {loss_unit!r}; use one of {', '.join(LOSS_UNITS)}", file=file)
