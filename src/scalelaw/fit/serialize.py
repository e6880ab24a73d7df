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

from scalelaw.data.atomic import json_safe
from scalelaw.errors import InputError
from scalelaw.fit.law_error import ExtrapolationError
from scalelaw.fit.diagnostics import Diagnostics
from scalelaw.fit.result import FitResult
from scalelaw.fit.schema import MAX_FIT_BYTES, SchemaError, validate_fit_data

if TYPE_CHECKING:
    from scalelaw.fit.two_step import TwoStepFit
    from scalelaw.laws.base import Law, Param


class DuplicateKeyError(ValueError):
    """A JSON object that names one key twice (which copy wins would be the parser's choice, not the writer's)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` of :func:`json.loads`: an object, or DuplicateKeyError on a repeated key."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(key)
        out[key] = value
    return out


def read_json(path: str | Path) -> Any:
    """The JSON content of a fit file, read with a size cap; any failure is an InputError naming it.

    A key repeated within one object is an error: a hand-edited duplicate must not silently win.
    """
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FIT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the fit file: {exc.strerror or exc}", file=source) from None
    if len(raw) > MAX_FIT_BYTES:
        raise InputError(f"the fit file is larger than {MAX_FIT_BYTES >> 20} MB", file=source)
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except DuplicateKeyError as exc:
        raise InputError(f"the key {exc.key[:200]!r} appears twice in one JSON object", file=source) from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # ValueError: also over-long integers
        raise InputError(f"not a JSON fit file: {exc}", file=source) from None


#: JSON files scalelaw writes that are not a law's FIT.json, and the command that reads each.
OTHER_KINDS = {
    "hparams": "a hyperparameter fit from `scalelaw plan hparams-fit`; read it with `scalelaw plan hparams FILE "
               "--params N --tokens D`",
    "ladder-plan": "a ladder plan from `scalelaw plan ladder`; train it with `scalelaw ladder run --plan FILE`",
}


def load_fit(path: str | Path) -> FitResult | TwoStepFit:
    """Read a FIT.json written by :meth:`FitResult.save` (or a two-step fit's ``save``)."""
    data = read_json(path)
    if isinstance(data, Mapping) and data.get("kind") == "two-step":
        from scalelaw.fit.two_step import two_step_from_dict

        return two_step_from_dict(data, source=str(path))
    return fit_from_dict(data, source=str(path))


def checked_fit_data(data: Mapping[str, Any], *, target: str) -> Any:
    """``data`` (a fit's ``to_dict``) as plain JSON, refused unless :func:`fit_from_dict` reads it back.

    The writer and the reader share one schema: a fit that would write a file scalelaw cannot
    read (a field the schema does not know, a value beyond its bounds) fails here, before
    the file exists, rather than in the ``predict`` of whoever receives it.
    """
    plain = json_safe(data)
    try:
        fit_from_dict(plain, source=target)
    except InputError as exc:
        raise InputError(f"this fit would not read back, so it is not written: {exc.reason}", file=target) from None
    return plain


def fit_from_dict(data: Any, *, source: str) -> FitResult:
    """Validate FIT.json content against :mod:`scalelaw.fit.schema` and build the fit it describes."""
    from scalelaw import laws

    kind = data.get("kind") if isinstance(data, Mapping) else None
    if isinstance(kind, str) and kind in OTHER_KINDS:
        raise InputError(f"not a law's fit: this is {OTHER_KINDS[kind]}", file=source)
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
        raise InputError(f"law {name!r} does not accept the options {str(options)[:300]}: {exc}", file=source) from None
    try:
        check_params(law, fields)
    except SchemaError as exc:
        raise InputError(str(exc), file=source) from None
    bootstrap = fields["bootstrap"]
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
        source=fields["source"],
    )


#: Relative slack of the bound check: a parameter the optimiser left on a bound may differ from it in the last digit.
BOUND_SLACK = 1e-9


def check_params(law: Law, fields: Mapping[str, Any]) -> None:
    """Every parameter of ``law`` present, none unknown, each (and each bootstrap value) within its declared bounds.

    A hand-edited E = -50 would predict a negative loss and alpha = -3 a loss growing with
    scale; a parameter the law does not have would be silently dropped.
    """
    declared = {p.name: p for p in law.params}
    params = fields["params"]
    missing = [name for name in declared if name not in params]
    if missing:
        raise SchemaError(f"law {law.name!r} needs parameters {', '.join(missing)}, missing from the file")
    for field in ("params", "ci"):
        unknown = [name for name in fields[field] if name not in declared]
        if unknown:
            raise SchemaError(f"{field}[{unknown[0][:100]!r}] is not a parameter of law {law.name!r} "
                              f"(parameters: {', '.join(declared)})")
    _check_bounds(list(declared.values()), np.array([[params[name] for name in declared]]), "params")
    bootstrap = fields["bootstrap"]
    if bootstrap is not None:
        if not bootstrap or any(len(row) != len(declared) for row in bootstrap):
            raise SchemaError(f"bootstrap must be null or a non-empty list of rows of {len(declared)} numbers")
        _check_bounds(list(declared.values()), np.array(bootstrap, dtype=float), "bootstrap")


def _check_bounds(declared: list[Param], rows: np.ndarray, field: str) -> None:
    """SchemaError naming the first finite value of ``rows`` (R, p) outside its parameter's bounds."""
    low = np.array([p.lower for p in declared])
    high = np.array([p.upper for p in declared])
    with np.errstate(invalid="ignore"):
        outside = np.isfinite(rows) & ((rows < low - BOUND_SLACK * np.abs(low)) | (rows > high + BOUND_SLACK * np.abs(high)))
    if outside.any():
        i, j = np.argwhere(outside)[0]
        param = declared[j]
        where = f"params[{param.name!r}]" if field == "params" else f"bootstrap[{i}] ({param.name})"
        raise SchemaError(f"{where} = {rows[i, j]:g} lies outside the bounds [{param.lower:g}, {param.upper:g}] of "
                          f"the law's {param.name} ({param.meaning})")
