"""Parts of a batch fitted in forked children: the same numbers as in one process, and no child left behind."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from scalelaw.errors import InputError
from scalelaw.fit import parallel
from scalelaw.fit.optimize import BatchResult

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parts are forked on Linux only")


def _batch(idx: np.ndarray) -> BatchResult:
    """A stand-in fit whose numbers depend on the rows it is given and on the process it runs in only through them."""
    u = np.column_stack([np.sqrt(idx + 1.0), np.log1p(idx * 3.0)])
    return BatchResult(u=u, f=u.sum(axis=1), converged=idx % 2 == 0, iterations=idx * 7)


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Fork even the smallest batch, on any number of cores, and record every fork."""
    pids: list[int] = []
    real = os.fork

    def fork() -> int:
        pid = real()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(parallel, "FORK_SECONDS", 0.0)
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    monkeypatch.setattr(parallel.os, "fork", fork)
    monkeypatch.delenv("SCALELAW_WORKERS", raising=False)
    return pids


def _assert_same(a: BatchResult, b: BatchResult) -> None:
    for name in ("u", "f", "converged", "iterations"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert getattr(a, name).dtype == getattr(b, name).dtype


def test_forked_parts_come_back_exactly_and_in_order(forked: list[int]) -> None:
    together = _batch(np.arange(11))
    split = parallel.fit_in_parts(_batch, 11, 2, parts=3, seconds=1.0)
    assert len(forked) == 2
    _assert_same(split, together)


def test_a_child_that_fails_is_fitted_again_here(forked: list[int]) -> None:
    def fails_in_children(idx: np.ndarray) -> BatchResult:
        if parallel._IN_CHILD:
            raise MemoryError("the child ran out of memory")
        return _batch(idx)

    _assert_same(parallel.fit_in_parts(fails_in_children, 8, 2, parts=2, seconds=1.0), _batch(np.arange(8)))
    assert forked


def test_a_stuck_child_is_killed_and_its_part_fitted_here(forked: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    def hangs_in_children(idx: np.ndarray) -> BatchResult:
        if parallel._IN_CHILD:
            import time

            time.sleep(60)
        return _batch(idx)

    monkeypatch.setattr(parallel, "CHILD_GRACE_SECONDS", 0.2)
    monkeypatch.setattr(parallel, "CHILD_GRACE_FACTOR", 0.0)
    _assert_same(parallel.fit_in_parts(hangs_in_children, 8, 2, parts=2, seconds=1.0), _batch(np.arange(8)))
    assert forked
    for pid in forked:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_an_error_here_leaves_no_child_running(forked: list[int]) -> None:
    def fails_here(idx: np.ndarray) -> BatchResult:
        if not parallel._IN_CHILD:
            raise ValueError("the parent's part failed")
        import time

        time.sleep(30)
        return _batch(idx)

    with pytest.raises(ValueError, match="parent's part"):
        parallel.fit_in_parts(fails_here, 8, 2, parts=2, seconds=1.0)
    assert forked
    for pid in forked:  # killed and reaped already: there is no such child any more
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_one_worker_small_work_and_children_never_fork(forked: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALELAW_WORKERS", "1")
    _assert_same(parallel.fit_in_parts(_batch, 6, 2, parts=2, seconds=1.0), _batch(np.arange(6)))
    monkeypatch.delenv("SCALELAW_WORKERS")
    monkeypatch.setattr(parallel, "FORK_SECONDS", 1.0)
    parallel.fit_in_parts(_batch, 6, 2, parts=2, seconds=0.99)
    monkeypatch.setattr(parallel, "_IN_CHILD", True)
    parallel.fit_in_parts(_batch, 6, 2, parts=2, seconds=1e6)
    assert not forked


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_worker_count_is_refused_by_name(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCALELAW_WORKERS", value)
    with pytest.raises(InputError, match="SCALELAW_WORKERS"):
        parallel.fit_in_parts(_batch, 6, 2, parts=2, seconds=1e6)
