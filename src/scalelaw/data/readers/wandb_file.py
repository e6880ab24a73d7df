"""A decoder of W&B run files (``run-<id>.wandb``, offline or synced run folders), no ``wandb`` import.

The format (wandb's ``datastore``): a 7-byte header (``":W&B"``, magic ``0xBEE1`` as
uint16 little-endian, version byte 0), then LevelDB-log framing: 32 KiB blocks of chunks
``crc32: uint32 | length: uint16 | type: uint8 | data``, type FULL=1, FIRST=2, MIDDLE=3,
LAST=4, the CRC being zlib's CRC-32 of the type byte and the data; fewer than 7 bytes left
in a block are zero padding. Each record is a protobuf ``wandb_internal.Record``; read here:
``history`` (2: items with ``key``/``nested_key`` and ``value_json``, ``step.num``), ``config``
(5) and ``run`` (17: ``run_id``, ``display_name``, ``config``), ``header`` (21: producer version).
Memory is bounded: the file is read a block at a time and a record is at most ``MAX_RECORD`` bytes.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import BinaryIO

import numpy as np

from scalelaw.data.aliases import metadata_columns
from scalelaw.data.guards import files_under
from scalelaw.data.readers.raw import Keys, RawTable, columns_from_records
from scalelaw.data.readers.tabular import MAX_COLUMNS
from scalelaw.data.readers.tensorboard import fields
from scalelaw.errors import DataWarning, InputError, warn

IDENT = b":W&B"
MAGIC = 0xBEE1
VERSION = 0
HEADER = struct.Struct("<4sHB")
CHUNK = struct.Struct("<IHB")
BLOCK = 32768
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
MAX_RECORD = 64 << 20
#: Field numbers of wandb_internal.Record that this decoder knows (record types and envelope fields).
KNOWN_FIELDS = frozenset({1, *range(2, 14), 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 100, 200})
HISTORY, CONFIG, RUN, HEADER_RECORD = 2, 5, 17, 21
#: Symlinks wandb writes in its own folders (to its debug logs, the latest run): skipped, never followed.
WANDB_LINKS = frozenset({"debug.log", "debug-internal.log", "debug-core.log", "latest-run"})
#: Keys W&B adds to every history row; ``_step`` is kept (it is the step), the others dropped.
INTERNAL_KEYS = frozenset({"_runtime", "_timestamp", "_wandb"})


def is_wandb(head: bytes) -> bool:
    """True when a file starts with the W&B run-file identifier."""
    return head.startswith(IDENT)


class _Chunks:
    """The records of a run file, checked chunk by chunk; ``cut`` says the last one was incomplete."""

    def __init__(self, handle: BinaryIO, file: str) -> None:
        self.handle, self.file, self.cut, self.number = handle, file, False, 0

    def _header(self) -> None:
        head = self.handle.read(HEADER.size)
        if len(head) < HEADER.size or not head.startswith(IDENT):
            raise InputError("not a W&B run file (no ':W&B' header)", file=self.file)
        _, magic, version = HEADER.unpack(head)
        if magic != MAGIC:
            raise InputError(f"not a W&B run file (magic {magic:#06x}, expected {MAGIC:#06x})", file=self.file)
        if version != VERSION:
            raise InputError(f"the W&B run file has format version {version}; this reader knows version {VERSION} "
                             "(written by a newer W&B?): export the history as CSV from the web UI, or pull it "
                             "with wandb.Api() (scalelaw.data.readers.wandb_api)", file=self.file)

    def records(self) -> Iterator[bytes]:
        """Chunks of every 32 KiB block, checked and assembled into records."""
        self._header()
        offset = HEADER.size
        pending: bytearray | None = None
        while True:
            block = self.handle.read(BLOCK) if offset == 0 else HEADER.pack(IDENT, MAGIC, VERSION) + self.handle.read(BLOCK - HEADER.size)
            if len(block) <= offset:
                break
            while len(block) - offset >= CHUNK.size:
                crc, length, kind = CHUNK.unpack_from(block, offset)
                if crc == 0 and length == 0 and kind == 0:  # zero padding (a preallocated or padded block)
                    break
                start, end = offset + CHUNK.size, offset + CHUNK.size + length
                if end > len(block):
                    if len(block) < BLOCK:  # the file ends inside this chunk
                        self.cut = True
                        return
                    raise self._damaged("a chunk runs past the end of its 32 KiB block")
                data = block[start:end]
                if zlib.crc32(data, zlib.crc32(bytes([kind]))) != crc:
                    raise self._damaged("bad checksum")
                offset = end
                if kind == FULL and pending is None:
                    self.number += 1
                    yield data
                elif kind == FIRST and pending is None:
                    pending = bytearray(data)
                elif kind in (MIDDLE, LAST) and pending is not None:
                    pending += data
                    if len(pending) > MAX_RECORD:
                        raise self._damaged(f"a record longer than {MAX_RECORD >> 20} MiB")
                    if kind == LAST:
                        self.number += 1
                        yield bytes(pending)
                        pending = None
                else:
                    raise self._damaged(f"chunk type {kind} out of sequence")
            if len(block) < BLOCK:
                if any(block[offset:]):
                    self.cut = True  # a chunk header cut off by the end of the file
                break
            offset = 0
        if pending is not None:
            self.cut = True

    def _damaged(self, what: str) -> InputError:
        record = self.number + 1
        return InputError(f"record {record}: {what} (the W&B run file is damaged)", file=self.file, row=record)


def _key(item: bytes) -> tuple[str | None, object]:
    """A history/config item's key (``nested_key`` parts joined with '.') and its JSON value."""
    key, parts, value = None, [], None
    for number, wire, raw in fields(item):
        if number == 1 and wire == 2:
            key = bytes(raw).decode("utf-8", errors="replace")
        elif number == 2 and wire == 2:
            parts.append(bytes(raw).decode("utf-8", errors="replace"))
        elif number == 16 and wire == 2:
            value = _json_value(bytes(raw))
    return (key if key else ".".join(parts) or None), value


def _json_value(raw: bytes) -> object:
    """A ``value_json``: numbers (nearly every history value) parsed directly, anything else as JSON."""
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return json.loads(raw.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class _Run:
    """What one run file holds: history by step, config, identity."""

    def __init__(self) -> None:
        self.history: dict[int, dict[str, float]] = {}
        self.rows: dict[int, int] = {}
        self.config: dict[str, object] = {}
        self.run_id = ""
        self.name = ""
        self.producer = "unknown"

    def history_record(self, payload: bytes, number: int, file: str) -> None:
        values: dict[str, float] = {}
        step: int | None = None
        for field_number, wire, raw in fields(payload):
            if field_number == 1 and wire == 2:
                key, value = _key(raw)
                number_value = _number(value)
                if key is None or key in INTERNAL_KEYS or number_value is None:
                    continue
                if not math.isfinite(number_value):
                    raise InputError(f"history value of {key!r} is {value}", file=file, row=number, column=key)
                values[key] = number_value
            elif field_number == 2 and wire == 2:
                step = next((int(v) for n, w, v in fields(raw) if n == 1 and w == 0), 0)
        if step is None:
            step = int(values["_step"]) if "_step" in values else len(self.history)
        values.pop("_step", None)
        self.history.setdefault(step, {}).update(values)
        self.rows.setdefault(step, number)

    def config_items(self, payload: bytes) -> None:
        for number, wire, raw in fields(payload):
            if number == 1 and wire == 2:
                key, value = _key(raw)
                if isinstance(value, dict) and "value" in value:  # {"value": ..., "desc": ...} in some versions
                    value = value["value"]
                if key and key != "_wandb" and isinstance(value, (int, float, str, bool)):
                    self.config[key] = value

    def run_record(self, payload: bytes) -> None:
        for number, wire, raw in fields(payload):
            if number == 1 and wire == 2:
                self.run_id = bytes(raw).decode("utf-8", errors="replace")
            elif number == 8 and wire == 2:
                self.name = bytes(raw).decode("utf-8", errors="replace")
            elif number == 4 and wire == 2:
                self.config_items(raw)


def decode_run_file(path: Path) -> _Run:
    """Decode one ``.wandb`` file; damage, an unknown version or record type is an InputError."""
    run = _Run()
    file = str(path)
    with path.open("rb") as handle:
        chunks = _Chunks(handle, file)
        for payload in chunks.records():
            number = chunks.number
            try:
                for field_number, wire, raw in fields(payload):
                    if field_number not in KNOWN_FIELDS:
                        raise InputError(
                            f"record {number} has type {field_number}, unknown to this reader: the file was written "
                            f"by a newer W&B ({run.producer}); export the history as CSV from the web UI or pull "
                            "it with wandb.Api()", file=file, row=number)
                    if wire != 2:
                        continue
                    if field_number == HISTORY:
                        run.history_record(raw, number, file)
                    elif field_number == CONFIG:
                        run.config_items(raw)
                    elif field_number == RUN:
                        run.run_record(raw)
                    elif field_number == HEADER_RECORD:
                        run.producer = _producer(raw)
            except (ValueError, struct.error) as exc:
                raise InputError(f"record {number} is not a valid W&B record ({exc})", file=file, row=number) from None
    if chunks.cut:
        warn(f"file {file}: the last record is cut off at the end of the file (a run still writing?); "
             f"read the {chunks.number} complete records before it", DataWarning)
    return run


def _producer(payload: bytes) -> str:
    for number, wire, raw in fields(payload):
        if number == 1 and wire == 2:
            for n, w, value in fields(raw):
                if n == 1 and w == 2:
                    return "W&B " + bytes(value).decode("utf-8", errors="replace")
    return "unknown"


def wandb_files(path: Path) -> list[Path]:
    """The run files at ``path`` (a ``.wandb`` file) or under it (a run folder, ``wandb/``, a project)."""
    if path.is_file():
        return [path]
    return [p for p in files_under(path, WANDB_LINKS) if fnmatch(p.name, "run-*.wandb")]  # no link out of the folder


def read_wandb(path: Path, *, keys: Keys = Keys()) -> list[RawTable]:
    """Every run in W&B run files as a table: one row per step, one column per logged number, config as metadata.

    Files of one run id (a resumed run writes a new folder) are merged in folder order,
    a later value at a step replacing an earlier one. A display name shared by several runs
    gets the run id appended.
    """
    by_id: dict[str, list[tuple[Path, _Run]]] = {}
    for file in wandb_files(path):
        decoded = decode_run_file(file)
        by_id.setdefault(decoded.run_id or file.stem.removeprefix("run-"), []).append((file, decoded))
    if not by_id:
        raise InputError("the folder holds no W&B run files (run-*.wandb)", file=str(path))
    names = {run_id: next((r.name for _, r in reversed(parts) if r.name), run_id) for run_id, parts in by_id.items()}
    tables = []
    for run_id, parts in by_id.items():
        name = names[run_id] if list(names.values()).count(names[run_id]) == 1 else f"{names[run_id]}-{run_id}"
        file = str(parts[0][0]) if len(parts) == 1 else str(path)
        history: dict[int, dict[str, float]] = {}
        rows: dict[int, int] = {}
        config: dict[str, object] = {}
        for _, decoded in parts:
            for step, values in decoded.history.items():
                history.setdefault(step, {}).update(values)
                rows.setdefault(step, decoded.rows[step])
            config.update(decoded.config)
        tables.append(history_table(history, rows, config, file=file, run=name, run_id=run_id, keys=keys))
    return tables


def history_table(history: dict[int, dict[str, float]], rows: dict[int, int], config: dict[str, object], *,
                  file: str, run: str, run_id: str, keys: Keys = Keys()) -> RawTable:
    """A W&B run's history (``{step: {key: value}}``) and config as one table, one row per step."""
    if not history:
        raise InputError("the W&B run holds no history (nothing logged with wandb.log)", file=file, run=run)
    steps = sorted(history)
    frame = columns_from_records([history[s] for s in steps], keys=keys, fill=np.nan, file=file,
                                 max_keys=MAX_COLUMNS)
    frame.insert(0, "_step", np.asarray(steps, dtype="float64"))
    constants = {"wandb.run_id": run_id, **metadata_columns(config, file=file)}
    frame = frame.assign(**{k: v for k, v in constants.items() if k not in frame.columns})
    return RawTable(frame, np.asarray([rows[s] for s in steps]), file, run, "logger")
