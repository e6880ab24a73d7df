"""Guards every reader uses on untrusted files: no symlink out of the folder, size caps, alias-free YAML.

- :func:`files_under` lists the regular files under a folder without following a
  symlink out of it (a symlink that leaves the folder is an InputError naming it).
- :func:`check_inside` refuses a path that resolves outside the folder being read.
- :func:`files_within` finds files matching a pattern a bounded number of folders down, none linked out.
- :func:`read_capped` reads a file whole only if it is at most ``max_bytes`` long; :func:`head`
  reads its first bytes only.
- YAML is parsed by :mod:`scalelaw.data.safe_yaml` (alias-free, size-capped; kept apart so
  that importing these guards does not import PyYAML).
"""

from __future__ import annotations

import os
from pathlib import Path

from scalelaw.errors import InputError

#: Unicode bidi controls: they reorder what a terminal shows, so run ids refuse them and output escapes them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
#: Largest small text file (YAML metadata, params, tags, specs) read whole.
MAX_SMALL_FILE_BYTES = 1 << 20
#: Largest log file read whole (CSV, TSV, JSON Lines, event and metric files); Parquet streams.
MAX_LOG_FILE_BYTES = 2 << 30
#: Bytes read to recognise a file's format.
HEAD_BYTES = 64 * 1024


def check_inside(root: Path, path: Path) -> Path:
    """``path`` if it (after resolving every symlink) lies inside ``root``; else an InputError."""
    resolved, base = path.resolve(), root.resolve()
    if resolved != base and base not in resolved.parents:
        raise InputError(f"{path.name!r} is a symlink to {str(resolved)!r}, outside the folder being read; "
                         "scalelaw does not follow links out of an input folder", file=str(path))
    return path


def files_under(root: Path, skip_links: frozenset[str] = frozenset()) -> list[Path]:
    """Regular files under ``root`` (sorted), walking no symlinked folder and no link out of ``root``.

    A symlink named in ``skip_links`` (a tool's own links, e.g. W&B's ``debug-core.log``) is
    skipped, neither followed nor refused.
    """
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs:
            if (Path(folder) / name).is_symlink() and name not in skip_links:
                check_inside(root, Path(folder) / name)  # a link inside root is walked from its real place
        for name in files:
            path = Path(folder) / name
            if path.is_symlink():
                if name in skip_links:
                    continue
                check_inside(root, path)
            if path.is_file():
                found.append(path)
    return sorted(found)


def files_within(path: Path, pattern: str, depth: int) -> list[Path]:
    """Files matching ``pattern`` at most ``depth`` folders below ``path`` (bounded search)."""
    found: list[Path] = []
    for level in range(depth + 1):
        found += [p for p in path.glob("/".join(["*"] * level + [pattern])) if p.is_file()]
    return sorted(check_inside(path, p) for p in found)  # no symlink out of the folder being read


def head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a file (bounded, whatever the file's size)."""
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=str(path)) from None


def read_capped(path: Path, max_bytes: int = MAX_LOG_FILE_BYTES) -> bytes:
    """The bytes of ``path``, refused (InputError) when it is longer than ``max_bytes``.

    Memory follows the file's size, not the cap: ``read(max_bytes + 1)`` would reserve
    the whole cap (2 GiB) for every small file, and fail under an address-space limit.
    """
    try:
        with open(path, "rb") as handle:
            hint = os.fstat(handle.fileno()).st_size  # 0 for pipes and /proc files: then read in chunks
            parts = [handle.read(min(hint, max_bytes) + 1)]
            total = len(parts[0])
            while total <= max_bytes:
                more = handle.read(min(1 << 24, max_bytes + 1 - total))
                if not more:
                    break
                parts.append(more)
                total += len(more)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=str(path)) from None
    if total > max_bytes:
        raise InputError(f"the file is larger than the {_size(max_bytes)} scalelaw reads whole", file=str(path))
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _size(count: int) -> str:
    return f"{count >> 30} GiB" if count >= 1 << 30 else f"{count >> 20} MiB" if count >= 1 << 20 else f"{count} bytes"
