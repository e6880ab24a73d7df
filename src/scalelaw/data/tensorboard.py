"""A minimal TensorBoard event-file reader: TFRecord framing, CRC32C, and protobuf decoding.

Only scalars are read: ``Event{wall_time, step, summary{value{tag, simple_value |
tensor}}}``. Every record's length and data checksums are verified, so a file cut
mid-record or damaged is an :class:`InputError` naming the record, never garbage.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.data.guards import read_capped
from scalelaw.data.raw import RawTable
from scalelaw.errors import InputError


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


def iter_records(data: bytes, *, file: str) -> Iterator[bytes]:
    """Yield the payload of every TFRecord in ``data``, after checking both checksums of all."""
    offset, number, starts, lengths, stored = 0, 0, [], [], []
    while offset < len(data):
        number += 1
        if offset + 12 > len(data):
            raise InputError(f"record {number} is cut off in its header (the file is truncated)", file=file, row=number)
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8 : offset + 12])
        if masked_crc32c(header) != length_crc:
            raise InputError(f"record {number}: bad length checksum (not a TensorBoard event file, or damaged)",
                             file=file, row=number)
        end = offset + 12 + length + 4
        if end > len(data):
            raise InputError(f"record {number} is cut off (the file is truncated)", file=file, row=number)
        starts.append(offset + 12)
        lengths.append(length)
        stored.append(struct.unpack("<I", data[end - 4 : end])[0])
        offset = end
    first, size = np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    bad = np.flatnonzero(masked_crc32c_many(data, first, size) != np.asarray(stored, dtype=np.uint32))
    if bad.size:
        raise InputError(f"record {bad[0] + 1}: bad data checksum (the file is damaged)", file=file, row=int(bad[0]) + 1)
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


def parse_event(payload: bytes) -> tuple[int, list[tuple[str, float]]]:
    """The step and the scalar ``(tag, value)`` pairs of one serialized Event."""
    step, scalars = 0, []
    for number, wire, value in fields(payload):
        if number == 2 and wire == 0:
            step = int(value) - (1 << 64) if int(value) >= 1 << 63 else int(value)
        elif number == 5 and wire == 2:  # summary
            for n, w, item in fields(value):
                if n == 1 and w == 2:
                    scalars += _summary_value(item)
    return step, scalars


def _summary_value(buf: bytes) -> list[tuple[str, float]]:
    tag, scalar = None, None
    for number, wire, value in fields(buf):
        if number == 1 and wire == 2:
            tag = bytes(value).decode("utf-8", errors="replace")
        elif number == 2 and wire == 5:
            scalar = struct.unpack("<f", int(value).to_bytes(4, "little"))[0]
        elif number == 8 and wire == 2:
            scalar = _tensor_scalar(value)
    return [(tag, scalar)] if tag is not None and scalar is not None else []


def read_tensorboard(path: Path) -> RawTable:
    """Scalars of one event file as a table with one row per step and one column per tag.

    The run id is the folder holding the file (TensorBoard's one-run-per-folder layout).
    """
    data = read_capped(path)
    if not data:
        raise InputError("the file is empty", file=str(path))
    by_step: dict[int, dict[str, float]] = {}
    first_record: dict[int, int] = {}
    for number, payload in enumerate(iter_records(data, file=str(path)), start=1):
        try:
            step, scalars = parse_event(payload)
        except (ValueError, OverflowError, struct.error) as exc:
            raise InputError(f"record {number} is not a valid Event message ({exc})", file=str(path), row=number) from None
        for tag, value in scalars:
            values = by_step.setdefault(step, {})
            if tag in values:
                raise InputError(f"duplicate step {step} for tag {tag!r} (a restarted run?)", file=str(path),
                                 row=number, column=tag)
            values[tag] = value
            first_record.setdefault(step, number)
    if not by_step:
        raise InputError("the event file holds no scalar values", file=str(path))
    steps = sorted(by_step)
    frame = pd.DataFrame.from_records([by_step[s] for s in steps])
    if "_step" in frame.columns:
        raise InputError("a scalar is tagged '_step', which scalelaw uses for the event step", file=str(path))
    frame.insert(0, "_step", np.asarray(steps, dtype="float64"))
    rows = np.asarray([first_record[s] for s in steps])
    return RawTable(frame, rows, str(path), path.resolve().parent.name, "logger")
