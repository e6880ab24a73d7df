"""The runs of a ladder plan (``scalelaw plan ladder --family SPEC --out plan.json``), as ladder run configs.

A plan names its size family by the sweep spec's path and SHA-256; each planned run gives a
model of that family (width, depth, heads) and a token count. The spec supplies everything
else (corpus, context, batch sizes, schedules, seeds, settings), so a planned run trains
exactly as the same run of the spec would, under the same run id, and a store shared with
the spec's own sweep reuses it. A spec changed since the plan, or a planned model the spec
does not list, is refused.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scalelaw.data.guards import MAX_SMALL_FILE_BYTES, read_capped
from scalelaw.data.safe_yaml import load_yaml
from scalelaw.errors import InputError
from scalelaw.fit.serialize import read_json
from scalelaw.ladder.spec import SweepSpec, parse_spec

SHAPE_KEYS = ("width", "depth", "heads")


def load_plan(path: str | Path, *, allowed_roots: Sequence[Path] = ()) -> SweepSpec:
    """The sweep a plan file asks for; any problem is an InputError naming the plan (and run) at fault.

    Paths in the family spec resolve as in :func:`~scalelaw.ladder.spec.load_spec`: inside its folder
    or one of ``allowed_roots``."""
    source = str(path)
    data = read_json(path)
    if not isinstance(data, Mapping) or data.get("kind") != "ladder-plan":
        raise InputError("not a ladder plan (write one with `scalelaw plan ladder --out plan.json`)", file=source)
    family = data.get("family")
    if not isinstance(family, Mapping) or not isinstance(family.get("spec"), str) or not isinstance(
            family.get("sha256"), str):
        raise InputError("the plan has no size family, so the ladder cannot train it: make it with "
                         "`scalelaw plan ladder --family SPEC.yaml --out plan.json`", file=source)
    spec_path = Path(family["spec"])
    if not spec_path.is_file():
        raise InputError(f"the plan's family spec {spec_path} is not found", file=source)
    content = read_capped(spec_path, MAX_SMALL_FILE_BYTES)
    if hashlib.sha256(content).hexdigest() != family["sha256"]:
        raise InputError(f"the family spec {spec_path} changed since the plan was made: plan again", file=source)
    try:
        raw = load_yaml(content.decode("utf-8"), file=str(spec_path))
    except UnicodeDecodeError:
        raise InputError("the family spec is not UTF-8 text", file=str(spec_path)) from None
    if not isinstance(raw, dict):
        raise InputError("a sweep spec must be a YAML mapping", file=str(spec_path))
    base = {k: v for k, v in raw.items() if k not in ("tokens", "tokens_per_param", "target")}
    family_spec = parse_spec(raw, file=str(spec_path), base_dir=spec_path.parent, allowed_roots=allowed_roots)
    allowed = {tuple(getattr(c.shape, k) for k in SHAPE_KEYS) for c in family_spec.runs}
    planned = data.get("runs")
    if not isinstance(planned, list) or not planned:
        raise InputError("the plan lists no runs", file=source)
    runs = []
    for i, entry in enumerate(planned, start=1):
        shape, tokens = _planned(entry, allowed, source, i)
        sub = {**base, "models": [dict(zip(SHAPE_KEYS, shape, strict=True))], "tokens": [tokens]}
        runs.extend(parse_spec(sub, file=str(spec_path), base_dir=spec_path.parent, allowed_roots=allowed_roots).runs)
    return SweepSpec(name=family_spec.name, runs=tuple(runs), target=None, file=source)


def _planned(entry: Any, allowed: set[tuple[int, ...]], source: str, row: int) -> tuple[tuple[int, ...], int]:
    """(width, depth, heads) and tokens of one planned run, checked against the family."""
    if not isinstance(entry, Mapping):
        raise InputError("a planned run must be an object", file=source, row=row)
    values: list[int] = []
    for key in (*SHAPE_KEYS, "tokens"):
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 1:
            raise InputError(f"planned run needs a positive {key!r}, got {value!r}", file=source, row=row, column=key)
        values.append(round(value))
    shape = tuple(values[:3])
    if shape not in allowed:
        raise InputError(f"planned model {dict(zip(SHAPE_KEYS, shape, strict=True))} is not in the family spec",
                         file=source, row=row)
    return shape, values[3]
