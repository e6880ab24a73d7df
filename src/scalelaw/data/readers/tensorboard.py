"""A minimal TensorBoard event-file reader: TFRecord framing, CRC32C, and protobuf decoding.

Read: scalars (``Event{wall_time, step, summary{value{tag, simple_value | tensor}}}``)
and the hyperparameters ``add_hparams`` writes (the hparams plugin's session start
info), which become run metadata. Every record's length and data checksums are
verified: a damaged record is an :class:`InputError` naming it, never garbage; only a
last record cut off by the end of the file (a run still writing) is skipped, with a warning.
The event files of one folder are one run, merged as TensorBoard shows them.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from scalelaw.data.aliases import metadata_columns
from scalelaw.data.guards import files_under, read_capped
from scalelaw.data.readers.lightning import HPARAMS, hparams_metadata
from scalelaw.data.readers.lightning import UNKNOWN as LIGHTNING_UNKNOWN
from scalelaw.data.readers.raw import Keys, RawTable
from scalelaw.errors import DataWarning, InputError, warn


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()
_NP_TABLE = np.asarray(_TABLE, dtype=np.uint32)
LONG_RECORD = 4096
#: The tag under which ``add_hparams`` writes the hparams plugin's session start info.
HPARAMS_TAG = "_hparams_/session_start_info"


def crc32c(data: bytes) -> int:
    """The CRC32C (Castagnoli) checksum of ``data``."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits and add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _mask(crc: np.ndarray) -> np.ndarray:
    return ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + np.uint32(0xA282EAD8)


def masked_crc32c_many(data: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Masked CRC32C of many byte ranges at once: one numpy step per byte position.

    Scalar event files hold many short records, so this is far faster than a byte loop
    per record; a record longer than ``LONG_RECORD`` bytes is checked on its own.
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    out = np.empty(len(starts), dtype=np.uint32)
    long = lengths > LONG_RECORD
    for i in np.flatnonzero(long):
        out[i] = masked_crc32c(data[starts[i] : starts[i] + lengths[i]])
    short = np.flatnonzero(~long)
    order = short[np.argsort(-lengths[short], kind="stable")]
    first, size = starts[order], lengths[order]
    ascending = size[::-1]
    crc = np.full(len(order), 0xFFFFFFFF, dtype=np.uint32)
    for j in range(int(size.max()) if len(size) else 0):
        k = len(size) - int(np.searchsorted(ascending, j, side="right"))
        crc[:k] = _NP_TABLE[(crc[:k] ^ buffer[first[:k] + j]) & 0xFF] ^ (crc[:k] >> np.uint32(8))
    out[order] = _mask(crc ^ np.uint32(0xFFFFFFFF))
    return out


def _framing(data: bytes, *, file: str) -> tuple[list[int], list[int], list[int], bool]:
    """Start, length and stored data checksum of every complete record, and whether the last one is cut off.

    A record that runs past the end of the data (a writer stopped mid-record, or a run still
    writing) ends the file; a bad length checksum anywhere is damage and an error.
    """
    offset, number, starts, lengths, stored = 0, 0, [], [], []
    while offset < len(data):
        number += 1
        if offset + 12 > len(data):
            return starts, lengths, stored, True
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8 : offset + 12])
        if masked_crc32c(header) != length_crc:
            raise InputError(f"record {number}: bad length checksum (not a TensorBoard event file, or damaged)",
                             file=file, row=number)
        end = offset + 12 + length + 4
        if end > len(data):
            return starts, lengths, stored, True
        starts.append(offset + 12)
        lengths.append(length)
        stored.append(struct.unpack("<I", data[end - 4 : end])[0])
        offset = end
    return starts, lengths, stored, False


def iter_records(data: bytes, *, file: str, allow_cut_tail: bool = False) -> Iterator[bytes]:
    """Yield the payload of every TFRecord in ``data``, after checking both checksums of all.

    A last record cut off by the end of the data is an error, or, with ``allow_cut_tail``,
    skipped with one :class:`DataWarning` (the file of a run still writing ends that way).
    """
    starts, lengths, stored, cut = _framing(data, file=file)
    if cut and not allow_cut_tail:
        number = len(starts) + 1
        raise InputError(f"record {number} is cut off (the file is truncated)", file=file, row=number)
    first, size = np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    bad = np.flatnonzero(masked_crc32c_many(data, first, size) != np.asarray(stored, dtype=np.uint32))
    if bad.size:
        raise InputError(f"record {bad[0] + 1}: bad data checksum (the file is damaged)", file=file, row=int(bad[0]) + 1)
    if cut:
        warn(f"file {file}: record {len(starts) + 1} is cut off at the end of the file (a run still writing?); "
             f"read the {len(starts)} complete records before it", DataWarning)
    for start, length in zip(starts, lengths, strict=True):
        yield data[start : start + length]


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """A protobuf varint: at most ten bytes and 64 bits (a longer one is damage, not a number)."""
    result, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("bad varint")
        byte = buf[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            if result >= 1 << 64:
                raise ValueError("varint overflows 64 bits")
            return result, pos
        shift += 7


def fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Decode protobuf wire format: yield ``(field number, wire type, value)``."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos : pos + 8], "little"), pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos : pos + 4], "little"), pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise ValueError("field runs past the end of the message")
        yield number, wire, value


def _tensor_scalar(buf: bytes) -> float | None:
    """The value of a scalar TensorProto (float or double), or None if it is not one."""
    dtype, content, values = 0, b"", []
    for number, wire, value in fields(buf):
        if number == 1 and wire == 0:
            dtype = int(value)
        elif number == 2 and wire == 2 and any(n == 2 for n, _, _ in fields(value)):  # a non-empty shape
            return None
        elif number == 4 and wire == 2:
            content = bytes(value)
        elif number == 5:  # float_val, packed or not
            values += list(struct.unpack(f"<{len(value) // 4}f", value)) if wire == 2 else [struct.unpack("<f", int(value).to_bytes(4, "little"))[0]]
        elif number == 6:  # double_val
            values += list(struct.unpack(f"<{len(value) // 8}d", value)) if wire == 2 else [struct.unpack("<d", int(value).to_bytes(8, "little"))[0]]
    if values:
        return float(values[0])
    if dtype == 1 and len(content) == 4:
        return struct.unpack("<f", content)[0]
    if dtype == 2 and len(content) == 8:
        return struct.unpack("<d", content)[0]
    return None


class Event(NamedTuple):
    """What scalelaw reads from one Event: its step, scalar ``(tag, value)`` pairs, and hparams."""

    step: int
    scalars: list[tuple[str, float]]
    hparams: dict[str, object]


def parse_event(payload: bytes) -> Event:
    """The step, the scalars and the hyperparameters (``add_hparams``) of one serialized Event."""
    step, scalars, hparams = 0, [], {}
    for number, wire, value in fields(payload):
        if number == 2 and wire == 0:
            step = int(value) - (1 << 64) if int(value) >= 1 << 63 else int(value)
        elif number == 5 and wire == 2:  # summary
            for n, w, item in fields(value):
                if n == 1 and w == 2:
                    tag, scalar, metadata = _summary_value(item)
                    if tag == HPARAMS_TAG and metadata is not None:
                        hparams.update(_session_hparams(metadata))
                    elif tag is not None and scalar is not None:
                        scalars.append((tag, scalar))
    return Event(step, scalars, hparams)


def _summary_value(buf: bytes) -> tuple[str | None, float | None, bytes | None]:
    """A Summary.Value's tag, scalar (if it is one) and serialized metadata."""
    tag, scalar, metadata = None, None, None
    for number, wire, value in fields(buf):
        if number == 1 and wire == 2:
            tag = bytes(value).decode("utf-8", errors="replace")
        elif number == 2 and wire == 5:
            scalar = struct.unpack("<f", int(value).to_bytes(4, "little"))[0]
        elif number == 8 and wire == 2:
            scalar = _tensor_scalar(value)
        elif number == 9 and wire == 2:
            metadata = bytes(value)
    return tag, scalar, metadata


def _session_hparams(metadata: bytes) -> dict[str, object]:
    """The hparams of the hparams plugin's SessionStartInfo inside a SummaryMetadata.

    SummaryMetadata.plugin_data (1) → PluginData{plugin_name (1), content (2)} → content is
    HParamsPluginData, whose session_start_info (3) maps hparams (1) to google.protobuf.Value.
    """
    plugin, content = b"", b""
    for number, wire, value in fields(metadata):
        if number == 1 and wire == 2:
            for n, w, item in fields(value):
                if n == 1 and w == 2:
                    plugin = bytes(item)
                elif n == 2 and w == 2:
                    content = bytes(item)
    if plugin != b"hparams":
        return {}
    hparams: dict[str, object] = {}
    for number, wire, value in fields(content):
        if number == 3 and wire == 2:
            for n, w, entry in fields(value):
                if n == 1 and w == 2:
                    key, item = _map_entry(entry)
                    if key is not None and item is not None:
                        hparams[key] = item
    return hparams


def _map_entry(buf: bytes) -> tuple[str | None, object]:
    """One ``map<string, google.protobuf.Value>`` entry: a number, a string or a bool (others are skipped)."""
    key, item = None, None
    for number, wire, value in fields(buf):
        if number == 1 and wire == 2:
            key = bytes(value).decode("utf-8", errors="replace")
        elif number == 2 and wire == 2:
            for n, w, v in fields(value):
                if n == 2 and w == 1:
                    item = struct.unpack("<d", int(v).to_bytes(8, "little"))[0]
                elif n == 3 and w == 2:
                    item = bytes(v).decode("utf-8", errors="replace")
                elif n == 4 and w == 0:
                    item = bool(v)
    return key, item


class _Points:
    """Scalars of one run as TensorBoard shows them: per tag, a value logged again at a step
    already seen (a resumed run) replaces that step and drops the tag's later points."""

    def __init__(self) -> None:
        self.by_tag: dict[str, tuple[list[int], list[float], list[int]]] = {}
        self.replaced = 0
        self.hparams: dict[str, object] = {}

    def add(self, event: Event, row: int) -> None:
        self.hparams.update(event.hparams)
        for tag, value in event.scalars:
            steps, values, rows = self.by_tag.setdefault(tag, ([], [], []))
            if steps and event.step == steps[-1] and value == values[-1]:
                continue  # the same value again (Lightning logs ``epoch`` with every metric of a step)
            if steps and event.step <= steps[-1]:
                keep = bisect.bisect_left(steps, event.step)
                self.replaced += len(steps) - keep
                del steps[keep:], values[keep:], rows[keep:]
            steps.append(event.step)
            values.append(value)
            rows.append(row)

    def frame(self, *, file: str, keys: Keys) -> tuple[pd.DataFrame, np.ndarray]:
        """One row per step (sorted), one column per kept tag; each step's row number is its first record.

        Built per tag with array indexing: linear in the points logged plus steps x kept tags.
        """
        if "_step" in self.by_tag:
            raise InputError("a scalar is tagged '_step', which scalelaw uses for the event step", file=file)
        kept = keys.select(self.by_tag, file=file)
        logged = [np.asarray(self.by_tag[tag][0], dtype=np.int64) for tag in kept]
        steps = np.unique(np.concatenate(logged)) if logged else np.empty(0, dtype=np.int64)
        if not steps.size:
            raise InputError("the event file holds no scalar values", file=file)
        first_row = np.full(len(steps), np.iinfo(np.int64).max)
        columns = {}
        for tag, at in zip(kept, logged, strict=True):
            where = np.searchsorted(steps, at)
            column = np.full(len(steps), np.nan)
            column[where] = self.by_tag[tag][1]
            columns[tag] = column
            np.minimum.at(first_row, where, np.asarray(self.by_tag[tag][2], dtype=np.int64))
        frame = pd.DataFrame({"_step": steps.astype("float64"), **columns})
        return frame, first_row


def _read_events(path: Path, points: _Points, *, row_offset: int = 0) -> int:
    """Add the events of one file to ``points``; returns the number of records read."""
    data = read_capped(path)
    if not data:
        raise InputError("the file is empty", file=str(path))
    count = 0
    for count, payload in enumerate(iter_records(data, file=str(path), allow_cut_tail=True), start=1):
        try:
            event = parse_event(payload)
        except (ValueError, OverflowError, struct.error) as exc:
            raise InputError(f"record {count} is not a valid Event message ({exc})", file=str(path), row=count) from None
        points.add(event, row_offset + count)
    return count


def _raw_table(points: _Points, *, file: str, run: str, folder: Path, keys: Keys) -> RawTable:
    """A run's points as a table; a Lightning TensorBoardLogger's ``hparams.yaml`` beside them gives metadata."""
    frame, rows = points.frame(file=file, keys=keys)
    frame = frame.assign(**{k: v for k, v in hparams_metadata(folder).items() if k not in frame.columns})
    if points.replaced:
        warn(f"run {run!r} ({file}): {points.replaced} point(s) were logged again at steps already seen "
             "(a resumed run); the later values are kept, as TensorBoard shows them", DataWarning)
    if points.hparams:
        hparams = metadata_columns(points.hparams, file=file)
        frame = frame.assign(**{k: v for k, v in hparams.items() if k not in frame.columns})
    unknown = LIGHTNING_UNKNOWN if (folder / HPARAMS).is_file() else {}  # a Lightning TensorBoardLogger run
    return RawTable(frame, rows, file, run, "logger", unknown=unknown)


def read_tensorboard(path: Path, keys: Keys = Keys()) -> RawTable:
    """Scalars (and hparams) of one event file as a table with one row per step and one column per tag.

    The run id is the folder holding the file (TensorBoard's one-run-per-folder layout).
    """
    points = _Points()
    _read_events(path, points)
    return _raw_table(points, file=str(path), run=path.resolve().parent.name, folder=path.parent, keys=keys)


def event_files(root: Path) -> dict[Path, list[Path]]:
    """Event files under ``root`` grouped by folder, each group in file-name (= creation time) order."""
    groups: dict[Path, list[Path]] = {}
    for path in (p for p in files_under(root) if "tfevents" in p.name):
        groups.setdefault(path.parent, []).append(path)
    return groups


def read_tensorboard_folder(root: Path, keys: Keys = Keys()) -> list[RawTable]:
    """Every run of a TensorBoard log folder, named by its folder relative to ``root``.

    The event files of one folder are one run, read in name order and merged (a resumed run).
    A sub-folder holding the hparams plugin's session info inside another run's folder is
    where ``add_hparams`` writes by default: its hparams go to that run, and its own scalars
    (the ``metric_dict`` summary) are not a run.
    """
    groups = event_files(root)
    points: dict[Path, _Points] = {}
    for folder, files in groups.items():
        points[folder] = _Points()
        rows = 0
        for path in files:
            rows += _read_events(path, points[folder], row_offset=rows if len(files) > 1 else 0)
    for folder in list(points):
        if points[folder].hparams and folder != root and folder.parent in points:
            parent = points[folder.parent]
            parent.hparams = {**points.pop(folder).hparams, **parent.hparams}
    tables = []
    for folder, run_points in points.items():
        relative = folder.relative_to(root).as_posix()
        run = root.resolve().name if relative == "." else relative
        files = groups[folder]
        tables.append(_raw_table(run_points, file=str(files[0] if len(files) == 1 else folder), run=run, folder=folder,
                                 keys=keys))
    return tables


def read_tensorboard_path(path: Path, *, keys: Keys = Keys()) -> list[RawTable]:
    """An event file, or every run of a log folder (a run is named by its folder)."""
    return read_tensorboard_folder(path, keys) if path.is_dir() else [read_tensorboard(path, keys)]
