"""A ladder checkpoint is data, never code: no unpickling of objects, and it must belong to the run."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from scalelaw.ladder.spec import parse_spec  # noqa: E402
from scalelaw.ladder.trainer import RunConfig, _load_checkpoint, config_hash, train_run  # noqa: E402


@pytest.fixture
def config(tiny_spec: dict[str, Any]) -> RunConfig:
    return parse_spec({**tiny_spec, "models": [{"width": 16, "depth": 1, "heads": 2}]}).runs[0]


class Payload:
    """Unpickling this runs a shell command (what a hostile store writer would plant)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def test_a_pickle_planted_as_a_checkpoint_does_not_run(config: RunConfig, tmp_path: Path) -> None:
    """Before: torch.load(weights_only=False) unpickled it and ran the command."""
    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "run.pt"
    torch.save({"config": {}, "payload": Payload(marker), "step": 1}, checkpoint, pickle_protocol=pickle.HIGHEST_PROTOCOL)
    assert _load_checkpoint(checkpoint, config) is None
    table = train_run(config, checkpoint=checkpoint)
    assert not marker.exists()
    assert list(table["step"]) == list(range(1, config.steps + 1)), "the run restarted from scratch"


def test_a_checkpoint_of_another_run_or_a_symlink_is_ignored(config: RunConfig, tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.pt"
    train_run(config, checkpoint=checkpoint, checkpoint_seconds=0.0)
    state = _load_checkpoint(checkpoint, config)
    assert state is not None and state["config_hash"] == config_hash(config)
    forged = {**state, "config_hash": "0" * 64}
    torch.save(forged, tmp_path / "forged.pt")
    assert _load_checkpoint(tmp_path / "forged.pt", config) is None
    (tmp_path / "link.pt").symlink_to(checkpoint)
    assert _load_checkpoint(tmp_path / "link.pt", config) is None
