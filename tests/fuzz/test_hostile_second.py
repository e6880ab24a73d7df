"""The second review's hostile inputs (tests/fuzz/hostile_second.py): each is refused cleanly or
handled, with no side effect; the memory and time bombs run in a child process under an
address-space limit and a timeout."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hostile import CASES as FIRST_CASES  # noqa: E402
from hostile import Outcome  # noqa: E402
from hostile_second import BOUNDED, CASES, bounded_cli  # noqa: E402

from scalelaw.cli.main import run  # noqa: E402


def _run_cases(cases: list, tmp_path: Path, cli) -> list[str]:  # noqa: ANN001
    failures = []
    for number, (name, check) in enumerate(cases):
        folder = tmp_path / f"case{number}"
        folder.mkdir()
        try:
            problem = check(folder, cli)
        except Exception as exc:  # noqa: BLE001 - a case that crashes the harness is a failure too
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            failures.append(f"{name}: {problem}")
    return failures


def test_second_review_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(FIRST_CASES) + len(CASES) + len(BOUNDED) >= 120

    def cli(argv: list[str]) -> Outcome:
        capsys.readouterr()
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            code = run(argv)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    failures = _run_cases(CASES, tmp_path, cli)
    with capsys.disabled():
        print(f"\nsecond-review corpus: {len(CASES)} tried, {len(CASES) - len(failures)} passed")
    assert not failures, "\n".join(failures)


def test_second_review_bounded_cases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failures = _run_cases(BOUNDED, tmp_path, bounded_cli)
    with capsys.disabled():
        print(f"\nsecond-review bounded corpus (1 GiB, 120 s each): {len(BOUNDED)} tried, "
              f"{len(BOUNDED) - len(failures)} passed")
    assert not failures, "\n".join(failures)
