"""`plan next` under a loss-curve law: which schedule and length to run next, from the Multi-Power Law's curves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scalelaw.cli.main import run
from scalelaw.plan.next_run import posterior_variance

TARGET = "cosine:peak=3e-4,warmup=2160,total=72000,final=3e-5"
CANDIDATES = {
    "constant_24000": "constant:peak=3e-4,warmup=2160,total=24000",
    "cosine_24000": "cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5",
    "constant_48000": "constant:peak=3e-4,warmup=2160,total=48000",
    "constant_60000": "constant:peak=3e-4,warmup=2160,total=60000",
}


@pytest.fixture(scope="module")
def curve_fit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A calibrated multi-power fit of the three cheapest 100M curves (16k steps), as a user would make it."""
    folder = tmp_path_factory.mktemp("mpl")
    out = folder / "fit.json"
    assert run(["fit", "dataset:multipowerlaw-100m", "--law", "multi-power", "--where",
                "run in ['wsdcon_3', 'wsdcon_9', 'wsdcon_18']", "--bootstrap", "30", "--calibrate",
                "--out", str(out)]) == 0
    return out


def _candidates(folder: Path, rows: dict[str, str], header: str = "run,schedule", extra: str = "") -> Path:
    path = folder / "candidates.csv"
    path.write_text(header + "\n" + "".join(f'{k},"{v}"{extra}\n' for k, v in rows.items()), encoding="utf-8")
    return path


def test_one_point_update_is_the_scalar_kalman_step() -> None:
    rng = np.random.default_rng(1)
    t = rng.normal(size=200)
    f = 0.7 * t + 0.3 * rng.normal(size=200)
    var_t, var_f = np.var(t, ddof=1), np.var(f, ddof=1)
    cov = np.cov(t, f)[0, 1]
    expected = var_t - cov**2 / (var_f + 0.01 + 0.02)
    assert posterior_variance(t, f[:, None], 0.01, 0.02) == pytest.approx(expected, rel=1e-12)


def test_a_shared_offset_along_a_curve_is_worth_less_than_independent_points() -> None:
    rng = np.random.default_rng(2)
    t = rng.normal(size=300)
    curve = np.stack([t + 0.1 * rng.normal(size=300) for _ in range(4)], axis=1)
    independent = posterior_variance(t, curve, 0.05, 0.0)
    shared = posterior_variance(t, curve, 0.0, 0.05)
    one_point = posterior_variance(t, curve[:, :1], 0.05, 0.0)
    # Four points with independent noise average it down; a noise common to the curve does not average.
    assert independent < one_point
    assert shared > independent


def test_plan_next_ranks_schedules_and_lengths(curve_fit: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    candidates = _candidates(tmp_path, CANDIDATES)
    assert run(["plan", "next", str(curve_fit), "--schedule", TARGET, "--candidates", str(candidates),
                "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["target"]["schedule"].startswith("cosine:") and answer["target"]["params"] == 1e8
    # the target's cosine decays for 70k steps, the fitted runs' lr for 8k at most: said, not hidden
    assert any("decays for 69," in w for w in answer["warnings"])
    ranking = {r["candidate"]: r for r in answer["ranking"]}
    assert set(ranking) == set(CANDIDATES)
    # Costs are steps x N at one token per step: the 24k runs cost a third of the 72k target.
    assert ranking["constant_24000"]["share_of_target"] == pytest.approx(24 / 72)
    # A longer run brings the 72k target nearer the data: the law's own error there shrinks with length.
    assert ranking["constant_60000"]["decades_after"] < ranking["constant_48000"]["decades_after"] \
        < ranking["constant_24000"]["decades_after"] < answer["decades_now"]
    assert ranking["constant_60000"]["law_sd_after"] < ranking["constant_24000"]["law_sd_after"] < answer["law_sd_now"]
    assert all(r["expected_half_width"] < answer["half_width_now"] for r in answer["ranking"])
    keys = [r["shrink_per_1pct_compute"] for r in answer["ranking"]]
    assert keys == sorted(keys, reverse=True)
    # The table a person reads names the target's schedule and the cost basis.
    assert run(["plan", "next", str(curve_fit), "--schedule", TARGET, "--candidates", str(candidates)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "under cosine:peak=0.0003,total=72000" in text and "same batch size" in text and "FLOPs" not in text


def test_batch_tokens_cost_the_runs(curve_fit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    candidates = _candidates(tmp_path, CANDIDATES)
    assert run(["plan", "next", str(curve_fit), "--schedule", TARGET, "--candidates", str(candidates),
                "--batch-tokens", "524288", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["target"]["tokens"] == 72000 * 524288
    assert answer["target"]["flops"] == pytest.approx(6 * 1e8 * 72000 * 524288)


@pytest.mark.parametrize(("argv", "rows", "header", "message"), [
    ([], {"constant_24000": ""}, "run,schedule", "row 1"),
    ([], {"bad": "custom:file=/etc/passwd"}, "run,schedule", "cannot name a file"),
    ([], {"bad": "cosine:peak=3e-4,total=oops"}, "run,schedule", "row 1"),
    ([], {"big": "constant:peak=3e-4,warmup=2160,total=72000"}, "run,schedule", "not below the target"),
    ([], {"other_size": "constant:peak=3e-4,warmup=2160,total=24000"}, "run,schedule,params", "one model size"),
    (["--method", "refit", "--runs", "dataset:multipowerlaw-100m"], CANDIDATES, "run,schedule", "--method ensemble"),
])
def test_bad_schedule_candidates_exit_2(curve_fit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        argv: list[str], rows: dict[str, str], header: str, message: str) -> None:
    extra = ",2.5e7" if header.endswith("params") else ""
    candidates = _candidates(tmp_path, rows, header, extra)
    assert run(["plan", "next", str(curve_fit), "--schedule", TARGET, "--candidates", str(candidates), *argv]) == 2
    assert message in capsys.readouterr().err


def test_schedules_adding_up_to_more_than_the_bound_are_refused_before_any_work(
        curve_fit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = {f"long{i}": "constant:peak=3e-4,warmup=2160,total=9000000" for i in range(12)}
    candidates = _candidates(tmp_path, rows)
    long_target = "cosine:peak=3e-4,warmup=2160,total=10000000,final=3e-5"
    assert run(["plan", "next", str(curve_fit), "--schedule", long_target, "--candidates", str(candidates)]) == 2
    assert "118,000,000 steps" in capsys.readouterr().err


def test_a_curve_fit_needs_the_target_schedule(curve_fit: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    candidates = _candidates(tmp_path, CANDIDATES)
    assert run(["plan", "next", str(curve_fit), "--params", "1e8", "--candidates", str(candidates)]) == 2
    assert "--schedule" in capsys.readouterr().err


def test_a_final_loss_law_cannot_rank_schedules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "chinchilla.json"
    assert run(["fit", "dataset:olmo-ladder", "--bootstrap", "10", "--no-calibrate", "--out", str(out)]) == 0
    candidates = _candidates(tmp_path, {"c": "cosine:peak=3e-4,warmup=100,total=1000,final=3e-5"},
                             "run,schedule,params,tokens", ",1e8,2e9")
    assert run(["plan", "next", str(out), "--params", "1e9", "--tokens", "2e10", "--candidates", str(candidates)]) == 2
    assert "cannot see schedules" in capsys.readouterr().err


def test_candidates_from_lengths_of_the_target_schedule(curve_fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "next", str(curve_fit), "--schedule", TARGET, "--candidates", "lengths", "--lengths",
                "0.25,0.5", "--json"]) == 0
    ranking = json.loads(capsys.readouterr().out)["ranking"]
    labels = {r["candidate"]: r for r in ranking}
    assert set(labels) == {"cosine 18k steps", "constant 18k steps", "cosine 36k steps",
                           "constant 36k steps"}
    assert labels["cosine 36k steps"]["schedule"] == "cosine:peak=0.0003,total=36000,warmup=2160,final=3e-05"
    assert labels["constant 18k steps"]["share_of_target"] == pytest.approx(0.25)
    # Twice the steps bring the target nearer: the longer runs leave less of the law's own error.
    assert labels["cosine 36k steps"]["law_sd_after"] < labels["cosine 18k steps"]["law_sd_after"]


def test_lengths_at_several_sizes_under_a_sized_law_fit_80_columns(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    fit = tmp_path / "sized.json"
    assert run(["fit", "dataset:multipowerlaw-25m", "dataset:multipowerlaw-100m", "--law", "multi-power-sized",
                "--where", "run in ['wsdcon_3', 'wsdcon_9', 'cosine_24000', 'constant_24000']", "--bootstrap", "20",
                "--no-calibrate", "--out", str(fit)]) == 0
    argv = ["plan", "next", str(fit), "--params", "4e8", "--schedule", TARGET, "--candidates", "lengths",
            "--lengths", "0.25,0.5", "--sizes", "2.5e7,1e8,2e8"]
    capsys.readouterr()
    assert run([*argv, "--json"]) == 0
    ranking = json.loads(capsys.readouterr().out)["ranking"]
    labels = [r["candidate"] for r in ranking]
    assert len(labels) == 12 and "constant 36k N=2e+08" in labels
    # a law that reads the model size: a larger candidate brings the 4e8 target nearer
    by = {r["candidate"]: r for r in ranking}
    assert by["cosine 36k N=2e+08"]["decades_after"] < by["cosine 36k N=2.5e+07"]["decades_after"]
    assert run(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80 and all(any(label in line for line in lines) for label in labels)


@pytest.mark.parametrize(("argv", "message"), [
    (["--lengths", "0.01"], "longer than the warmup"),
    (["--lengths", "1"], "not below the target"),
    (["--lengths", "0.5,-1"], "--lengths"),
])
def test_bad_lengths_exit_2(curve_fit: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                            message: str) -> None:
    assert run(["plan", "next", str(curve_fit), "--schedule", TARGET, "--candidates", "lengths", *argv]) == 2
    assert message in capsys.readouterr().err


def test_lengths_need_the_target_schedule(curve_fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "next", str(curve_fit), "--params", "1e8", "--candidates", "lengths"]) == 2
    assert "--schedule" in capsys.readouterr().err
