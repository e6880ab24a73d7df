"""``scalelaw datasets`` and ``scalelaw demo``."""

from __future__ import annotations

import json

import pytest

from scalelaw.cli.main import run


def test_datasets_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "multipowerlaw-25m" in out and "porian2024" in out
    assert run(["datasets", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"]: r["runs"] for r in rows} == {
        "multipowerlaw-25m": 9, "multipowerlaw-100m": 9, "datablations": 296, "porian2024": 1745, "olmo-ladder": 24, "markov-ladder": 15,
        "ladder-hparams": 720,
    }


def test_one_dataset_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["datasets", "datablations", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["licence"] == "Apache-2.0" and "Muennighoff" in info["citation"]


def test_unknown_dataset_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["datasets", "nope"]) == 2
    assert "bundled datasets" in capsys.readouterr().err
