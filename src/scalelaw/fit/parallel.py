"""Fit the parts of a batch in forked processes: two cores fit two halves at once.

Threads could not: a fit's many small numpy operations hold the GIL most of the time (on
the OLMo bootstrap two threads used 22 s of CPU for 13 s of wall time, and gained nothing
on a loaded machine). Here the first part of a batch is fitted in this process while each
other part is fitted in a forked child, which inherits the problem in memory (nothing is
serialised) and writes its end points into a shared anonymous mapping; nothing but those
numbers comes back. A child that fails for any reason, or is still running long after this
process finished its own part, is fitted again here, which gives the same numbers or raises
the real error.

The split is the caller's, never the machine's, so the numbers are the same everywhere;
only where the parts run differs. They run one after the other in this process where fork
is not safe (only Linux is trusted), inside a child (no nesting), when the work is too
small to pay for a fork (``FORK_SECONDS``, estimated from one evaluation), or when
``SCALELAW_WORKERS=1``.
"""

from __future__ import annotations

import mmap
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np

from scalelaw.errors import InputError
from scalelaw.fit.optimize import BatchResult, Tolerances, minimise
from scalelaw.fit.problem import Problem

#: Estimated seconds of work below which a batch is fitted in this process. A fork costs about 10 ms,
#: and while the child lives every page either process writes is copied: on a polish of 72 Chinchilla
#: starts on 240 runs (0.3 s) forking cost 35-200 ms of CPU for no gain in wall time on a busy machine;
#: on two loss-curve starts on a ladder's 2,000 checkpoints (seconds) it halves the wall time.
FORK_SECONDS = 0.5
#: A child still running this long after the parent finished its own part (the grace, or the factor times
#: the parent's own part if that is longer) is taken to be stuck: it is killed and its part fitted here.
CHILD_GRACE_SECONDS = 60.0
CHILD_GRACE_FACTOR = 10.0
#: Rows the cost of a batch is probed on.
PROBE_ROWS = 8
#: Iterations a batch is assumed to take when its cost is estimated (the exploring and polishing budgets).
ASSUMED_ITERATIONS = 30
_IN_CHILD = False


def forking_allowed() -> bool:
    """True when parts may run in forked children: Linux, not already a child, not ``SCALELAW_WORKERS=1``."""
    text = os.environ.get("SCALELAW_WORKERS", "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise InputError(f"SCALELAW_WORKERS must be a whole number of processes (1 or more), got {text!r}")
        if int(text) == 1:
            return False
    return sys.platform.startswith("linux") and not _IN_CHILD and _cores() > 1


def minimise_parallel(
    problem: Problem, u0: np.ndarray, weights: np.ndarray, tol: Tolerances, *, workers: int = 2
) -> BatchResult:
    """:func:`~scalelaw.fit.optimize.minimise` with the rows split in ``workers`` parts (at most one
    row each), fitted at once in forked processes when that pays.

    Rows are independent, so each ends where fitting its part alone puts it; a law's batched
    arithmetic may round differently for a different number of rows, so the split is fixed by
    ``workers`` and the row count, never by the machine.
    """
    u0 = np.atleast_2d(u0)
    rows = u0.shape[0]
    parts = max(1, min(workers, rows))
    per_row = np.ndim(weights) == 2

    def fit(idx: np.ndarray) -> BatchResult:
        return minimise(problem, u0[idx], weights[idx] if per_row else weights, tol)

    return fit_in_parts(fit, rows, u0.shape[1], parts, seconds=estimated_seconds(problem, u0, rows) if parts > 1 else 0.0)


def estimated_seconds(problem: Problem, u: np.ndarray, rows: int) -> float:
    """Seconds ``rows`` descents like those from ``u`` may take: one evaluation of residuals and Jacobian
    on up to ``PROBE_ROWS`` rows of ``u`` (so a cheap law's per-call overhead is shared as in a batch:
    0.04 ms a row for Chinchilla on 240 runs, 25 ms for a loss-curve law on 2,000 checkpoints), per row,
    times ``rows`` and ``ASSUMED_ITERATIONS``."""
    probe = np.atleast_2d(u)[:PROBE_ROWS]
    lower, upper = problem.bounds
    start = time.perf_counter()
    problem.residuals_jacobian(np.clip(probe, lower, upper))
    return (time.perf_counter() - start) / probe.shape[0] * rows * ASSUMED_ITERATIONS


def fit_in_parts(fit: Callable[[np.ndarray], BatchResult], rows: int, q: int, parts: int, seconds: float) -> BatchResult:
    """``fit(rows_of_part)`` for ``parts`` consecutive parts of ``range(rows)``, joined in order.

    ``q`` is the width of ``u``; ``seconds`` (the work, estimated) decides whether forking pays.
    """
    pieces = [p for p in np.array_split(np.arange(rows), parts) if p.size]
    if len(pieces) < 2 or not forking_allowed() or seconds < FORK_SECONDS:  # a bad SCALELAW_WORKERS always says so
        return join_batches([fit(piece) for piece in pieces])
    children: list[tuple[int, np.ndarray, _Shared]] = []
    try:
        for piece in pieces[1:]:
            shared = _Shared(piece.size, q)
            children.append((_fork_child(fit, piece, shared), piece, shared))
        started = time.monotonic()
        results = [fit(pieces[0])]
        deadline = time.monotonic() + max(CHILD_GRACE_SECONDS, CHILD_GRACE_FACTOR * (time.monotonic() - started))
        for pid, piece, shared in list(children):
            done = _succeeded(pid, deadline)
            children.remove((pid, piece, shared))
            results.append(shared.result() if done else fit(piece))
        return join_batches(results)
    finally:
        for pid, _, _ in children:  # interrupted: no child outlives the fit
            _stop(pid)


class _Shared:
    """A child's end points, in an anonymous mapping shared across fork: u (B, q), f, converged, iterations."""

    def __init__(self, rows: int, q: int) -> None:
        self.buffer = mmap.mmap(-1, max(1, rows * (q + 3) * 8))
        data = np.frombuffer(self.buffer, dtype=np.float64, count=rows * (q + 3))
        self.u = data[: rows * q].reshape(rows, q)
        self.f, self.converged, self.iterations = (data[rows * (q + i) : rows * (q + i + 1)] for i in range(3))

    def store(self, result: BatchResult) -> None:
        self.u[:], self.f[:] = result.u, result.f
        self.converged[:], self.iterations[:] = result.converged, result.iterations

    def result(self) -> BatchResult:
        return BatchResult(u=self.u.copy(), f=self.f.copy(), converged=self.converged.astype(bool),
                           iterations=self.iterations.astype(int))


def _fork_child(fit: Callable[[np.ndarray], BatchResult], piece: np.ndarray, shared: _Shared) -> int:
    """Fork a child that fits ``piece`` into ``shared`` and exits (status 0 on success); return its pid."""
    global _IN_CHILD
    with warnings.catch_warnings():  # Python 3.12+ warns of fork beside threads; the child only runs numpy
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        _IN_CHILD = True
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        shared.store(fit(piece))
        status = 0
    finally:
        os._exit(status)  # never the caller's atexit handlers, buffers or test runner


def _succeeded(pid: int, deadline: float) -> bool:
    """True when the child exits with status 0 by ``deadline`` (monotonic seconds); a child still running
    then (a fork-time deadlock, a machine out of memory) is killed and reaped, and False returned."""
    pause = 0.001
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) == 0
        if time.monotonic() > deadline:
            _stop(pid)
            return False
        time.sleep(pause)
        pause = min(2 * pause, 0.05)


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def join_batches(results: list[BatchResult]) -> BatchResult:
    """The batches' rows, in order, as one batch."""
    return BatchResult(
        u=np.concatenate([r.u for r in results]),
        f=np.concatenate([r.f for r in results]),
        converged=np.concatenate([r.converged for r in results]),
        iterations=np.concatenate([r.iterations for r in results]),
    )
