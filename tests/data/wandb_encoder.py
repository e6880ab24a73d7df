"""A small W&B run-file writer for tests: LevelDB-log chunks (zlib CRC-32) around protobuf Records."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from tb_encoder import field

BLOCK = 32768


def item(key: str, value: object) -> bytes:
    """A HistoryItem/ConfigItem: nested_key (W&B 0.31 writes it) and value_json."""
    return field(2, 2, key.encode()) + field(16, 2, json.dumps(value).encode())


def history(step: int, values: Mapping[str, float]) -> bytes:
    items = b"".join(field(1, 2, item(k, v)) for k, v in {**values, "_step": step}.items())
    return field(2, 2, items + field(2, 2, field(1, 0, step)))


def run(run_id: str, name: str, config: Mapping[str, object]) -> bytes:
    updates = b"".join(field(1, 2, item(k, v)) for k, v in config.items())
    return field(17, 2, field(1, 2, run_id.encode()) + field(4, 2, updates) + field(8, 2, name.encode()))


def frame(records: Iterable[bytes], *, version: int = 0) -> bytes:
    """Header plus records, split into FIRST/MIDDLE/LAST chunks at 32 KiB block edges as wandb does."""
    out = bytearray(struct.pack("<4sHB", b":W&B", 0xBEE1, version))
    for record in records:
        data, first = record, True
        while True:
            left = BLOCK - len(out) % BLOCK
            if left < 7:
                out += b"\x00" * left
                continue
            piece, data = data[: left - 7], data[left - 7 :]
            kind = (1 if not data else 2) if first else (4 if not data else 3)
            out += struct.pack("<IHB", zlib.crc32(piece, zlib.crc32(bytes([kind]))), len(piece), kind) + piece
            first = False
            if not data:
                break
    return bytes(out)


def write_run(path: Path, steps: Iterable[tuple[int, Mapping[str, float]]], *, name: str = "tiny",
              config: Mapping[str, object] | None = None, extra: Iterable[bytes] = (), version: int = 0) -> Path:
    records = [run("abc123", name, config or {"n_params": 1e6}), *(history(s, v) for s, v in steps), *extra]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(frame(records, version=version))
    return path
