"""Learning-rate schedules as immutable objects with a compact text spec.

Step convention: training step ``s`` is the ``s``-th optimizer update, and the loss
logged at step ``s`` is measured after updates ``1..s``. ``lr(s)`` is the learning rate
of update ``s``; ``lr(0)`` is the rate before training starts (0 with a warmup), which
the loss-curve laws use as the starting point of the first lr change. ``per_step(T)``
returns ``lr(1..T)``. A linear warmup over ``W`` steps gives ``lr(s) = peak * s / W``
for ``s < W``; after it each family applies its own formula, written in terms of the
absolute step ``s`` (e.g. a cosine decays between ``warmup`` and ``total``).

Specs look like ``wsd:peak=3e-4,warmup=2160,total=24000,decay_start=20000,final=3e-5,
shape=geometric``; list values are separated by ``/`` (``step:...,boundaries=8000/12000,
values=1e-4/3e-5``).
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from scalelaw.errors import DataWarning, InputError, warn

WSD_SHAPES: tuple[str, ...] = ("linear", "cosine", "geometric", "sqrt")
#: Longest schedule accepted (steps): laws evaluate a schedule at every step, so this bounds memory.
MAX_TOTAL_STEPS = 10_000_000


@dataclass(frozen=True, kw_only=True)
class Schedule(ABC):
    """A learning-rate schedule: ``peak`` rate, ``total`` steps, optional linear ``warmup``."""

    name: ClassVar[str]
    peak: float
    total: int
    warmup: int = 0

    def __post_init__(self) -> None:
        _check(self, self.peak > 0 and math.isfinite(self.peak), "peak", "must be a positive number")
        _check(self, 1 <= self.total <= MAX_TOTAL_STEPS, "total", f"must be from 1 to {MAX_TOTAL_STEPS:,} steps")
        _check(self, 0 <= self.warmup <= self.total, "warmup", "must be between 0 and total")

    @property
    def total_steps(self) -> int:
        """Number of optimizer updates the schedule covers."""
        return int(self.total)

    def lr(self, steps: np.ndarray) -> np.ndarray:
        """Learning rate at (integer or real) ``steps``; steps past ``total`` hold the last rate."""
        s = np.minimum(np.asarray(steps, dtype=float), float(self.total))
        after = self._after_warmup(np.maximum(s, float(self.warmup)))
        if self.warmup == 0:
            return after
        return np.where(s < self.warmup, self.peak * s / self.warmup, after)

    def per_step(self, total: int | None = None) -> np.ndarray:
        """Learning rate of updates ``1..T`` (``T`` = ``total`` or the schedule's own length)."""
        count = self.total if total is None else int(total)
        return self.lr(np.arange(1, count + 1, dtype=float))

    def to_spec(self) -> str:
        """The compact text form; ``parse_schedule(s.to_spec()) == s``."""
        parts = [f"{f.name}={_format(getattr(self, f.name))}" for f in dataclasses.fields(self)]
        return f"{self.name}:" + ",".join(parts)

    @abstractmethod
    def _after_warmup(self, steps: np.ndarray) -> np.ndarray:
        """The family's formula for steps at or after the end of warmup."""


@dataclass(frozen=True, kw_only=True)
class Constant(Schedule):
    """Constant ``peak`` after warmup."""

    name: ClassVar[str] = "constant"

    def _after_warmup(self, steps: np.ndarray) -> np.ndarray:
        return np.full_like(steps, self.peak)


@dataclass(frozen=True, kw_only=True)
class _DecayToFinal(Schedule):
    """A decay from ``peak`` at the end of warmup to ``final`` at ``total``."""

    final: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, 0 <= self.final <= self.peak, "final", "must be between 0 and peak")
        _check(self, self.total > self.warmup, "total", "must exceed warmup")

    def _progress(self, steps: np.ndarray) -> np.ndarray:
        return (steps - self.warmup) / (self.total - self.warmup)


@dataclass(frozen=True, kw_only=True)
class Cosine(_DecayToFinal):
    """Cosine from ``peak`` at the end of warmup to ``final`` at ``total``."""

    name: ClassVar[str] = "cosine"

    def _after_warmup(self, steps: np.ndarray) -> np.ndarray:
        return self.final + 0.5 * (self.peak - self.final) * (1.0 + np.cos(np.pi * self._progress(steps)))


@dataclass(frozen=True, kw_only=True)
class Linear(_DecayToFinal):
    """Linear from ``peak`` at the end of warmup to ``final`` at ``total``."""

    name: ClassVar[str] = "linear"

    def _after_warmup(self, steps: np.ndarray) -> np.ndarray:
        return self.peak + (self.final - self.peak) * self._progress(steps)


@dataclass(frozen=True, kw_only=True)
class WarmupStableDecay(Schedule):
    """Constant ``peak`` until ``decay_start``, then a decay of the given ``shape`` to ``final`` at ``total``.

    Shapes: ``linear``; ``cosine`` (half cosine); ``geometric`` (log-linear,
    ``peak^(1-p) * final^p``, needs ``final > 0``); ``sqrt`` (``1 - sqrt(p)`` of the gap).
    """

    name: ClassVar[str] = "wsd"
    decay_start: int
    final: float = 0.0
    shape: str = "linear"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, self.shape in WSD_SHAPES, "shape", f"must be one of {', '.join(WSD_SHAPES)}")
        _check(self, self.warmup <= self.decay_start < self.total, "decay_start", "must be in [warmup, total)")
        _check(self, 0 <= self.final <= self.peak, "final", "must be between 0 and peak")
        _check(self, self.shape != "geometric" or self.final > 0, "final", "must be > 0 for a geometric decay")

    def _after_warmup(self, steps: np.ndarray) -> np.ndarray:
        p = np.clip((steps - self.decay_start) / (self.total - self.decay_start), 0.0, 1.0)
        gap = self.peak - self.final
        if self.shape == "linear":
            return self.peak - gap * p
        if self.shape == "cosine":
            return self.final + 0.5 * gap * (1.0 + np.cos(np.pi * p))
        if self.shape == "sqrt":
            return self.final + gap * (1.0 - np.sqrt(p))
        return self.peak ** (1.0 - p) * self.final**p


@dataclass(frozen=True, kw_only=True)
class TwoStage(Schedule):
    """``peak`` until ``switch``, then the constant ``second`` from step ``switch`` on."""

    name: ClassVar[str] = "two-stage"
    switch: int
    second: float

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, self.warmup <= self.switch <= self.total, "switch", "must be in [warmup, total]")
        _check(self, self.second >= 0, "second", "must be >= 0")

    def _after_warmup(self, steps: np.ndarray) -> np.ndarray:
        return np.where(steps < self.switch, self.peak, self.second)


@dataclass(frozen=True, kw_only=True)
class Step(Schedule):
    """Piecewise constant: ``peak``, then ``values[i]`` from step ``boundaries[i]`` on."""

    name: ClassVar[str] = "step"
    boundaries: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, len(self.boundaries) == len(self.values) >= 1, "values", "needs one value per boundary")
        _check(self, all(np.diff(self.boundaries) > 0), "boundaries", "must be strictly increasing")
        _check(self, self.boundaries[0] >= self.warmup, "boundaries", "must start at or after warmup")
        _check(self, min(self.values) >= 0, "values", "must be >= 0")

    def _after_warmup(self, steps: np.ndarray) -> np.ndarray:
        levels = np.concatenate([[self.peak], np.asarray(self.values, dtype=float)])
        return levels[np.searchsorted(np.asarray(self.boundaries), steps, side="right")]


@dataclass(frozen=True, kw_only=True)
class InverseSqrt(Schedule):
    """``peak * sqrt(timescale / (timescale + s - warmup))`` after warmup."""

    name: ClassVar[str] = "invsqrt"
    timescale: float = 1000.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self, self.timescale > 0, "timescale", "must be > 0")

    def _after_warmup(self, steps: np.ndarray) -> np.ndarray:
        return self.peak * np.sqrt(self.timescale / (self.timescale + steps - self.warmup))


@dataclass(frozen=True, kw_only=True)
class Custom(Schedule):
    """A schedule from a table of ``(steps, values)``, linear between points, held outside them.

    A per-step table is the case of consecutive steps. ``peak`` and ``total`` follow from
    the table; ``file`` (if the table came from a CSV with columns ``step,lr``) makes
    the spec short. ``warmup`` must be 0: a warmup is part of the table.
    """

    name: ClassVar[str] = "custom"
    peak: float = 0.0
    total: int = 0
    steps: tuple[int, ...]
    values: tuple[float, ...]
    file: str | None = None

    def __post_init__(self) -> None:
        _check(self, len(self.steps) == len(self.values) >= 1, "values", "needs one value per step")
        _check(self, bool(np.all(np.diff(self.steps) > 0)), "steps", "must be strictly increasing")
        _check(self, self.steps[0] >= 0, "steps", "must be >= 0")
        values = np.asarray(self.values, dtype=float)
        _check(self, bool(np.all(np.isfinite(values)) and np.all(values >= 0)), "values", "must be finite and >= 0")
        _check(self, self.warmup == 0, "warmup", "must be 0 (put the warmup in the table)")
        object.__setattr__(self, "peak", float(values.max()))
        object.__setattr__(self, "total", int(self.steps[-1]))
        super().__post_init__()

    def lr(self, steps: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(steps, dtype=float), np.asarray(self.steps, dtype=float), np.asarray(self.values))

    def to_spec(self) -> str:
        if self.file is not None:
            return f"custom:file={self.file}"
        return f"custom:steps={_format(self.steps)},values={_format(self.values)}"

    def _after_warmup(self, steps: np.ndarray) -> np.ndarray:
        return self.lr(steps)


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, Cosine, Linear, WarmupStableDecay, TwoStage, Step, InverseSqrt, Custom)
}
_ALIASES: dict[str, str] = {"twostage": "two-stage", "const": "constant", "inverse-sqrt": "invsqrt"}


def at_length(schedule: Schedule, total: int) -> Schedule:
    """The same schedule run for ``total`` steps: the warmup kept, every later landmark (decay start, switch,
    boundaries) moved in proportion to the length, as a recipe is shortened for a small run of a ladder."""
    if isinstance(schedule, Custom):
        raise InputError("a custom schedule table has no length to change: give the candidates' schedules in a file")
    if not schedule.warmup < total <= MAX_TOTAL_STEPS:
        raise InputError(f"a run of {total:,} steps cannot follow schedule {schedule.name}: it must be longer than "
                         f"the warmup ({schedule.warmup:,} steps) and at most {MAX_TOTAL_STEPS:,}")
    ratio = total / schedule.total

    def moved(step: int, last: int) -> int:
        return min(max(int(round(step * ratio)), schedule.warmup), last)

    changes: dict[str, Any] = {"total": int(total)}
    if isinstance(schedule, WarmupStableDecay):
        changes["decay_start"] = moved(schedule.decay_start, total - 1)
    elif isinstance(schedule, TwoStage):
        changes["switch"] = moved(schedule.switch, total)
    elif isinstance(schedule, Step):
        changes["boundaries"] = tuple(moved(b, total) for b in schedule.boundaries)
    try:
        return dataclasses.replace(schedule, **changes)
    except InputError as exc:
        raise InputError(f"schedule {schedule.to_spec()} cannot be shortened to {total:,} steps: {exc.reason}") from None


def parse_schedule(spec: str) -> Schedule:
    """Build a schedule from its spec ``name:key=value,...``; a bad spec is an :class:`InputError`."""
    name, _, body = spec.strip().partition(":")
    name = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if name not in SCHEDULES:
        raise InputError(f"unknown schedule {name!r} in {spec!r}; known schedules: {', '.join(SCHEDULES)}")
    cls = SCHEDULES[name]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    allowed = ("file", "steps", "values") if cls is Custom else tuple(fields)
    kwargs: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in body.split(","))):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or key not in allowed:
            raise InputError(
                f"schedule {name!r}: bad key {key!r} in {spec!r}; allowed keys: {', '.join(allowed)}"
            )
        if key in kwargs:
            raise InputError(f"schedule {name!r}: the key {key!r} is given twice in {spec!r}")
        kwargs[key] = _convert(name, key, raw.strip(), fields[key].type)
    if cls is Custom and "file" in kwargs:
        return read_schedule_table(kwargs["file"])
    missing = [k for k, f in fields.items() if _required(f) and k not in kwargs and k in allowed]
    if missing:
        raise InputError(f"schedule {name!r} needs {', '.join(missing)} in {spec!r}; allowed keys: {', '.join(allowed)}")
    return cls(**kwargs)


def read_schedule_table(path: str) -> Custom:
    """A custom schedule from a CSV file with columns ``step`` and ``lr``."""
    import pandas as pd

    from scalelaw.data.readers.tabular import read_delimited

    if not Path(path).is_file():
        raise InputError("schedule table not found", file=path)
    table = read_delimited(Path(path), delimiter=",").frame  # empty, binary or ragged files are InputErrors
    for column in ("step", "lr"):
        if column not in table.columns:
            raise InputError(f"a schedule table needs columns step and lr; found {', '.join(table.columns)}", file=path, column=column)
    steps, lrs = (pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float) for c in ("step", "lr"))
    return schedule_from_logged(steps, lrs, file=path)


def schedule_from_logged(steps: np.ndarray, lrs: np.ndarray, *, file: str | None = None, run: str | None = None) -> Custom:
    """Rebuild a per-step schedule from lr values logged at some steps.

    Rule: linear interpolation between consecutive logged points (exact for constant,
    step-free linear and per-step logs); before the first logged step the first value
    is held, with a :class:`DataWarning` when that gap is longer than the logging
    interval (a warmup would be missed). Steps must be integers, increasing, and the
    lr finite and non-negative; the error names the offending row.
    """
    steps = np.asarray(steps, dtype=float)
    lrs = np.asarray(lrs, dtype=float)
    bad_step = ~(np.isfinite(steps) & (steps >= 0) & (steps == np.round(steps)))
    bad_lr = ~(np.isfinite(lrs) & (lrs >= 0))
    not_increasing = np.concatenate([[False], np.diff(steps) <= 0])
    for bad, column, message in (
        (bad_step, "step", "is not a non-negative integer step"),
        (bad_lr, "lr", "is not a learning rate (a finite number >= 0)"),
        (not_increasing, "step", "breaks the order: steps must be strictly increasing"),
    ):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            value = steps[i] if column == "step" else lrs[i]
            raise InputError(f"{value:g} {message}", file=file, run=run, row=i + 1, column=column)
    if steps.size == 0:
        raise InputError("no learning-rate values to build a schedule from", file=file, run=run, column="lr")
    interval = float(np.median(np.diff(steps))) if steps.size > 1 else 1.0
    if steps[0] > max(interval, 1.0):
        warn(
            f"{'run ' + repr(run) + ': ' if run else ''}the learning rate is first logged at step {int(steps[0])}; "
            f"it is held at {lrs[0]:g} before that (a warmup would be missed — give a --schedule spec instead)",
            DataWarning,
        )
    return Custom(steps=tuple(int(s) for s in steps), values=tuple(float(v) for v in lrs), file=file)


def _required(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _convert(name: str, key: str, raw: str, annotation: Any) -> Any:
    """Turn the text of one spec value into the field's type."""
    kind = str(annotation)
    try:
        if "tuple[int" in kind:
            return tuple(_as_int(v) for v in raw.split("/"))
        if "tuple[float" in kind:
            return tuple(float(v) for v in raw.split("/"))
        if kind == "int":
            return _as_int(raw)
        if kind == "float":
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(raw)
            return value
    except ValueError:
        raise InputError(f"schedule {name!r}: {key}={raw!r} is not a valid {kind.replace(' | None', '')}") from None
    return raw


def _as_int(raw: str) -> int:
    value = float(raw)
    if not value.is_integer():
        raise ValueError(raw)
    return int(value)


def _format(value: Any) -> str:
    if isinstance(value, tuple):
        return "/".join(_format(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _check(schedule: Schedule, ok: bool, key: str, message: str) -> None:
    if not ok:
        raise InputError(f"schedule {schedule.name!r}: {key} {message} (got {getattr(schedule, key)!r})")


#: The nine schedules of the Multi-Power Law data (Luo et al. 2025) as specs, by run name.
MULTIPOWER_SCHEDULES: dict[str, str] = {
    "constant_24000": "constant:peak=3e-4,warmup=2160,total=24000",
    "constant_72000": "constant:peak=3e-4,warmup=2160,total=72000",
    "cosine_24000": "cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5",
    "cosine_72000": "cosine:peak=3e-4,warmup=2160,total=72000,final=3e-5",
    "wsd_20000_24000": "wsd:peak=3e-4,warmup=2160,total=24000,decay_start=20000,final=3e-5,shape=geometric",
    "wsdld_20000_24000": "wsd:peak=3e-4,warmup=2160,total=24000,decay_start=20000,final=3e-5,shape=linear",
    "wsdcon_3": "two-stage:peak=3e-4,warmup=2160,total=16000,switch=8000,second=3e-5",
    "wsdcon_9": "two-stage:peak=3e-4,warmup=2160,total=16000,switch=8000,second=9e-5",
    "wsdcon_18": "two-stage:peak=3e-4,warmup=2160,total=16000,switch=8000,second=1.8e-4",
}
