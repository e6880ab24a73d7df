"""Schedules: formulas, spec round-trips, bad specs, and the Multi-Power Law data's logged lr."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw.data.schedules import (
    SCHEDULES,
    Constant,
    Cosine,
    Custom,
    InverseSqrt,
    Linear,
    Step,
    TwoStage,
    WarmupStableDecay,
    MULTIPOWER_SCHEDULES,
    at_length,
    parse_schedule,
    schedule_from_logged,
)
from scalelaw.errors import DataWarning, InputError

EXAMPLES = [
    "constant:peak=0.0003,total=24000,warmup=2160",
    "cosine:peak=0.0003,total=24000,warmup=2160,final=3e-05",
    "linear:peak=0.001,total=1000,warmup=100,final=0.0",
    "wsd:peak=0.0003,total=24000,warmup=2160,decay_start=20000,final=3e-05,shape=geometric",
    "wsd:peak=0.0003,total=24000,warmup=2160,decay_start=20000,final=3e-05,shape=sqrt",
    "wsd:peak=0.0003,total=24000,warmup=2160,decay_start=20000,final=3e-05,shape=cosine",
    "two-stage:peak=0.0003,total=16000,warmup=2160,switch=8000,second=9e-05",
    "step:peak=0.001,total=3000,warmup=10,boundaries=1000/2000,values=0.0003/0.0001",
    "invsqrt:peak=0.001,total=5000,warmup=500,timescale=500.0",
    "custom:steps=0/10/20,values=0.0/0.001/0.0005",
]


@pytest.mark.parametrize("spec", EXAMPLES)
def test_spec_round_trips(spec: str) -> None:
    schedule = parse_schedule(spec)
    again = parse_schedule(schedule.to_spec())
    assert again == schedule
    np.testing.assert_array_equal(again.per_step(), schedule.per_step())


def test_every_family_has_an_example() -> None:
    assert {parse_schedule(s).name for s in EXAMPLES} == set(SCHEDULES)


def test_warmup_is_linear_from_zero_and_per_step_starts_at_update_one() -> None:
    s = Constant(peak=1e-3, total=100, warmup=10)
    lr = s.per_step()
    assert lr.shape == (100,)
    assert s.lr(np.array([0.0]))[0] == 0.0
    np.testing.assert_allclose(lr[:10], 1e-3 * np.arange(1, 11) / 10)
    assert np.all(lr[9:] == 1e-3)
    assert s.total_steps == 100


def test_cosine_and_linear_reach_final_at_total() -> None:
    for cls in (Cosine, Linear):
        s = cls(peak=1e-3, total=1000, warmup=100, final=1e-4)
        lr = s.per_step()
        assert lr[99] == pytest.approx(1e-3)
        assert lr[-1] == pytest.approx(1e-4)
        assert np.all(np.diff(lr[99:]) <= 0)
    mid = Cosine(peak=1e-3, total=1100, warmup=100, final=0.0).lr(np.array([600.0]))[0]
    assert mid == pytest.approx(5e-4)


def test_wsd_shapes_hit_both_ends_and_differ_in_between() -> None:
    halfway = {}
    for shape in ("linear", "cosine", "geometric", "sqrt"):
        s = WarmupStableDecay(peak=1e-3, total=2000, warmup=0, decay_start=1000, final=1e-4, shape=shape)
        assert s.lr(np.array([1000.0]))[0] == pytest.approx(1e-3)
        assert s.lr(np.array([2000.0]))[0] == pytest.approx(1e-4)
        halfway[shape] = s.lr(np.array([1500.0]))[0]
    assert halfway["linear"] == pytest.approx(5.5e-4)
    assert halfway["cosine"] == pytest.approx(5.5e-4)
    assert halfway["geometric"] == pytest.approx(np.sqrt(1e-3 * 1e-4))
    assert halfway["sqrt"] == pytest.approx(1e-4 + 9e-4 * (1 - np.sqrt(0.5)))


def test_step_two_stage_and_inverse_sqrt() -> None:
    s = Step(peak=1.0, total=30, boundaries=(10, 20), values=(0.5, 0.25))
    np.testing.assert_array_equal(s.lr(np.array([9.0, 10.0, 19.0, 20.0, 29.0])), [1.0, 0.5, 0.5, 0.25, 0.25])
    t = TwoStage(peak=1.0, total=30, switch=10, second=0.1)
    np.testing.assert_array_equal(t.lr(np.array([9.0, 10.0])), [1.0, 0.1])
    inv = InverseSqrt(peak=1.0, total=1000, warmup=100, timescale=100.0)
    assert inv.lr(np.array([400.0]))[0] == pytest.approx(0.5)


def test_steps_past_total_hold_the_last_rate() -> None:
    s = Cosine(peak=1e-3, total=100, final=1e-5)
    assert s.lr(np.array([100.0, 150.0]))[1] == s.lr(np.array([100.0]))[0]
    assert s.per_step(150).shape == (150,)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("cosine:peak=3e-4,total=100,wrong=1", "bad key 'wrong'"),
        ("cosine:peak=3e-4,total=100,wrong=1", "allowed keys: peak, total, warmup, final"),
        ("banana:peak=1", "unknown schedule 'banana'"),
        ("wsd:peak=3e-4,total=100", "needs decay_start"),
        ("cosine:peak=abc,total=100", "peak='abc' is not a valid float"),
        ("cosine:peak=3e-4,total=10.5", "total='10.5' is not a valid int"),
        ("cosine:peak=-1,total=100", "peak must be a positive number"),
        ("wsd:peak=3e-4,total=100,decay_start=50,shape=zigzag", "shape must be one of"),
        ("wsd:peak=3e-4,total=100,decay_start=50,shape=geometric", "final must be > 0"),
        ("constant:peak=3e-4,total=100,warmup=200", "warmup must be between 0 and total"),
        ("custom:file=/no/such/file.csv", "not found"),
    ],
)
def test_bad_specs_are_input_errors_naming_the_problem(spec: str, fragment: str) -> None:
    with pytest.raises(InputError, match=None) as info:
        parse_schedule(spec)
    assert fragment in str(info.value)


def test_custom_table_from_file(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "lr.csv"
    path.write_text("step,lr\n0,0\n100,1e-3\n200,1e-4\n")
    s = parse_schedule(f"custom:file={path}")
    assert isinstance(s, Custom) and s.total_steps == 200 and s.peak == 1e-3
    assert s.lr(np.array([50.0]))[0] == pytest.approx(5e-4)
    assert s.to_spec() == f"custom:file={path}"


def test_rebuild_from_sparse_log_interpolates_and_checks() -> None:
    truth = Linear(peak=1e-3, total=1000, final=1e-4)
    steps = np.arange(0, 1001, 100)
    rebuilt = schedule_from_logged(steps, truth.lr(steps))
    np.testing.assert_allclose(rebuilt.per_step(1000), truth.per_step(), rtol=1e-12)
    with pytest.raises(InputError) as info:
        schedule_from_logged(np.array([0, 10, 10]), np.array([1.0, 1.0, 1.0]), file="f.csv", run="r")
    assert "row 3" in str(info.value) and "strictly increasing" in str(info.value)
    with pytest.raises(InputError, match="column 'lr'"):
        schedule_from_logged(np.array([0, 10]), np.array([1.0, np.nan]), run="r")
    with pytest.warns(DataWarning, match="first logged at step 500"):
        schedule_from_logged(np.array([500, 600, 700]), np.array([1.0, 1.0, 1.0]))


@pytest.mark.parametrize("size", ["25m", "100m"])
def test_multipower_specs_match_the_logged_lr(size: str) -> None:
    datasets = pytest.importorskip("scalelaw.datasets._multipowerlaw")
    for run, spec in MULTIPOWER_SCHEDULES.items():
        schedule = parse_schedule(spec)
        points = datasets.logged(size, run)
        steps = points["step"].to_numpy(dtype=float)
        np.testing.assert_allclose(schedule.lr(steps), points["lr"].to_numpy(), rtol=1e-12, atol=0)
        assert schedule.total_steps == datasets.SCHEDULES[run]


def test_multipower_specs_match_the_bundled_per_step_lr() -> None:
    datasets = pytest.importorskip("scalelaw.datasets")
    runs = datasets.load("multipowerlaw-25m")
    for run, spec in MULTIPOWER_SCHEDULES.items():
        curve = runs.curve(run)
        expected = parse_schedule(spec).lr(curve["step"].to_numpy(dtype=float))
        np.testing.assert_allclose(expected, curve["lr"].to_numpy(), rtol=1e-12, atol=1e-18)


def test_at_length_keeps_the_warmup_and_moves_landmarks_in_proportion() -> None:
    wsd = parse_schedule("wsd:peak=3e-4,warmup=2160,total=24000,decay_start=20000,final=3e-5,shape=geometric")
    short = at_length(wsd, 12000)
    assert (short.total, short.warmup, short.decay_start, short.final, short.shape) == \
        (12000, 2160, 10000, 3e-5, "geometric")
    step = at_length(parse_schedule("step:peak=1e-3,warmup=10,total=1000,boundaries=500/800,values=1e-4/1e-5"), 500)
    assert step.boundaries == (250, 400) and step.values == (1e-4, 1e-5)
    # Landmarks never move into the warmup; a constant schedule only changes its length.
    assert at_length(parse_schedule("two-stage:peak=3e-4,warmup=2160,total=16000,switch=8000,second=3e-5"),
                     4000).switch == 2160
    assert at_length(parse_schedule("constant:peak=3e-4,warmup=100,total=1000"), 300).to_spec() == \
        "constant:peak=0.0003,total=300,warmup=100"


@pytest.mark.parametrize(("spec", "total", "fragment"), [
    ("cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5", 2000, "longer than the warmup"),
    ("custom:steps=0/100,values=1e-3/1e-4", 50, "custom schedule"),
    ("step:peak=1e-3,warmup=10,total=1000,boundaries=500/501,values=1e-4/1e-5", 20, "cannot be shortened"),
])
def test_at_length_refuses_what_it_cannot_shorten(spec: str, total: int, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        at_length(parse_schedule(spec), total)
