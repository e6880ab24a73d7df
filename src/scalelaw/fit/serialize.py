"""Reading FIT.json back into a :class:`FitResult`, validating every field.

A hand-edited or truncated file must never produce a traceback: anything that is not a
well-formed fit is an :class:`~scalelaw.errors.InputError` naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scalelaw.errors import InputError
from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.fit.diagnostics import Diagnostics
from scalelaw.fit.result import FitResult
from scalelaw.fit.schema import MAX_FIT_BYTES, SchemaError, validate_fit_data

if TYPE_CHECKING:
    from scalelaw.fit.two_step import TwoStepFit


def read_json(path: str | Path) -> Any:
    """The JSON content of a fit file, read with a size cap; any failure is an InputError naming it."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FIT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the fit file: {exc.strerror or exc}", file=source) from None
    if len(raw) > MAX_FIT_BYTES:
        raise InputError(f"the fit file is larger than {MAX_FIT_BYTES >> 20} MB", file=source)
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # ValueError: also over-long integers
        raise InputError(f"not a JSON fit file: {exc}", file=source) from None


def load_fit(path: str | Path) -> FitResult | TwoStepFit:
    """Read a FIT.json written by :meth:`FitResult.save` (or a two-step fit's ``save``)."""
    data = read_json(path)
    if isinstance(data, Mapping) and data.get("kind") == "two-step":
        from scalelaw.fit.two_step import two_step_from_dict

        return two_step_from_dict(data, source=str(path))
    return fit_from_dict(data, source=str(path))


def fit_from_dict(data: Any, *, source: str) -> FitResult:
    """Validate FIT.json content against :mod:`scalelaw.fit.schema` and build the fit it describes."""
    from scalelaw import laws

    try:
        fields = validate_fit_data(data)
    except SchemaError as exc:
        raise InputError(str(exc), file=source) from None
    name, options = fields["law"], fields["law_options"]
    try:
        law = laws.get(name, **options)
    except InputError as exc:
        raise InputError(exc.reason, file=source) from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"law {name!r} does not accept the options {options!r}: {exc}", file=source) from None
    missing = [p for p in law.param_names if p not in fields["params"]]
    if missing:
        raise InputError(f"law {name!r} needs parameters {', '.join(missing)}, missing from the file", file=source)
    bootstrap = fields["bootstrap"]
    if bootstrap is not None and (not bootstrap or any(len(row) != len(law.param_names) for row in bootstrap)):
        raise InputError(f"field 'bootstrap' must be null or a non-empty list of rows of "
                         f"{len(law.param_names)} numbers", file=source)
    return FitResult(
        law=law,
        params={p: fields["params"][p] for p in law.param_names},
        ci=fields["ci"],
        derived=fields["derived"],
        derived_ci=fields["derived_ci"],
        diagnostics=Diagnostics.from_dict(fields["diagnostics"]),
        options=fields["options"],
        data_hash=fields["data_hash"],
        bootstrap_params=None if bootstrap is None else np.array(bootstrap, dtype=float),
        fitted_range=fields["fitted_range"],
        residuals=np.array(fields["residuals"], dtype=float),
        calibration=ExtrapolationError.from_dict(fields["calibration"], source=source),
        selection=fields["selection"],
    )
