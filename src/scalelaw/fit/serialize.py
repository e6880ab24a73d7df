"""Reading FIT.json back into a :class:`FitResult`, validating every field.

A hand-edited or truncated file must never produce a traceback: anything that is not a
well-formed fit is an :class:`~scalelaw.errors.InputError` naming the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scalelaw.errors import InputError
from scalelaw.fit.calibration import ExtrapolationError

if TYPE_CHECKING:
    from scalelaw.fit.result import FitResult
    from scalelaw.fit.two_step import TwoStepFit


def json_safe(value: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, non-finite floats to None."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as JSON (non-finite numbers as null) atomically: a temporary file, then a rename."""
    import os
    import tempfile

    target = Path(path)
    text = json.dumps(json_safe(data), indent=2) + "\n"
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def load_fit(path: str | Path) -> FitResult | TwoStepFit:
    """Read a FIT.json written by :meth:`FitResult.save` (or a two-step fit's ``save``)."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the fit file: {exc.strerror or exc}", file=source) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"not a JSON fit file: {exc}", file=source) from None
    if isinstance(data, Mapping) and data.get("kind") == "two-step":
        from scalelaw.fit.two_step import two_step_from_dict

        return two_step_from_dict(data, source=source)
    return fit_from_dict(data, source=source)


def _number(value: Any, what: str, source: str, *, allow_none: bool = False) -> float:
    if value is None and allow_none:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{what} must be a number, got {value!r}", file=source)
    return float(value)


def _mapping(data: Mapping[str, Any], key: str, source: str, *, required: bool) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"field {key!r} must be an object", file=source)
    return value


def _pairs(data: Mapping[str, Any], key: str, source: str) -> dict[str, tuple[float, float]]:
    out = {}
    for name, pair in _mapping(data, key, source, required=False).items():
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise InputError(f"{key}[{name!r}] must be a [lo, hi] pair", file=source)
        out[str(name)] = (
            _number(pair[0], f"{key}[{name!r}]", source, allow_none=True),
            _number(pair[1], f"{key}[{name!r}]", source, allow_none=True),
        )
    return out


def _matrix(value: Any, columns: int, source: str) -> np.ndarray | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise InputError("field 'bootstrap' must be a non-empty list of parameter rows or null", file=source)
    rows = []
    for row in value:
        if not isinstance(row, list) or len(row) != columns:
            raise InputError(f"every bootstrap row must hold {columns} numbers", file=source)
        rows.append([_number(v, "a bootstrap value", source, allow_none=True) for v in row])
    return np.array(rows, dtype=float)


def fit_from_dict(data: Any, *, source: str) -> FitResult:
    """Validate FIT.json content and build the fit it describes."""
    from scalelaw import laws
    from scalelaw.fit.diagnostics import Diagnostics
    from scalelaw.fit.result import FitResult

    if not isinstance(data, Mapping):
        raise InputError("a fit file must hold a JSON object", file=source)
    name = data.get("law")
    if not isinstance(name, str):
        raise InputError("field 'law' must name a law", file=source)
    options = _mapping(data, "law_options", source, required=False)
    try:
        law = laws.get(name, **{str(k): v for k, v in options.items()})
    except InputError as exc:
        raise InputError(exc.reason, file=source) from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"law {name!r} does not accept the options {dict(options)!r}: {exc}", file=source) from None
    raw = _mapping(data, "params", source, required=True)
    missing = [p for p in law.param_names if p not in raw]
    if missing:
        raise InputError(f"law {name!r} needs parameters {', '.join(missing)}, missing from the file", file=source)
    params = {p: _number(raw[p], f"parameter {p!r}", source) for p in law.param_names}
    if not all(math.isfinite(v) for v in params.values()):
        raise InputError("every parameter must be a finite number", file=source)
    residuals = data.get("residuals") or []
    if not isinstance(residuals, list):
        raise InputError("field 'residuals' must be a list of numbers", file=source)
    diagnostics = _mapping(data, "diagnostics", source, required=False)
    for key in ("warnings", "on_bound", "most_correlated"):
        value = diagnostics.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"diagnostics {key!r} must be a list of strings", file=source)
    try:
        diag = Diagnostics.from_dict({**_EMPTY_DIAGNOSTICS, **diagnostics})
    except TypeError as exc:
        raise InputError(f"malformed diagnostics: {exc}", file=source) from None
    fit_options = _checked_options(_mapping(data, "options", source, required=False), source)
    hash_value = data.get("data_hash", "")
    return FitResult(
        law=law,
        params=params,
        ci=_pairs(data, "ci", source),
        derived={str(k): _number(v, f"derived {k!r}", source, allow_none=True)
                 for k, v in _mapping(data, "derived", source, required=False).items()},
        derived_ci=_pairs(data, "derived_ci", source),
        diagnostics=diag,
        options=fit_options,
        data_hash=hash_value if isinstance(hash_value, str) else "",
        bootstrap_params=_matrix(data.get("bootstrap"), len(law.param_names), source),
        fitted_range=_pairs(data, "fitted_range", source),
        residuals=np.array([_number(v, "a residual", source) for v in residuals], dtype=float),
        calibration=ExtrapolationError.from_dict(data.get("calibration"), source=source),
        selection=_selection(data.get("selection"), source),
    )


def _selection(value: Any, source: str) -> dict[str, Any] | None:
    """The record of how ``--law auto`` chose the law: an object with a list of candidates, or null."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not isinstance(value.get("candidates", []), list):
        raise InputError("field 'selection' must be an object with a list of candidates, or null", file=source)
    for row in value.get("candidates", []):
        if not isinstance(row, Mapping) or not isinstance(row.get("law"), str):
            raise InputError("every selection candidate must be an object naming its law", file=source)
    return dict(value)


def _checked_options(options: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The fit options, with the ones prediction relies on checked for type and range."""
    out = dict(options)
    level = _number(out.get("ci_level", 0.95), "option 'ci_level'", source)
    if not 0 < level < 1:
        raise InputError(f"option 'ci_level' must be between 0 and 1, got {level!r}", file=source)
    seed = out.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"option 'seed' must be a non-negative whole number, got {seed!r}", file=source)
    _number(out.get("extrapolation_warning_decades", 2.0), "option 'extrapolation_warning_decades'", source)
    if not isinstance(out.get("strict", False), bool):
        raise InputError("option 'strict' must be true or false", file=source)
    if not isinstance(out.get("fix", {}), Mapping):
        raise InputError("option 'fix' must be an object", file=source)
    return out


_EMPTY_DIAGNOSTICS: dict[str, Any] = {
    "converged": False,
    "iterations": 0,
    "starts": 0,
    "starts_in_best_basin": 0,
    "objective": float("nan"),
    "n_points": 0,
    "n_runs": 0,
    "n_free": 0,
    "on_bound": [],
    "condition_number": float("nan"),
    "most_correlated": [],
    "correlation": float("nan"),
    "residual_rmse": float("nan"),
    "residual_mean": float("nan"),
    "residual_max_abs": float("nan"),
    "runs_test_z": float("nan"),
    "scale_correlation": {},
}
