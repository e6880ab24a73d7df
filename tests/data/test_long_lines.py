"""The long-line check, which jumps from line start to line start, against a naive split."""

from __future__ import annotations

import random

from scalelaw.data.readers.tabular import first_long_line


def _naive_long_line(data: bytes, limit: int) -> int | None:
    return next((i for i, line in enumerate(data.split(b"\n")) if len(line) > limit), None)


def test_long_line_jumps_find_the_first_long_line() -> None:
    rng = random.Random(5)
    for _ in range(5000):
        limit = rng.randint(1, 12)
        data = bytes(rng.choice(b"\nab" if rng.random() < 0.5 else b"\naaaaaaa") for _ in range(rng.randint(0, 60)))
        assert first_long_line(data, limit) == _naive_long_line(data, limit), (data, limit)
