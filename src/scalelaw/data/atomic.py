"""Writing files so that a crash or a full disk never destroys what was there.

``atomic_write`` writes to a temporary file in the target's folder, fsyncs it, moves it
over the target with ``os.replace`` and fsyncs the folder: a reader sees the old file or
the new one, never half of either. ``write_json`` does that for JSON (non-finite
numbers become null).

Output-path policy (every file scalelaw writes): the target is a regular file or a new
name, never a folder, FIFO, device node, socket or symlink (``atomic_write`` refuses
those itself, so a device such as ``/dev/null`` is never replaced by a regular file).
``check_output_path`` applies the same rule, plus "the folder exists and is writable",
before long work (a fit) so a bad ``--out`` fails in a second, not after the work is done.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from scalelaw.errors import InputError

TEMP_PREFIX = ".tmp-"


class WriteError(InputError):
    """Writing a file failed (a full disk, a read-only folder); the old file, if any, is intact."""


def atomic_write(target: Path, write: Callable[[BinaryIO], object], *, sync_folder: bool = True) -> None:
    """Call ``write`` on a temp file beside ``target``, then move it into place durably.

    ``sync_folder=False`` leaves the folder's fsync to the caller, who writes many files
    into one folder and syncs it once (:func:`flush_folder`) before anything names them.
    A failure (``OSError``: a full disk, no permission) removes the temp file and is a
    :class:`WriteError` naming the target; the target is then as it was.
    """
    target = Path(target)
    _check_target(target, "the output")
    temp = target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{target.name}")
    try:
        with open(temp, "xb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
        if sync_folder:
            _fsync_folder(target.parent)
    except OSError as exc:
        reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise WriteError(f"cannot write the file: {reason}; nothing was written", file=str(target)) from None
    finally:
        temp.unlink(missing_ok=True)


def flush_folder(folder: Path) -> None:
    """Make the names written into ``folder`` durable (one fsync); a failure is a :class:`WriteError`."""
    try:
        _fsync_folder(folder)
    except OSError as exc:
        raise WriteError(f"cannot write the folder: {exc.strerror or exc}", file=str(folder)) from None


def _fsync_folder(folder: Path) -> None:
    directory = os.open(folder, os.O_RDONLY)
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


def check_output_path(path: str | Path, *, option: str = "--out", create_folder: bool = False) -> Path:
    """``path`` if a file can be written there: a regular file or a new name in a writable folder.

    ``create_folder`` makes a missing folder (the demo's default output); otherwise a
    missing folder is an error, as a mistyped path should be.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    _check_target(target, option)
    if create_folder and not folder.exists():
        try:
            folder.mkdir(parents=True)
        except OSError as exc:
            raise InputError(f"{option}: cannot create the folder {str(folder)!r}: {exc.strerror or exc}",
                             file=str(target)) from None
    if not folder.is_dir():
        raise InputError(f"{option}: the folder {str(folder)!r} does not exist", file=str(target))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{option}: the folder {str(folder)!r} is not writable", file=str(target))
    return target


def _check_target(target: Path, option: str) -> None:
    """Refuse an existing ``target`` that is not a regular file (checked without following a symlink)."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{option}: cannot check the path: {exc.strerror or exc}", file=str(target)) from None
    if stat.S_ISREG(mode):
        return
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    hint = "give a file name" if stat.S_ISDIR(mode) else "scalelaw writes only regular files or new paths"
    raise InputError(f"{option} names {kind}; {hint}", file=str(target))


_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket",
          stat.S_IFLNK: "a symlink (scalelaw does not write through links)"}
