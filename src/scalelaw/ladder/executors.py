"""Run a sweep's runs into a run store, locally (a process pool) or on a Ray cluster.

Every run goes through :func:`execute_run`, which makes the sweep resumable: a run the
store already holds is skipped, a half-finished one resumes from its checkpoint, and a
finished one is written to the store once (the store refuses a second copy, so two
workers racing on the same run still record it once).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

from scalelaw.data.store import RunStore
from scalelaw.errors import InputError, ScalelawWarning, warn
from scalelaw.ladder.trainer import ProgressCallback, RunConfig, train_run

#: Folder inside the store that holds the checkpoints of unfinished runs.
CHECKPOINT_DIR = "ladder-checkpoints"
EXECUTORS: tuple[str, ...] = ("local", "ray")


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one run: ``trained``, ``skipped`` (already stored) or ``failed``."""

    run_id: str
    status: Literal["trained", "skipped", "failed"]
    seconds: float = 0.0
    final_eval_loss: float | None = None
    message: str = ""


def checkpoint_path(store: str | Path, run_id: str) -> Path:
    """Where the checkpoint of ``run_id`` lives inside the store folder."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return Path(store) / CHECKPOINT_DIR / f"{safe}.pt"


def remove_checkpoint(checkpoint: Path) -> None:
    """Delete a finished run's checkpoint and any temporary file a kill left beside it."""
    checkpoint.unlink(missing_ok=True)
    for leftover in checkpoint.parent.glob(f"{checkpoint.name}.*.tmp"):
        leftover.unlink(missing_ok=True)


def execute_run(
    config: RunConfig, store_path: str, threads: int, progress: ProgressCallback | None = None,
    checkpoint_seconds: float = 30.0,
) -> RunOutcome:
    """Train one run into the store unless it is there already; the unit of work of every executor."""
    store = RunStore(store_path)
    checkpoint = checkpoint_path(store_path, config.run_id)
    if store.has(config.run_id):
        remove_checkpoint(checkpoint)
        return RunOutcome(config.run_id, "skipped")
    started = time.monotonic()
    try:
        table = train_run(config, checkpoint=checkpoint, threads=threads, progress=progress,
                          checkpoint_seconds=checkpoint_seconds)
    except FloatingPointError as exc:
        return RunOutcome(config.run_id, "failed", time.monotonic() - started, message=str(exc))
    try:
        store.put(table)
    except InputError:
        if not store.has(config.run_id):
            raise
        # Another worker stored the same run first: it is recorded once, which is what counts.
    remove_checkpoint(checkpoint)
    final = table["loss"].dropna()
    return RunOutcome(config.run_id, "trained", time.monotonic() - started,
                      float(final.iloc[-1]) if len(final) else None)


def local_layout(
    pending: int, workers: int | None = None, cores: int | None = None, threads: int | None = None
) -> tuple[int, int]:
    """``(workers, threads per worker)`` with workers x threads <= cores; one thread unless ``threads`` asks for more.

    One thread is the default because, measured on a 2-core machine, a second torch
    thread made every model slower as soon as anything else used the CPU
    (bench/bench_ladder_throughput.py).
    """
    cores = cores or os.cpu_count() or 1
    workers = max(1, min(workers or cores, pending, cores))
    return workers, max(1, min(cores // workers, threads or 1))


def run_sweep(
    runs: Sequence[RunConfig],
    store_path: str | Path,
    *,
    executor: str = "local",
    workers: int | None = None,
    threads: int | None = None,
    address: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    checkpoint_seconds: float = 30.0,
) -> list[RunOutcome]:
    """Train every run not yet in the store; outcomes come back in the order of ``runs``.

    Locally, ``workers`` processes (default: one per core) share the cores, each with
    ``threads`` torch threads (default 1, at most the cores left per worker). On Ray
    each run is a task of ``threads`` CPUs (default 1).
    """
    if executor not in EXECUTORS:
        raise InputError(f"unknown executor {executor!r}; known: {', '.join(EXECUTORS)}")
    store_path = str(Path(store_path).resolve())
    store = RunStore(store_path)
    outcomes = {c.run_id: RunOutcome(c.run_id, "skipped") for c in runs if store.has(c.run_id)}
    for run_id in outcomes:
        # A kill between storing a run and deleting its checkpoint leaves the checkpoint behind.
        remove_checkpoint(checkpoint_path(store_path, run_id))
    pending = [c for c in runs if c.run_id not in outcomes]
    if pending and executor == "ray":
        outcomes.update(_run_ray(pending, store_path, address, threads or 1, progress, checkpoint_seconds))
    elif pending:
        outcomes.update(_run_local(pending, store_path, local_layout(len(pending), workers, threads=threads), progress,
                                   checkpoint_seconds))
    return [outcomes[c.run_id] for c in runs]


_progress_queue: Any = None


def _init_worker(progress_queue: Any, parent: int) -> None:
    """Pool-worker start-up: keep the progress queue, and die with the parent (Linux), so a
    killed sweep leaves no orphan training a run behind the next one's back."""
    global _progress_queue
    _progress_queue = progress_queue
    if sys.platform.startswith("linux"):
        import ctypes

        set_parent_death_signal = 1  # prctl(PR_SET_PDEATHSIG, SIGKILL)
        ctypes.CDLL(None, use_errno=True).prctl(set_parent_death_signal, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died while this worker was starting
        os._exit(1)


def _queued_progress(run_id: str, step: int, total: int) -> None:
    if _progress_queue is not None and (step == total or step % max(1, total // 50) == 0):
        _progress_queue.put((run_id, step, total))


def _pool_task(config: RunConfig, store_path: str, threads: int, checkpoint_seconds: float) -> RunOutcome:
    return execute_run(config, store_path, threads, _queued_progress, checkpoint_seconds)


def _run_local(
    pending: list[RunConfig], store_path: str, layout: tuple[int, int], progress: ProgressCallback | None,
    checkpoint_seconds: float,
) -> dict[str, RunOutcome]:
    count, threads = layout
    if count == 1:  # in this process: no start-up cost, and Ctrl-C stops at once
        return {c.run_id: execute_run(c, store_path, threads, progress, checkpoint_seconds) for c in pending}
    context = get_context("spawn")  # fork after torch has started threads can deadlock
    progress_queue = context.Queue()
    pool = ProcessPoolExecutor(count, mp_context=context, initializer=_init_worker,
                               initargs=(progress_queue, os.getpid()))
    try:
        futures: dict[Future[RunOutcome], str] = {
            pool.submit(_pool_task, c, store_path, threads, checkpoint_seconds): c.run_id for c in pending
        }
        outcomes: dict[str, RunOutcome] = {}
        waiting = set(futures)
        while waiting:
            done, waiting = wait(waiting, timeout=0.5, return_when=FIRST_COMPLETED)
            _drain(progress_queue, progress)
            for future in done:
                outcomes[futures[future]] = future.result()
        _drain(progress_queue, progress)
        return outcomes
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _drain(progress_queue: Any, progress: ProgressCallback | None) -> None:
    while True:
        try:
            run_id, step, total = progress_queue.get_nowait()
        except queue.Empty:
            return
        if progress is not None:
            progress(run_id, step, total)


#: Said once when ``--executor ray`` starts a cluster on this machine (issue 23).
LOCAL_RAY_EXPOSED = ("--executor ray starts a local Ray cluster whose ports listen on every network interface "
                     "(Ray cannot bind them to 127.0.0.1; token authentication is on); on a shared machine firewall "
                     "them or use --executor local, the default, which opens no port (see docs/security.md)")
#: The first Ray release with token authentication (RAY_AUTH_MODE=token).
RAY_TOKEN_AUTH_VERSION = (2, 52)


def ray_init_options(version: str, address: str | None) -> dict[str, Any]:
    """Arguments of ``ray.init``: a new local cluster, or the user's cluster at ``address``.

    Ray older than 2.52 has no token authentication and is refused, as is a local cluster
    asked to run without it (``RAY_AUTH_MODE`` other than ``token``); Ray turns token
    authentication on for a new local cluster when ``RAY_AUTH_MODE`` is unset, and
    :func:`require_token_auth` checks it did. A cluster given with ``address`` keeps its
    own setting, with a warning unless ``RAY_AUTH_MODE=token``.
    """
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
    if parts < RAY_TOKEN_AUTH_VERSION:
        raise InputError(f"Ray {version} has no token authentication; scalelaw needs Ray >= 2.52 "
                         "(pip install -U 'scalelaw[ray]')")
    mode = os.environ.get("RAY_AUTH_MODE")
    if address is not None:
        if mode != "token":
            warn(f"RAY_AUTH_MODE is {mode or 'unset'}: make sure the Ray cluster at {address} has token "
                 "authentication on (RAY_AUTH_MODE=token on every node)", ScalelawWarning)
        return {"address": address}
    if mode not in (None, "token"):
        raise InputError(f"RAY_AUTH_MODE={mode}: scalelaw starts its local Ray cluster only with token "
                         "authentication; unset it or set RAY_AUTH_MODE=token")
    warn(LOCAL_RAY_EXPOSED, ScalelawWarning)
    return {"address": None}


def require_token_auth(ray: Any) -> None:
    """Shut down and refuse a local Ray cluster that came up without token authentication."""
    try:
        from ray._private.authentication.authentication_utils import is_token_auth_enabled
    except ImportError:
        is_token_auth_enabled = None
    if is_token_auth_enabled is None or not is_token_auth_enabled():
        ray.shutdown()
        raise InputError("the local Ray cluster started without token authentication; set RAY_AUTH_MODE=token")


def _run_ray(
    pending: list[RunConfig], store_path: str, address: str | None, threads: int, progress: ProgressCallback | None,
    checkpoint_seconds: float,
) -> dict[str, RunOutcome]:
    """One Ray task per run, each writing into the same store (a shared filesystem on a cluster)."""
    try:
        import ray
    except ImportError:
        raise InputError("the ray executor needs Ray: pip install 'scalelaw[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(**ray_init_options(ray.__version__, address), include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        if address is None:
            require_token_auth(ray)
    try:
        task = ray.remote(num_cpus=threads)(execute_run)
        refs = {task.remote(c, store_path, threads, None, checkpoint_seconds): c for c in pending}
        outcomes: dict[str, RunOutcome] = {}
        waiting = list(refs)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            config = refs[done[0]]
            outcomes[config.run_id] = ray.get(done[0])
            if progress is not None:
                progress(config.run_id, config.steps, config.steps)
        return outcomes
    finally:
        if started_here:
            ray.shutdown()
