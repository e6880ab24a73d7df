"""Executors: every run stored once, finished runs never retrained, local pool and Ray."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")

from scalelaw.data.store import RunStore  # noqa: E402
from scalelaw.ladder.executors import (  # noqa: E402
    checkpoint_path,
    execute_run,
    local_layout,
    ray_init_options,
    require_token_auth,
    run_sweep,
)
from scalelaw.errors import InputError, ScalelawWarning  # noqa: E402
from scalelaw.ladder.spec import parse_spec  # noqa: E402


def assert_complete(store: Path, runs: list[Any]) -> None:
    """Every run stored exactly once, each with one row per step 1..steps."""
    listed = [entry["run"] for entry in RunStore(store).list()]
    assert sorted(listed) == sorted(r.run_id for r in runs)
    loaded = RunStore(store).load()
    for config in runs:
        assert list(loaded.curve(config.run_id)["step"]) == list(range(1, config.steps + 1))


def test_local_layout_never_oversubscribes() -> None:
    for pending in (1, 2, 3, 10):
        for cores in (1, 2, 8):
            workers, threads = local_layout(pending, cores=cores)
            assert workers * threads <= cores and workers <= pending
    assert local_layout(1, cores=8) == (1, 1)
    assert local_layout(1, cores=8, threads=4) == (1, 4)
    assert local_layout(10, workers=3, cores=8, threads=4) == (3, 2)
    assert local_layout(10, cores=8, threads=4) == (8, 1)


def test_in_process_sweep_stores_each_run_once_and_skips_on_rerun(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    runs = list(parse_spec(tiny_spec).runs)
    outcomes = run_sweep(runs, tmp_path, workers=1, threads=1)
    assert [o.status for o in outcomes] == ["trained", "trained"]
    assert all(o.final_eval_loss is not None and np.isfinite(o.final_eval_loss) for o in outcomes)
    assert_complete(tmp_path, runs)
    assert [o.status for o in run_sweep(runs, tmp_path, workers=1, threads=1)] == ["skipped", "skipped"]
    assert not any((tmp_path / "ladder-checkpoints").glob("*.pt"))


def test_a_run_stored_by_another_worker_is_not_stored_again(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    config = parse_spec(tiny_spec).runs[0]
    assert execute_run(config, str(tmp_path), threads=1).status == "trained"
    checkpoint_path(tmp_path, config.run_id).parent.mkdir(exist_ok=True)
    checkpoint_path(tmp_path, config.run_id).write_bytes(b"stale")
    assert execute_run(config, str(tmp_path), threads=1).status == "skipped"
    assert not checkpoint_path(tmp_path, config.run_id).exists()
    assert len(RunStore(tmp_path).list()) == 1


def test_process_pool_gives_the_same_numbers_as_in_process(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    runs = list(parse_spec(tiny_spec).runs)
    assert local_layout(len(runs), 2, cores=2) == (2, 1)
    run_sweep(runs, tmp_path / "pool", workers=2)
    assert_complete(tmp_path / "pool", runs)
    for config in runs:  # the pool ran one torch thread per run: so does this
        execute_run(config, str(tmp_path / "serial"), threads=1)
    pool, serial = RunStore(tmp_path / "pool").load(), RunStore(tmp_path / "serial").load()
    for config in runs:
        assert np.array_equal(pool.curve(config.run_id)["train_loss"], serial.curve(config.run_id)["train_loss"])


def test_ray_executor_writes_every_run_into_the_store(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'scalelaw[ray]')")
    runs = list(parse_spec(tiny_spec).runs)
    ray.init(**ray_init_options(ray.__version__, None), num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    require_token_auth(ray)
    try:
        outcomes = run_sweep(runs, tmp_path, executor="ray")
    finally:
        ray.shutdown()
    assert [o.status for o in outcomes] == ["trained", "trained"]
    assert_complete(tmp_path, runs)


def test_a_diverging_run_is_reported_failed_and_not_stored(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    spec = {**tiny_spec, "models": [{"width": 16, "depth": 1, "heads": 2}], "schedules": ["constant:peak=1e4"], "grad_clip": 0}
    (outcome,) = run_sweep(list(parse_spec(spec).runs), tmp_path, workers=1, threads=1)
    assert outcome.status == "failed" and "diverged" in outcome.message
    assert RunStore(tmp_path).list() == []


def test_ray_needs_token_authentication(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    with pytest.raises(InputError, match="no token authentication"):
        ray_init_options("2.51.1", None)
    assert ray_init_options("2.60.0", None) == {"address": None}
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    with pytest.raises(InputError, match="only with token"):
        ray_init_options("2.60.0", None)
    with pytest.warns(ScalelawWarning, match="token"):
        assert ray_init_options("2.60.0", "ray://head:10001") == {"address": "ray://head:10001"}
