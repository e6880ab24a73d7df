"""Writing files so that a crash or a full disk never destroys what was there.

``atomic_write`` writes to a temporary file in the target's folder, fsyncs it, moves it
over the target with ``os.replace`` and fsyncs the folder: a reader sees the old file or
the new one, never half of either. ``write_json`` does that for JSON (non-finite
numbers become null). ``check_output_path`` is called before long work (a fit) so a
bad ``--out`` fails in a second, not after the work is done.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from scalelaw.errors import InputError

TEMP_PREFIX = ".tmp-"


def atomic_write(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` on a temp file beside ``target``, then move it into place durably."""
    target = Path(target)
    temp = target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{target.name}")
    try:
        with open(temp, "xb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


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


def write_json(target: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically (see :func:`atomic_write`)."""
    text = (json.dumps(json_safe(data), indent=2) + "\n").encode("utf-8")
    atomic_write(Path(target), lambda handle: handle.write(text))


def check_output_path(path: str | Path, *, option: str = "--out") -> Path:
    """``path`` if a file can be written there: its folder exists and is writable, it is no folder."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError(f"{option} names a folder; give a file name", file=str(target))
    if not folder.is_dir():
        raise InputError(f"{option}: the folder {str(folder)!r} does not exist", file=str(target))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{option}: the folder {str(folder)!r} is not writable", file=str(target))
    return target
