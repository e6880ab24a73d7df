"""The FIT.json schema: every field a fit file may hold, its type and its bounds, in one place.

A fit file is untrusted (hand-edited, truncated, written by someone else), and some of
its fields steer safety checks (``fitted_range`` and ``extrapolation_warning_decades``
drive the extrapolation guard) or size arrays. :func:`validate_fit_data` checks every
declared field strictly — types, finiteness where NaN makes no sense, sizes — and
rejects top-level keys nobody declared. To add a field, declare it in ``FIT_FIELDS``
(or ``OPTION_FIELDS``/``DIAGNOSTIC_FIELDS``) with a checker built from the small
combinators below; the loader then receives it checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Largest FIT.json read (bytes); a bigger file is refused before parsing.
MAX_FIT_BYTES = 64 * 2**20
#: Most entries in a name → value object (parameters, intervals, ranges, options).
MAX_NAMES = 256
#: Most residuals (fitted points) and bootstrap replicates kept in a fit.
MAX_POINTS = 5_000_000
MAX_REPLICATES = 100_000
#: Longest string and longest list of strings (warnings) accepted.
MAX_TEXT = 20_000
MAX_STRINGS = 1_000
#: Free-form records (law options, ``selection``): deepest nesting, longest list or object, most values.
MAX_DEPTH = 8
MAX_ITEMS = 100_000
MAX_NODES = 2_000_000
#: Rounding beyond ±1 tolerated in a correlation (and clipped).
CORRELATION_SLACK = 1e-9
#: Largest ``extrapolation_warning_decades``: beyond ten decades the guard would never speak.
MAX_WARNING_DECADES = 10.0
#: Plausible range of each scale variable a fit records in ``fitted_range`` (others: ``OTHER_SCALE``).
#: Counts may be logged in millions or billions (0.125 for 125M), hence the low floor of 1e-6;
#: lr goes down to the 1e-20 floor the curve laws use for an lr decayed to zero.
SCALE_LIMITS: dict[str, tuple[float, float]] = {
    "params": (1e-6, 1e16), "non_embedding_params": (1e-6, 1e16), "tokens": (1e-6, 1e17),
    "unique_tokens": (1e-6, 1e17), "flops": (1e-6, 1e33), "step": (0.0, 1e10), "steps": (0.0, 1e10),
    "batch_size": (1e-6, 1e10), "lr": (1e-20, 1e2), "decay_steps": (1.0, 1e10),
}
OTHER_SCALE = (1e-20, 1e33)

Check = Callable[[Any, str], Any]
"""A checker: ``(value, where)`` → the cleaned value, or :class:`SchemaError`."""


class SchemaError(ValueError):
    """A field that does not match the schema; the message names the field."""


@dataclass(frozen=True)
class Field:
    """One declared field: its checker, whether it must be present, its default otherwise."""

    check: Check
    required: bool = False
    default: Any = None


def number(*, nullable: bool = False, low: float | None = None, high: float | None = None,
           open_low: bool = False, open_high: bool = False) -> Check:
    """A JSON number; ``nullable`` allows null/NaN (read as NaN), otherwise it must be finite and in range."""

    def check(value: Any, where: str) -> float:
        if value is None and nullable:
            return math.nan
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SchemaError(f"{where} must be a number, got {_show(value)}")
        try:
            out = float(value)
        except OverflowError:
            raise SchemaError(f"{where} is too large a number") from None
        if math.isnan(out) and nullable:
            return out
        if not math.isfinite(out):
            raise SchemaError(f"{where} must be a finite number, got {_show(value)}")
        if low is not None and (out < low or (open_low and out == low)):
            raise SchemaError(f"{where} must be {'>' if open_low else '>='} {low:g}, got {_show(value)}")
        if high is not None and (out > high or (open_high and out == high)):
            raise SchemaError(f"{where} must be {'<' if open_high else '<='} {high:g}, got {_show(value)}")
        return out

    return check


def integer(low: int = 0, high: int = 2**63 - 1) -> Check:
    """A whole JSON number between ``low`` and ``high``."""

    def check(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SchemaError(f"{where} must be a whole number from {low} to {high}, got {_show(value)}")
        return value

    return check


def correlation(value: Any, where: str) -> float:
    """A correlation: null/NaN, or a number in [-1, 1] (rounding slack of 1e-9 clipped; beyond it, impossible)."""
    out = number(nullable=True, low=-1.0 - CORRELATION_SLACK, high=1.0 + CORRELATION_SLACK)(value, where)
    return out if math.isnan(out) else min(1.0, max(-1.0, out))


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SchemaError(f"{where} must be true or false, got {_show(value)}")
    return value


def text(max_length: int = MAX_TEXT) -> Check:
    def check(value: Any, where: str) -> str:
        if not isinstance(value, str) or len(value) > max_length:
            raise SchemaError(f"{where} must be a string of at most {max_length} characters, got {_show(value)}")
        return value

    return check


def optional(inner: Check) -> Check:
    """``inner``, or null (kept as None)."""
    return lambda value, where: None if value is None else inner(value, where)


def strings(value: Any, where: str) -> list[str]:
    return array(text(), MAX_STRINGS)(value, where)


def array(item: Check, max_length: int) -> Check:
    def check(value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise SchemaError(f"{where} must be a list, got {_show(value)}")
        if len(value) > max_length:
            raise SchemaError(f"{where} holds {len(value)} items, more than the {max_length} allowed")
        return [item(v, f"{where}[{i}]") for i, v in enumerate(value)]

    return check


def pair(item: Check, *, ordered: bool = False) -> Check:
    """A ``[lo, hi]`` list; ``ordered`` requires lo <= hi."""

    def check(value: Any, where: str) -> tuple[Any, Any]:
        if not isinstance(value, list) or len(value) != 2:
            raise SchemaError(f"{where} must be a [lo, hi] pair, got {_show(value)}")
        lo, hi = item(value[0], f"{where}[0]"), item(value[1], f"{where}[1]")
        if ordered and lo > hi:
            raise SchemaError(f"{where} must have lo <= hi, got {_show(value)}")
        return lo, hi

    return check


def mapping(item: Check, max_items: int = MAX_NAMES) -> Check:
    """An object of names (short strings) to values checked by ``item``."""

    def check(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise SchemaError(f"{where} must be an object, got {_show(value)}")
        if len(value) > max_items:
            raise SchemaError(f"{where} holds {len(value)} entries, more than the {max_items} allowed")
        return {_name(k, where): item(v, f"{where}[{k!r}]") for k, v in value.items()}

    return check


def scalar(value: Any, where: str) -> Any:
    """A JSON scalar (string, finite number, true/false, null): for options nobody declared."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return text()(value, where)
    if isinstance(value, (int, float)):
        return number()(value, where)
    raise SchemaError(f"{where} must be a string, number, true/false or null, got {_show(value)}")


def plain(depth: int = MAX_DEPTH, *, max_items: int = MAX_ITEMS, max_nodes: int = MAX_NODES) -> Check:
    """Any JSON-plain value (object, list, string, number, true/false, null) nested at most ``depth`` levels.

    For free-form records other code extends (law options, ``selection``): nothing is
    whitelisted, but every list or object holds at most ``max_items`` entries, the whole
    value at most ``max_nodes`` values, strings and names are bounded, numbers are finite
    (null and NaN read as NaN), and nothing but JSON types gets through.
    """

    def check(value: Any, where: str) -> Any:
        return _plain(value, where, depth, max_items, [max_nodes, max_nodes])

    return check


def _plain(value: Any, where: str, depth: int, max_items: int, budget: list[int]) -> Any:
    """One value of :func:`plain`; ``budget`` is [values left, values allowed], shared by the whole record."""
    budget[0] -= 1
    if budget[0] < 0:
        raise SchemaError(f"{where} holds more than the {budget[1]} values allowed in one record")
    if isinstance(value, (list, Mapping)):
        if depth <= 0:
            raise SchemaError(f"{where} is nested deeper than allowed")
        if len(value) > max_items:
            raise SchemaError(f"{where} holds {len(value)} entries, more than the {max_items} allowed")
    if isinstance(value, list):
        return [_plain(v, f"{where}[{i}]", depth - 1, max_items, budget) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {_name(k, where): _plain(v, f"{where}[{k!r}]", depth - 1, max_items, budget) for k, v in value.items()}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(nullable=True)(value, where)
    return scalar(value, where)


def record(fields: Mapping[str, Field], *, others: Check | None = None) -> Check:
    """An object with declared ``fields``; undeclared keys are checked by ``others`` or refused."""

    def check(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise SchemaError(f"{where} must be an object, got {_show(value)}")
        out: dict[str, Any] = {}
        for key, field in fields.items():
            if key in value:
                out[key] = field.check(value[key], _join(where, key))
            elif field.required:
                raise SchemaError(f"{_join(where, key)} is missing")
            else:
                out[key] = field.default() if callable(field.default) else field.default
        extra = [k for k in value if k not in fields]
        if extra and others is None:
            raise SchemaError(f"{_join(where, str(extra[0]))[:200]!r} is not a field of a scalelaw fit file "
                              f"(fields: {', '.join(fields)})")
        if len(extra) > MAX_NAMES:
            raise SchemaError(f"{where or 'the file'} holds more than {MAX_NAMES} undeclared fields")
        for key in extra:
            out[_name(key, where)] = others(value[key], _join(where, str(key)))  # type: ignore[misc]
        return out

    return check


def _name(key: Any, where: str) -> str:
    if not isinstance(key, str) or not 0 < len(key) <= 200:
        raise SchemaError(f"{where} has a bad name {_show(key)}")
    return key


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _show(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def fitted_ranges(value: Any, where: str) -> dict[str, tuple[float, float]]:
    """Ordered ``[lo, hi]`` ranges of the scale variables, each within the variable's plausible limits.

    The ranges steer the extrapolation guard: a range edited to [1e-300, 1e300] would silence it.
    """
    out = mapping(pair(number(low=0.0), ordered=True))(value, where)
    for name, (lo, hi) in out.items():
        low, high = SCALE_LIMITS.get(name, OTHER_SCALE)
        if lo < low or hi > high:
            raise SchemaError(f"{where}[{name!r}] = [{lo:g}, {hi:g}] lies outside the plausible range "
                              f"[{low:g}, {high:g}] of {name}")
    return out


OPTION_FIELDS: dict[str, Field] = {
    "objective": Field(text(40)),
    "delta": Field(optional(number(low=0.0, open_low=True))),
    "asymmetry": Field(optional(number())),
    "reduction": Field(text(40)),
    "fix": Field(mapping(number()), default=dict),
    "bootstrap": Field(integer(0, MAX_REPLICATES)),
    "seed": Field(integer(0, 2**63 - 1), default=0),
    "strict": Field(boolean, default=False),
    "ci_level": Field(number(low=0.0, high=1.0, open_low=True, open_high=True), default=0.95),
    # The extrapolation guard: never null, NaN, negative or so large that it would never speak.
    "extrapolation_warning_decades": Field(number(low=0.0, high=MAX_WARNING_DECADES), default=2.0),
}

DIAGNOSTIC_FIELDS: dict[str, Field] = {
    "converged": Field(boolean, default=False),
    "iterations": Field(integer(), default=0),
    "starts": Field(integer(), default=0),
    "starts_in_best_basin": Field(integer(), default=0),
    "objective": Field(number(nullable=True), default=math.nan),
    "n_points": Field(integer(), default=0),
    "n_runs": Field(integer(), default=0),
    "n_free": Field(integer(), default=0),
    "on_bound": Field(strings, default=list),
    "condition_number": Field(number(nullable=True), default=math.nan),
    "most_correlated": Field(strings, default=list),
    "correlation": Field(correlation, default=math.nan),
    "residual_rmse": Field(number(nullable=True), default=math.nan),
    "residual_mean": Field(number(nullable=True), default=math.nan),
    "residual_max_abs": Field(number(nullable=True), default=math.nan),
    "runs_test_z": Field(number(nullable=True), default=math.nan),
    "scale_correlation": Field(mapping(correlation), default=dict),
    "bootstrap_converged": Field(optional(number(nullable=True, low=0.0, high=1.0))),
    "warnings": Field(strings, default=list),
}

#: Largest correction (log loss per decade) a fit file may carry: a larger trend is no longer a small bias.
MAX_CORRECTION = 0.5
CALIBRATION_FIELDS: dict[str, Field] = {
    "slope": Field(number(low=0.0), required=True),
    "dof": Field(integer(1), required=True),
    "tested_decades": Field(number(low=0.0), required=True),
    "bias": Field(number(), required=True),
    "runs": Field(integer(), required=True),
    "points": Field(integer(), required=True),
    "folds": Field(integer(1), default=1),
    "floor": Field(number(low=0.0), default=0.0),
    "correction": Field(number(low=-MAX_CORRECTION, high=MAX_CORRECTION), default=0.0),  # log error per decade the forecast is corrected by
    "correction_sd": Field(number(low=0.0), default=0.0),
}

#: The fields of a ``selection`` record that scalelaw itself reads (tables, reports), typed; every
#: other field, at any level, is free-form bounded JSON that the selection code may extend.
CANDIDATE_FIELDS: dict[str, Field] = {
    "law": Field(text(100), required=True),
    "label": Field(text(200)),
    "options": Field(mapping(plain(MAX_DEPTH - 3)), default=dict),
    "final_error": Field(optional(number(nullable=True))),
    "curve_error": Field(optional(number(nullable=True))),
    "bias": Field(optional(number(nullable=True))),
    "failure": Field(optional(text())),
}

SELECTION_FIELDS: dict[str, Field] = {
    "chosen": Field(text(200)),
    "reason": Field(text()),
    "axis": Field(optional(text(100))),
    "folds": Field(array(text(1000), MAX_NAMES), default=list),
    "candidates": Field(array(record(CANDIDATE_FIELDS, others=plain(MAX_DEPTH - 2)), MAX_NAMES), default=list),
}

#: Where the fitted runs were read from (``scalelaw fit --out``), so ``scalelaw report`` can plot them again.
SOURCE_FIELDS: dict[str, Field] = {
    "data": Field(array(text(4096), 256), required=True),  # local paths (relative to FIT.json's folder), dataset:NAME
    "map": Field(array(text(1000), 256), default=list),
    "where": Field(optional(text(4096))),
    "loss_unit": Field(text(40), default="nats"),
    "bytes_per_token": Field(optional(number(low=0.0, open_low=True))),
    "format": Field(optional(text(40))),
    "loss": Field(optional(text(1000))),
    "set": Field(array(text(1000), 256), default=list),
    "meta": Field(optional(text(4096))),
    "pattern": Field(optional(text(4096))),
    "targets": Field(boolean, default=False),
}

FIT_FIELDS: dict[str, Field] = {
    "law": Field(text(100), required=True),
    "law_options": Field(mapping(plain(MAX_DEPTH - 1)), default=dict),  # each law checks its own options
    "params": Field(mapping(number()), required=True),  # each against the law's bounds, by the loader
    "ci": Field(mapping(pair(number(nullable=True), ordered=True)), default=dict),
    "derived": Field(mapping(number(nullable=True)), default=dict),
    "derived_ci": Field(mapping(pair(number(nullable=True), ordered=True)), default=dict),
    "diagnostics": Field(record(DIAGNOSTIC_FIELDS, others=plain(2)), default=lambda: record(DIAGNOSTIC_FIELDS)({}, "")),
    "options": Field(record(OPTION_FIELDS, others=plain(3)), default=lambda: record(OPTION_FIELDS)({}, "")),
    "data_hash": Field(text(200), default=""),
    # The extrapolation guard: finite, ordered, plausible ranges of the scale variables.
    "fitted_range": Field(fitted_ranges, default=dict),
    "residuals": Field(array(number(), MAX_POINTS), default=list),
    "bootstrap": Field(optional(array(array(number(nullable=True), MAX_NAMES), MAX_REPLICATES))),
    "calibration": Field(optional(record(CALIBRATION_FIELDS))),  # the --law auto / --calibrate error model
    "selection": Field(optional(record(SELECTION_FIELDS, others=plain(MAX_DEPTH - 1)))),  # how --law auto chose
    "source": Field(optional(record(SOURCE_FIELDS))),  # where the fitted runs were read from (the CLI records it)
    "scalelaw_version": Field(text(100)),
}


def validate_fit_data(data: Any) -> dict[str, Any]:
    """Checked FIT.json content (declared fields, defaults filled in); SchemaError names the bad field."""
    if not isinstance(data, Mapping):
        raise SchemaError("a fit file must hold a JSON object")
    return record(FIT_FIELDS)(data, "")
