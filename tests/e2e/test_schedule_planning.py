"""Which schedule and length to run next, from Hugging Face Trainer runs of one model size under three schedules.

The walk a user takes: train a few runs (constant lr with warmup, cosine, linear decay; the Trainer's own
schedules), `runs import` the output folder, `fit --law multi-power`, `predict` the target's curve from that
FIT.json, `plan next --candidates lengths` for a longer cosine run, and `report`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from e2e_flow import import_runs, scalelaw
from e2e_tiny import PEAK_LR, TOKENS_PER_STEP, WARMUP, Spec
from e2e_tools import train_hf

#: One width; each run its own length (the Trainer names its folder after width and steps) and schedule.
RUNS = {Spec(16, 150): "constant_with_warmup", Spec(16, 120): "cosine", Spec(16, 90): "linear"}
TARGET = f"cosine:peak={PEAK_LR},warmup={WARMUP},total=600,final=0"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("hf-schedules")
    for spec, schedule in RUNS.items():
        train_hf(spec, work / "out", report_to=[], lr_scheduler_type=schedule, logging_steps=1)
    import_runs(str(work / "out"), work / "store")
    return work / "store"


def test_plan_next_ranks_shorter_runs_for_a_longer_cosine(store: Path, tmp_path: Path) -> None:
    fit = tmp_path / "mpl.json"
    code, out, err = scalelaw(f"scalelaw fit {store} --law multi-power --bootstrap 20 --out {fit} --json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["law"] == "multi-power" and all(math.isfinite(v) for v in summary["params"].values())
    # Whatever fit writes, predict reads: the target's curve, with an interval around every point.
    code, out, err = scalelaw(f"scalelaw predict {fit} --schedule {TARGET} --points 5 --json")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 5 and all(r["lo"] <= r["loss"] <= r["hi"] for r in rows)
    assert rows[-1]["loss"] < rows[0]["loss"]  # the cosine decays: the loss falls to the end
    # ... and plan next: shortened cosines and constant-lr runs at a quarter and half of the target's steps.
    code, out, err = scalelaw(f"scalelaw plan next {fit} --schedule {TARGET} --candidates lengths --lengths 0.25,0.5 "
                              f"--batch-tokens {TOKENS_PER_STEP} --json")
    assert code == 0, err
    answer = json.loads(out)
    ranked = {r["candidate"]: r for r in answer["ranking"]}
    assert set(ranked) == {"cosine 150 steps", "constant 150 steps", "cosine 300 steps", "constant 300 steps"}
    params = answer["target"]["params"]
    assert params == float(json.loads(Path(fit).read_text())["fitted_range"]["params"][0])  # the runs' own size
    assert answer["target"]["flops"] == pytest.approx(6 * params * 600 * TOKENS_PER_STEP)
    assert ranked["cosine 300 steps"]["share_of_target"] == pytest.approx(0.5)
    assert all(0 < r["expected_half_width"] <= answer["half_width_now"] for r in answer["ranking"])
    # 300 steps reach twice as near the 600-step target as 150 do (in decades of steps beyond the data).
    assert ranked["cosine 300 steps"]["decades_after"] < ranked["cosine 150 steps"]["decades_after"]
    report = tmp_path / "report.html"
    code, out, err = scalelaw(f"scalelaw report {fit} --out {report}")
    assert code == 0, err
    assert "multi-power" in report.read_text(encoding="utf-8")
