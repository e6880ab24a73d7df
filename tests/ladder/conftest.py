"""Shared tiny sweeps for the ladder tests (width 16, one layer, a few dozen steps)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")

TINY_SPEC: dict[str, Any] = {
    "name": "tiny",
    "corpus": {"kind": "markov", "vocab_size": 16, "order": 1, "branching": 3, "seed": 0},
    "seq_len": 16,
    "models": {"width": [8, 16], "depth": 1, "heads": 2},
    "tokens": [4096],
    "batch_size": 256,
    "schedules": ["cosine:peak=1e-2,final=1e-3,warmup=10%"],
    "seeds": [0],
    "evals": 4,
    "eval_sequences": 16,
}


@pytest.fixture
def tiny_spec() -> dict[str, Any]:
    """A fresh copy of the tiny sweep (two widths, one token budget)."""
    return copy.deepcopy(TINY_SPEC)


@pytest.fixture
def tiny_spec_file(tmp_path: Path) -> Path:
    import yaml

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_SPEC), encoding="utf-8")
    return path
