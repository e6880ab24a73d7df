"""A small TensorBoard event-file writer for tests: protobuf encoding plus TFRecord framing."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

from scalelaw.data.readers.tensorboard import masked_crc32c


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, wire: int, payload: bytes | int) -> bytes:
    key = varint((number << 3) | wire)
    if wire == 0:
        return key + varint(int(payload))
    if wire == 2:
        return key + varint(len(payload)) + payload  # type: ignore[arg-type]
    return key + payload  # type: ignore[operator]


def scalar_value(tag: str, value: float, *, as_tensor: bool) -> bytes:
    """A Summary.Value: simple_value (PyTorch style) or a scalar float tensor (TF2 style)."""
    body = field(1, 2, tag.encode())
    if as_tensor:
        tensor = field(1, 0, 1) + field(2, 2, b"") + field(5, 2, struct.pack("<f", value))
        return body + field(8, 2, tensor)
    return body + field(2, 5, struct.pack("<f", value))


def event(step: int, scalars: Mapping[str, float], *, wall_time: float = 0.0, as_tensor: bool = False) -> bytes:
    summary = b"".join(field(1, 2, scalar_value(t, v, as_tensor=as_tensor)) for t, v in scalars.items())
    return field(1, 1, struct.pack("<d", wall_time)) + field(2, 0, step) + field(5, 2, summary)


def record(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", masked_crc32c(header)) + payload + struct.pack("<I", masked_crc32c(payload))


def write_events(path: Path, events: Iterable[tuple[int, Mapping[str, float]]], *, as_tensor: bool = False) -> Path:
    """Write an event file: a file_version record, then one Event per ``(step, {tag: value})``."""
    data = record(field(1, 1, struct.pack("<d", 0.0)) + field(3, 2, b"brain.Event:2"))
    data += b"".join(record(event(s, v, wall_time=float(s), as_tensor=as_tensor)) for s, v in events)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
