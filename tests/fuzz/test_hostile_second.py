"""The second review's hostile inputs (tests/fuzz/hostile_second.py): each is refused cleanly or
handled, with no side effect; the memory and time bombs run in a child process under an
address-space limit and a timeout."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hostile import CASES as FIRST_CASES  # noqa: E402
from hostile import in_process_cli, run_cases  # noqa: E402
from hostile_second import BOUNDED, CASES, bounded_cli  # noqa: E402


def test_second_review_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(FIRST_CASES) + len(CASES) + len(BOUNDED) >= 120

    failures = run_cases(CASES, tmp_path, in_process_cli(capsys))
    with capsys.disabled():
        print(f"\nsecond-review corpus: {len(CASES)} tried, {len(CASES) - len(failures)} passed")
    assert not failures, "\n".join(failures)


def test_second_review_bounded_cases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failures = run_cases(BOUNDED, tmp_path, bounded_cli)
    with capsys.disabled():
        print(f"\nsecond-review bounded corpus (1 GiB, 120 s each): {len(BOUNDED)} tried, "
              f"{len(BOUNDED) - len(failures)} passed")
    assert not failures, "\n".join(failures)
