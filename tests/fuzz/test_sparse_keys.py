"""Hostile input (issue 23, item 7): a log that logs one new key at every step.

Before, JSON Lines with 5,000 keys took over 150 s and 1.46 GB, W&B with 8,000 keys over 300 s and
TensorBoard with 4,000 tags 49 s, flooding stderr with pandas "fragmented" warnings: every reader
built a rows x keys table. Now a reader keeps the names the run model reads, the names the user
asks for and the first ``MAX_EXTRA_KEYS`` others, and says once how many it dropped. Each case
asserts the table's shape (linear in cells: rows x kept keys), the count said, no pandas
performance warning, and finishes well inside a generous ``pytest-timeout`` (no timed assert).
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "data"))

from tb_encoder import write_events  # noqa: E402
from wandb_encoder import write_run  # noqa: E402

from scalelaw.data.pipeline import read_runs  # noqa: E402
from scalelaw.data.readers.raw import MAX_EXTRA_KEYS  # noqa: E402

#: Seconds a case may take on a loaded CI machine (each took minutes before; seconds now).
GENEROUS = 120


def read_sparse(path: Path, **options: object) -> tuple[object, list[str]]:
    """Read ``path``; return the runs and every warning's text, failing on a pandas PerformanceWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = read_runs(path, **options)
    texts = [str(w.message) for w in caught]
    assert not [t for t in texts if "fragmented" in t or "PerformanceWarning" in t], texts[:3]
    return runs, texts


def dropped_said_once(texts: list[str], dropped: int) -> None:
    said = [t for t in texts if "logged keys beyond the first" in t]
    assert len(said) == 1 and said[0].split(": ")[1].startswith(f"{dropped} logged keys"), said


@pytest.mark.timeout(GENEROUS)
def test_jsonl_with_a_new_key_every_step(tmp_path: Path) -> None:
    steps = 5000
    path = tmp_path / "sparse.jsonl"
    lines = [json.dumps({"step": s, "loss": 4.0 - s * 1e-4, f"metric_{s}": 1.0}) for s in range(1, steps + 1)]
    path.write_text("\n".join(lines) + "\n")
    runs, texts = read_sparse(path)
    table = runs.table
    assert len(table) == steps and table["loss"].notna().all()
    extras = [c for c in table.columns if c.startswith("metric_")]
    assert len(extras) == MAX_EXTRA_KEYS and extras[0] == "metric_1"
    dropped_said_once(texts, steps - MAX_EXTRA_KEYS)


@pytest.mark.timeout(GENEROUS)
def test_jsonl_key_named_by_the_user_is_kept_however_late(tmp_path: Path) -> None:
    path = tmp_path / "sparse.jsonl"
    lines = [json.dumps({"step": s, f"metric_{s}": 1.0, "late_loss": 3.0} if s == 4000 else
                        {"step": s, f"metric_{s}": 1.0}) for s in range(1, 4001)]
    path.write_text("\n".join(lines) + "\n")
    runs, _ = read_sparse(path, map={"loss": "late_loss"}, where="metric_3999 != 5")
    assert "metric_3999" in runs.table.columns and runs.table["loss"].notna().sum() == 1


def wandb_file(folder: Path, steps: int) -> Path:
    return write_run(folder / "run-abc123.wandb",
                     ((s, {"train/loss": 4.0 - s * 1e-4, f"key_{s}": 0.5}) for s in range(1, steps + 1)))


def tensorboard_file(folder: Path, steps: int) -> Path:
    return write_events(folder / "run" / "events.out.tfevents.1.host",
                        ((s, {"train/loss": 4.0 - s * 1e-4, f"key_{s}": 1.0}) for s in range(1, steps + 1)))


@pytest.mark.timeout(GENEROUS)
@pytest.mark.parametrize(("write", "steps"), [(wandb_file, 8000), (tensorboard_file, 4000)], ids=["wandb", "tensorboard"])
def test_tracker_log_with_a_new_key_every_step(tmp_path: Path, write: Callable[[Path, int], Path], steps: int) -> None:
    runs, texts = read_sparse(write(tmp_path, steps))
    table = runs.table
    assert len(table) == steps and table["loss"].notna().all()
    assert sum(c.startswith("key_") for c in table.columns) == MAX_EXTRA_KEYS
    dropped_said_once(texts, steps - MAX_EXTRA_KEYS)
