"""Every hostile input of the corpus (tests/fuzz/hostile.py) is refused cleanly or handled, with no side effect."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hostile import CASES, in_process_cli, run_cases  # noqa: E402

pytest.importorskip("torch")  # the checkpoint case trains a tiny ladder run


def test_hostile_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(CASES) >= 60

    failures = run_cases(CASES, tmp_path, in_process_cli(capsys))
    with capsys.disabled():
        print(f"\nhostile-input corpus: {len(CASES)} tried, {len(CASES) - len(failures)} passed")
    assert not failures, "\n".join(failures)
