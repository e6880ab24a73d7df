"""A CSV parsed in pieces on threads gives the run set a whole parse gives; the long-line check's jumps."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelaw.data.pipeline import read_runs
from scalelaw.data.readers import csv_pieces, tabular
from scalelaw.data.readers.tabular import first_long_line
from scalelaw.errors import InputError


def _read(path: Path) -> tuple[pd.DataFrame | None, str | None, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            table, error = read_runs(path).table, None
        except InputError as exc:
            table, error = None, str(exc)
    return table, error, [str(w.message) for w in caught]


def _frames() -> dict[str, pd.DataFrame]:
    steps = np.arange(1, 3001)
    plain = pd.DataFrame({"step": steps, "loss": 2 + 3 * steps**-0.3, "lr": 1e-3 * np.minimum(1, steps / 100)})
    holes = plain.assign(tokens=(steps * 4096).astype(object))
    holes.loc[2500, "tokens"] = ""  # integers in the first pieces, floats with a hole in the last
    text = plain.astype({"loss": object})
    text.loc[2900, "loss"] = "oops"  # numbers in the first piece, text in the last
    spike = plain.copy()
    spike.loc[2000, "loss"] = 50.0
    back = plain.astype({"step": float})
    back.loc[2600, "step"] = 7.0
    return {"plain": plain, "holes": holes, "text": text, "spike": spike, "back": back}


@pytest.mark.parametrize("name", list(_frames()))
def test_pieces_give_what_a_whole_parse_gives(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / f"{name}.csv"
    _frames()[name].to_csv(path, index=False)
    joined: list[bool] = []
    split = csv_pieces.parse_in_pieces

    def spy(*args: object) -> pd.DataFrame | None:
        frame = split(*args)  # type: ignore[arg-type]
        joined.append(frame is not None)
        return frame

    monkeypatch.setattr(csv_pieces, "MIN_SPLIT_BYTES", 1000)
    monkeypatch.setattr(csv_pieces, "_cores", lambda: 3)
    monkeypatch.setattr(tabular, "parse_in_pieces", spy)
    in_pieces = _read(path)
    monkeypatch.setattr(tabular, "parse_in_pieces", lambda *args: None)
    whole = _read(path)
    assert joined == [name not in ("holes", "text")]  # pieces typed differently: parsed whole
    assert in_pieces[1:] == whole[1:]
    if whole[0] is not None:
        pd.testing.assert_frame_equal(in_pieces[0], whole[0], check_exact=True)


def _naive_long_line(data: bytes, limit: int) -> int | None:
    return next((i for i, line in enumerate(data.split(b"\n")) if len(line) > limit), None)


def test_long_line_jumps_find_the_first_long_line() -> None:
    rng = random.Random(5)
    for _ in range(5000):
        limit = rng.randint(1, 12)
        data = bytes(rng.choice(b"\nab" if rng.random() < 0.5 else b"\naaaaaaa") for _ in range(rng.randint(0, 60)))
        assert first_long_line(data, limit) == _naive_long_line(data, limit), (data, limit)
