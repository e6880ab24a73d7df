"""Every hostile input of the corpus (tests/fuzz/hostile.py) is refused cleanly or handled, with no side effect."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hostile import CASES, Outcome  # noqa: E402

from scalelaw.cli.main import run  # noqa: E402

pytest.importorskip("torch")  # the checkpoint case trains a tiny ladder run


def test_hostile_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(CASES) >= 60

    def cli(argv: list[str]) -> Outcome:
        capsys.readouterr()
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            code = run(argv)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    failures = []
    for number, (name, check) in enumerate(CASES):
        folder = tmp_path / f"case{number}"
        folder.mkdir()
        try:
            problem = check(folder, cli)
        except Exception as exc:  # noqa: BLE001 - a case that crashes the harness is a failure too
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            failures.append(f"{name}: {problem}")
    with capsys.disabled():
        print(f"\nhostile-input corpus: {len(CASES)} tried, {len(CASES) - len(failures)} passed")
    assert not failures, "\n".join(failures)
