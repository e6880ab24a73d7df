"""The trainer: it learns, it is deterministic, and a resumed run equals an uninterrupted one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from scalelaw.data.runs import RunSet  # noqa: E402
from scalelaw.ladder.spec import parse_spec  # noqa: E402
from scalelaw.ladder.trainer import RunConfig, oracle_eval_loss, train_run  # noqa: E402



@pytest.fixture
def tiny_config(tiny_spec: dict[str, Any]) -> Callable[..., RunConfig]:
    """The width-16 run of the tiny sweep, with spec keys changed as asked."""
    return lambda **changes: parse_spec({**tiny_spec, "models": [{"width": 16, "depth": 1, "heads": 2}], **changes}).runs[0]


class Stop(Exception):
    """Raised by a progress callback to simulate a crash."""


def test_a_run_learns_and_logs_every_step(tiny_config: Callable[..., RunConfig]) -> None:
    config = tiny_config(tokens=[256 * 40])
    table = train_run(config)
    assert list(table["step"]) == list(range(1, config.steps + 1))
    assert np.array_equal(table["tokens"], table["step"] * config.batch_size)
    assert table["lr"].max() == pytest.approx(1e-2) and table["lr"].iloc[-1] == pytest.approx(1e-3, rel=0.05)
    evals = table["loss"].dropna()
    assert len(evals) == config.evals and not np.isnan(table["loss"].iloc[-1])
    assert table["train_loss"].notna().all() and table["lr"].notna().all()
    assert evals.iloc[-1] < evals.iloc[0] < np.log(16) + 0.1
    # The loss can never beat the corpus's exact entropy rate by more than sampling noise.
    oracle = oracle_eval_loss(config.corpus.build(), sequences=config.eval_sequences, seq_len=16)
    assert evals.min() > oracle - 1e-6
    for column, value in (("params", config.shape.params), ("non_embedding_params", config.shape.non_embedding_params)):
        assert (table[column] == value).all()
    assert table["flops"].iloc[-1] == pytest.approx(config.flops)
    RunSet(table)  # a valid run table


def test_same_seed_same_numbers_other_seed_other_numbers(tiny_config: Callable[..., RunConfig]) -> None:
    config = tiny_config()
    first, second = train_run(config), train_run(config)
    pd.testing.assert_frame_equal(first, second)
    other = train_run(tiny_config(seeds=[1]))
    assert not np.allclose(first["train_loss"], other["train_loss"])


def test_resumed_run_equals_uninterrupted_run(tiny_config: Callable[..., RunConfig], tmp_path: Path) -> None:
    config = tiny_config()
    checkpoint = tmp_path / "run.pt"

    def crash_at_step_9(run_id: str, step: int, total: int) -> None:
        if step == 9:
            raise Stop

    with pytest.raises(Stop):
        train_run(config, checkpoint=checkpoint, checkpoint_seconds=0.0, progress=crash_at_step_9)
    assert checkpoint.is_file()
    steps_seen: list[int] = []
    resumed = train_run(config, checkpoint=checkpoint, progress=lambda r, s, t: steps_seen.append(s))
    assert steps_seen[0] == 10  # continued, not restarted
    pd.testing.assert_frame_equal(resumed, train_run(config))


def test_checkpoint_of_another_config_is_not_resumed(tiny_config: Callable[..., RunConfig], tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.pt"
    with pytest.raises(Stop):
        train_run(tiny_config(), checkpoint=checkpoint, checkpoint_seconds=0.0,
                  progress=lambda r, s, t: (_ for _ in ()).throw(Stop) if s == 5 else None)
    other = tiny_config(weight_decay=0.0)
    steps_seen: list[int] = []
    train_run(other, checkpoint=checkpoint, progress=lambda r, s, t: steps_seen.append(s))
    assert steps_seen[0] == 1


def test_text_and_grammar_corpora_train(tiny_config: Callable[..., RunConfig], tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("the quick brown fox jumps over the lazy dog. " * 200, encoding="utf-8")
    for corpus in ({"kind": "text", "path": str(tmp_path / "t.txt")}, {"kind": "grammar", "characters": 20_000}):
        table = train_run(tiny_config(corpus=corpus, tokens=[256 * 8]))
        assert table["loss"].notna().sum() == 4 and table["entropy_rate"].isna().all()
        assert table["loss"].dropna().iloc[-1] < np.log(256)
