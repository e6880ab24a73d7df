"""Kill -9 the ladder mid-run, run it again: every run is stored exactly once, complete."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("torch")

from scalelaw.data.store import RunStore  # noqa: E402
from scalelaw.ladder.executors import CHECKPOINT_DIR, run_sweep  # noqa: E402
from scalelaw.ladder.spec import parse_spec  # noqa: E402


def test_sigkill_mid_run_then_rerun_records_every_run_once(tmp_path: Path, tiny_spec: dict[str, Any]) -> None:
    spec = {**tiny_spec, "models": {"width": [8, 12, 16], "depth": 1, "heads": 2}, "tokens": [256 * 150], "evals": 30}
    spec_file = tmp_path / "crash.yaml"
    spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    store = tmp_path / "store"
    command = (f"import sys; from scalelaw.cli.main import run; "
               f"sys.exit(run(['ladder', 'run', {str(spec_file)!r}, '--store', {str(store)!r}, '--workers', '1', '--threads', '1']))")
    process = subprocess.Popen([sys.executable, "-c", command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        # Wait until one run is stored and the next one has a checkpoint: then it is mid-run.
        while time.monotonic() < deadline and process.poll() is None:
            if RunStore(store).path.joinpath("manifest.json").exists() and any((store / CHECKPOINT_DIR).glob("*.pt")):
                break
            time.sleep(0.01)
        assert process.poll() is None, "the ladder finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    stored_before = {entry["run"] for entry in RunStore(store).list()}
    runs = list(parse_spec(yaml.safe_load(spec_file.read_text()), file=str(spec_file)).runs)
    assert 1 <= len(stored_before) < len(runs)
    outcomes = run_sweep(runs, store, workers=1, threads=1)
    assert {o.run_id for o in outcomes if o.status == "skipped"} == stored_before
    listed = [entry["run"] for entry in RunStore(store).list()]
    assert sorted(listed) == sorted(r.run_id for r in runs)
    loaded = RunStore(store).load()
    for config in runs:
        curve = loaded.curve(config.run_id)
        assert list(curve["step"]) == list(range(1, config.steps + 1))
        assert curve["loss"].notna().sum() == config.evals and curve["train_loss"].notna().all()
    assert not any((store / CHECKPOINT_DIR).glob("*"))
