"""The run store under concurrent writers and under kill -9 at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from scalelaw.data.store import RunStore

sys.path.insert(0, str(Path(__file__).parent))
import store_writer  # noqa: E402

WRITER = Path(__file__).with_name("store_writer.py")
KILL_ROUNDS = int(os.environ.get("SCALELAW_KILL_ROUNDS", "20"))


def start_writer(store: Path, prefix: str, count: int) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, str(WRITER), str(store), prefix, str(count)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def assert_complete(store: RunStore) -> int:
    """Every run in the manifest loads with all its rows and the final loss it recorded."""
    entries = store.list()
    runs = store.load()
    assert sorted(runs.runs) == sorted(e["run"] for e in entries)
    for entry in entries:
        curve = runs.curve(str(entry["run"]))
        assert len(curve) == entry["rows"] == 200
        assert np.array_equal(curve["step"], np.arange(1, 201))
        assert curve["loss"].iloc[-1] == entry["final_loss"]
    return len(entries)


def test_two_concurrent_writers(tmp_path: Path) -> None:
    writers = [start_writer(tmp_path, prefix, 15) for prefix in ("left", "right")]
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0 and "done" in out
    store = RunStore(tmp_path)
    names = [e["run"] for e in store.list()]
    assert sorted(names) == sorted(f"{p}-{i}" for p in ("left", "right") for i in range(10))
    assert assert_complete(store) == 20


def leftovers(store: Path) -> list[str]:
    """Files a crash left behind: temporary files, or run files the manifest does not name."""
    named = {str(e["file"]) for e in RunStore(store)._read_manifest().values()}
    files = [f"runs/{p.name}" for p in (store / "runs").glob("*")] + [p.name for p in store.glob(".tmp-*")]
    return [f for f in files if f not in named]


def fork_writer(store: Path, prefix: str) -> int:
    """A forked child that writes runs until killed (forking skips the slow interpreter start)."""
    pid = os.fork()
    if pid == 0:
        try:
            store_writer.main(str(store), prefix, 10_000)
        finally:
            os._exit(0)
    return pid


def test_kill_9_at_random_moments_leaves_only_complete_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(1234)
    survived = mid_write = 0
    for round_number in range(KILL_ROUNDS):
        pid = fork_writer(tmp_path, f"w{round_number % 3}")
        time.sleep(rng.uniform(0.01, 0.3))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        mid_write += bool(leftovers(tmp_path))
        assert_complete(RunStore(tmp_path))
        survived += 1
    with capsys.disabled():
        print(f"\nkill -9 rounds: {survived}/{KILL_ROUNDS} left a store holding only complete runs; "
              f"{mid_write} kills hit mid-write (left temp or orphan files)")
    assert survived == KILL_ROUNDS
    assert len(RunStore(tmp_path).list()) > 0
