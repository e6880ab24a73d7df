"""Sweep specs: grid expansion, run ids, schedule templates and errors that name the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scalelaw.errors import InputError
from scalelaw.ladder.schedule_template import schedule_for
from scalelaw.ladder.spec import load_spec, parse_spec


@pytest.fixture
def spec_with(tiny_spec: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    return lambda **changes: {**tiny_spec, **changes}


def test_grid_expands_to_every_combination(spec_with: Callable[..., dict[str, Any]]) -> None:
    spec = parse_spec(spec_with(tokens=[4096, 8192], seeds=[0, 1], batch_size=[128, 256]))
    assert len(spec.runs) == 2 * 2 * 2 * 2  # widths x tokens x seeds x batch sizes
    assert len({r.run_id for r in spec.runs}) == len(spec.runs)
    assert {r.shape.width for r in spec.runs} == {8, 16}
    assert all(r.shape.vocab_size == 16 and r.shape.seq_len == 16 for r in spec.runs)


def test_a_list_of_models_and_tokens_per_parameter(spec_with: Callable[..., dict[str, Any]]) -> None:
    raw = spec_with(models=[{"width": 8, "depth": 1, "heads": 1}, {"width": 16, "depth": 2, "heads": 4}])
    del raw["tokens"]
    raw["tokens_per_param"] = [2]
    spec = parse_spec(raw)
    assert [r.tokens for r in spec.runs] == [2 * r.shape.params for r in spec.runs]
    assert [r.shape.depth for r in spec.runs] == [1, 2]


def test_run_ids_change_when_any_setting_changes(spec_with: Callable[..., dict[str, Any]]) -> None:
    base = {r.run_id for r in parse_spec(spec_with()).runs}
    assert base == {r.run_id for r in parse_spec(spec_with()).runs}
    assert base.isdisjoint(r.run_id for r in parse_spec(spec_with(weight_decay=0.0)).runs)
    assert base.isdisjoint(r.run_id for r in parse_spec(spec_with(schedules=["constant:peak=1e-2"])).runs)


def test_schedule_template_fills_total_and_percentages() -> None:
    schedule = schedule_for("wsd:peak=1e-2,final=1e-3,warmup=10%,decay_start=80%", 200)
    assert (schedule.total, schedule.warmup, schedule.decay_start) == (200, 20, 160)
    with pytest.raises(InputError, match="leave out 'total'"):
        schedule_for("cosine:peak=1e-2,total=5", 10)


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"colour": 1}, "colour"),
        ({"tokens": ["lots"]}, "tokens"),
        ({"tokens": [-5]}, "tokens"),
        ({"batch_size": 100}, "batch_size"),
        ({"models": {"width": 10, "heads": 3}}, "models"),
        ({"models": "big"}, "models"),
        ({"tokens_per_param": [3]}, "tokens"),
        ({"schedules": ["zigzag:peak=1"]}, None),
        ({"target": {"width": 32}}, "target"),
    ],
)
def test_bad_specs_are_input_errors_naming_the_key(spec_with: Callable[..., dict[str, Any]], changes: dict[str, Any], column: str | None) -> None:
    with pytest.raises(InputError) as info:
        parse_spec(spec_with(**changes), file="sweep.yaml")
    assert info.value.location.file == "sweep.yaml" or column is None
    if column is not None:
        assert info.value.location.column == column


def test_load_spec_reports_missing_files_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_spec(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [width: 8\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML") as info:
        load_spec(bad)
    assert info.value.location.file == str(bad)


def test_bundled_demo_and_example_specs_parse() -> None:
    from scalelaw.ladder.demo import demo_spec_path

    demo = load_spec(demo_spec_path())
    assert demo.target is not None
    assert demo.target.shape.params >= 4 * max(r.shape.params for r in demo.runs)
    for example in sorted((Path(__file__).parents[2] / "examples").glob("ladder-*.yaml")):
        assert load_spec(example).runs
