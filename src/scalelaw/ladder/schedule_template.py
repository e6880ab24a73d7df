"""Learning-rate schedule templates for sweeps: a schedule spec without its length.

A sweep trains runs of different lengths with "the same" schedule, so a spec such as
``cosine:peak=3e-3,final=3e-4,warmup=5%`` leaves out ``total`` (the run's step count
is filled in) and may give step-valued keys (``warmup``, ``decay_start``) as a
percentage of the run's steps.
"""

from __future__ import annotations

from scalelaw.data.schedules import Schedule, parse_schedule
from scalelaw.errors import InputError

#: Keys whose value is a step count and may be written as a percentage of the run.
STEP_KEYS: tuple[str, ...] = ("warmup", "decay_start")


def schedule_for(template: str, steps: int, *, file: str | None = None) -> Schedule:
    """The schedule of a run of ``steps`` optimizer steps built from ``template``."""
    name, _, body = template.strip().partition(":")
    parts: list[str] = []
    for item in filter(None, (p.strip() for p in body.split(","))):
        key, _, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if key == "total":
            raise InputError(f"schedule {template!r}: leave out 'total', the run's step count is filled in", file=file, column="schedules")
        if key in STEP_KEYS and raw.endswith("%"):
            try:
                raw = str(round(steps * float(raw[:-1]) / 100.0))
            except ValueError:
                raise InputError(f"schedule {template!r}: {key}={raw} is not a percentage", file=file, column="schedules") from None
        parts.append(f"{key}={raw}")
    parts.append(f"total={steps}")
    return parse_schedule(f"{name}:{','.join(parts)}")
