"""Logging from a training loop into the run store: buffering, merging, several processes, forecast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scalelaw.data.store import RunStore
from scalelaw.errors import DataWarning
from scalelaw.integrations import RunLogger, flush_all, log_point

SRC = Path(__file__).parent.parent.parent / "src"


def test_points_are_buffered_then_flushed(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    logger = RunLogger(store.path, "base", meta={"params": 1.2e8, "batch_size": 4096}, flush_every=3)
    logger.log(1, loss=4.0, lr=1e-3)
    logger.log(2, loss=3.9, lr=1e-3)
    assert not store.has("base")  # two points wait in the buffer
    logger.log(3, loss=3.8, lr=1e-3)
    curve = store.load().curve("base")
    assert curve["step"].tolist() == [1.0, 2.0, 3.0] and curve["loss"].tolist() == [4.0, 3.9, 3.8]
    assert curve["params"].unique().tolist() == [1.2e8] and curve["tokens"].tolist() == [4096.0, 8192.0, 12288.0]
    logger.log(4, loss=3.7)
    logger.close()
    assert store.load().curve("base")["step"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_first_flush_waits_for_a_loss_and_steps_merge(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    with RunLogger(store.path, "r", flush_every=1) as logger:
        logger.log(10, train_loss=4.2, lr=1e-3)  # train rows before the first eval: kept in the buffer
        assert not store.has("r")
        logger.log(10, loss=4.3)  # the eval at the same step fills in the loss
        logger.log(20, train_loss=4.0)
        logger.log(20, train_loss=3.95)  # logged again: the later value wins
    curve = store.load().curve("r")
    assert curve["step"].tolist() == [10.0, 20.0]
    assert curve["loss"].iloc[0] == 4.3 and curve["train_loss"].tolist() == [4.2, 3.95]
    assert curve["lr"].iloc[0] == 1e-3


def test_non_finite_values_are_dropped_with_one_warning(tmp_path: Path) -> None:
    with pytest.warns(DataWarning, match="non-finite") as caught:
        with RunLogger(tmp_path / "store", "r", flush_every=10) as logger:
            for step in range(1, 4):
                logger.log(step, loss=float("nan") if step > 1 else 4.0)
    assert len([w for w in caught if "non-finite" in str(w.message)]) == 1
    assert RunStore(tmp_path / "store").load().curve("r")["loss"].dropna().tolist() == [4.0]


def test_log_point_function_for_a_hand_written_loop(tmp_path: Path) -> None:
    import torch
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(64, 4, generator=torch.Generator().manual_seed(0)), torch.zeros(64, 1)
    for step in range(1, 8):
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log_point(step, loss=loss.detach(), lr=optimizer.param_groups[0]["lr"], run="loop", store=tmp_path / "s",
                  meta={"params": sum(p.numel() for p in model.parameters())})
    flush_all()
    curve = RunStore(tmp_path / "s").load().curve("loop")
    assert curve["step"].tolist() == [float(s) for s in range(1, 8)]
    assert curve["params"].iloc[0] == 5.0 and np.all(np.diff(curve["loss"]) < 0)


def test_several_processes_append_at_once(tmp_path: Path) -> None:
    store, workers, points = tmp_path / "store", 3, 40
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    worker = Path(__file__).with_name("log_worker.py")
    processes = [subprocess.Popen([sys.executable, str(worker), str(store), str(i), str(workers), str(points)], env=env)
                 for i in range(workers)]
    assert [p.wait(timeout=120) for p in processes] == [0] * workers
    runs = RunStore(store).load()
    assert sorted(runs.runs) == ["shared"] + [f"worker-{i}" for i in range(workers)]
    for i in range(workers):
        curve = runs.curve(f"worker-{i}")
        assert curve["step"].tolist() == [float(s) for s in range(1, points + 1)]
        assert curve["params"].unique().tolist() == [1e6 * (i + 1)]
    shared = runs.curve("shared")
    assert shared["step"].tolist() == [float(s) for s in range(1, points * workers + 1)]  # no point lost
    assert list(RunStore(store).runs_dir.iterdir()).__len__() == workers + 1  # no orphan files left


def test_step_zero_with_a_batch_size_is_stored_without_tokens(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    with RunLogger(store.path, "r", meta={"params": 1e6, "batch_size": 1024}, flush_every=2) as logger:
        logger.log(0, loss=5.0)  # the loss before training: 0 tokens seen
        logger.log(1, loss=4.5)
        logger.log(2, loss=4.2)
    curve = store.load().curve("r")
    assert curve["step"].tolist() == [0.0, 1.0, 2.0] and curve["loss"].tolist() == [5.0, 4.5, 4.2]
    assert np.isnan(curve["tokens"].iloc[0]) and curve["tokens"].iloc[1:].tolist() == [1024.0, 2048.0]


def test_a_full_disk_warns_and_the_points_wait_for_the_next_flush(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = RunStore(tmp_path / "store")
    logger = RunLogger(store.path, "r", flush_every=2)
    real_append = RunStore.append

    def full(self: RunStore, *args: object, **kwargs: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunStore, "append", full)
    with pytest.warns(UserWarning, match="No space left on device") as caught:
        for step in range(1, 7):
            logger.log(step, loss=5.0 - 0.1 * step)  # three flushes fail: no exception reaches the loop
    assert len([w for w in caught if "No space" in str(w.message)]) == 1 and not store.has("r")
    monkeypatch.setattr(RunStore, "append", real_append)
    with pytest.warns(UserWarning, match="writable again"):
        logger.log(7, loss=4.2)  # the buffer is due: the six waiting points and this one are stored
    assert store.load().curve("r")["step"].tolist() == [float(s) for s in range(1, 8)]  # nothing lost
    logger.close()
    logger.close()  # closing twice is harmless


def test_a_logger_never_closed_is_flushed_at_exit(tmp_path: Path) -> None:
    code = ("from scalelaw.integrations import RunLogger\n"
            f"logger = RunLogger({str(tmp_path / 'store')!r}, 'left-open', flush_every=1000)\n"
            "for step in range(1, 11):\n    logger.log(step, loss=5.0 - 0.1 * step)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(SRC)})
    assert out.returncode == 0, out.stderr
    assert RunStore(tmp_path / "store").load().curve("left-open")["step"].tolist() == [float(s) for s in range(1, 11)]


def test_points_the_store_refuses_are_a_warning_not_an_exception(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="refused"):
        with RunLogger(tmp_path / "store", "r", flush_every=1) as logger:
            logger.log(1, loss=-3.0)  # a negative loss: the store refuses it, the loop goes on
            logger.log(2, loss=3.0)
    assert RunStore(tmp_path / "store").load().curve("r")["loss"].tolist() == [3.0]
