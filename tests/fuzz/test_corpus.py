"""Every hostile input in the corpus gives a clear InputError (file, run, row), exit 2, no store write."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "data"))

from corpus import CASES, VALID, Builder  # noqa: E402

import pandas as pd  # noqa: E402

from scalelaw.cli.main import run  # noqa: E402
from scalelaw.data.runs import RunSet  # noqa: E402
from scalelaw.data.store import RunStore  # noqa: E402
from scalelaw.data.pipeline import read_runs  # noqa: E402
from scalelaw.errors import InputError  # noqa: E402


def check_case(
    folder: Path, build: Builder, row: int | None, options: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> str | None:
    """None if the case behaves, else what went wrong."""
    path = build(folder)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_runs(path, **options)
    except InputError as exc:
        where = exc.location
        if where.file is None or not str(where.file).startswith(str(path)):
            return f"error does not name the file: {exc}"
        if row is not None and where.row != row:
            return f"error names row {where.row}, expected {row}: {exc}"
    except Exception as exc:  # noqa: BLE001 - the point of the test is to catch anything else
        return f"{type(exc).__name__} instead of InputError: {exc}"
    else:
        return "read without an error"
    store = folder / "store"
    RunStore(store).put(RunSet(pd.DataFrame({"run": ["kept"], "loss": [3.0]})))
    before = sorted((p.name, p.read_bytes()) for p in store.rglob("*") if p.is_file())
    maps = [f"--map={k}={v}" for k, v in options.get("columns", {}).items()]
    capsys.readouterr()
    code = run(["runs", "import", str(path), *maps, "--store", str(store)])
    err = capsys.readouterr().err
    if code != 2 or "Traceback" in err or not err.startswith("error:"):
        return f"CLI exit {code}, stderr {err[:200]!r}"
    if sorted((p.name, p.read_bytes()) for p in store.rglob("*") if p.is_file()) != before:
        return "the store changed"
    return None


def test_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(CASES) >= 40
    failures = []
    for number, (name, build, row, options) in enumerate(CASES):
        folder = tmp_path / f"case{number}"
        folder.mkdir()
        problem = check_case(folder, build, row, options, capsys)
        if problem:
            failures.append(f"{name}: {problem}")
    with capsys.disabled():
        print(f"\nmalformed-input corpus: {len(CASES)} tried, {len(CASES) - len(failures)} passed")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("name", "build"), VALID, ids=[v[0] for v in VALID])
def test_unusual_but_valid_inputs_read(tmp_path: Path, name: str, build: Builder) -> None:
    runs = read_runs(build(tmp_path))
    assert runs.runs == ["a"]
    assert runs.curve("a")["loss"].iloc[0] == 4.0
