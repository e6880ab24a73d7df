"""The generic fit/predict/evaluate commands with the loss-curve laws, and the schedule commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scalelaw.cli.main import run

SPEC = "wsd:peak=3e-4,warmup=2160,total=24000,decay_start=20000,final=3e-5,shape=geometric"


def test_schedule_show_prints_the_lr(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["schedule", "show", SPEC, "--points", "5", "--json", "--plot", str(tmp_path / "lr.png")]) == 0
    out = json.loads(capsys.readouterr().out)
    lr = {p["step"]: p["lr"] for p in out["points"]}
    assert lr[0] == 0.0 and lr[24000] == pytest.approx(3e-5) and lr[12000] == 3e-4
    assert (tmp_path / "lr.png").stat().st_size > 0


def test_schedule_show_bad_spec_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["schedule", "show", "cosine:peak=3e-4,total=100,wrong=1"]) == 2
    err = capsys.readouterr().err
    assert "bad key 'wrong'" in err and "allowed keys" in err and "Traceback" not in err


PROTOCOL = "run in ['cosine_24000', 'constant_24000', 'wsdcon_9']"


def _fit(law: str, where: str, out: Path) -> dict:
    """Fit with the generic ``scalelaw fit`` command and return its JSON."""
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = run(["fit", "dataset:multipowerlaw-25m", "--where", where, "--law", law, "--out", str(out), "--json"])
    assert code == 0
    return json.loads(buffer.getvalue())


@pytest.fixture(scope="module")
def annealing_fit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An lr-annealing fit of the bundled 25M protocol curves, saved by ``scalelaw fit --out``."""
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    summary = _fit("lr-annealing", PROTOCOL, path)
    assert summary["law"] == "lr-annealing" and summary["diagnostics"]["n_runs"] == 3
    return path


@pytest.fixture(scope="module")
def multipower_fit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fit") / "mpl.json"
    summary = _fit("multi-power", "run in ['constant_24000', 'wsdcon_9']", path)
    assert set(summary["params"]) == {"L0", "A", "alpha", "B", "C", "beta", "gamma"}
    return path


@pytest.mark.parametrize("which", ["annealing_fit", "multipower_fit"])
def test_predict_a_schedule_returns_the_curve(which: str, request: pytest.FixtureRequest,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = request.getfixturevalue(which)
    capsys.readouterr()
    assert run(["predict", str(path), "--schedule", SPEC, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1000 and {"step", "loss", "lo", "hi"} <= set(rows[0])
    steps = np.array([r["step"] for r in rows])
    loss = np.array([r["loss"] for r in rows])
    assert steps[-1] == 24000 and np.all(np.diff(steps) > 0)
    after_warmup = steps >= 2160
    assert np.all(np.diff(loss[after_warmup]) < 0)  # loss falls all along this schedule
    assert all(r["lo"] <= r["loss"] <= r["hi"] for r in rows)


def test_predict_a_schedule_table_is_short_and_starts_after_warmup(multipower_fit: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run(["predict", str(multipower_fit), "--schedule", SPEC]) == 0
    out = capsys.readouterr().out
    body = [line for line in out.splitlines() if line.startswith("│")]
    assert len(body) == 20 and body[0].split("│")[1].strip() == "2160" and body[-1].split("│")[1].strip() == "24000"
    assert out.count("wsd:peak") == 1  # the schedule is said once, in the title
    assert run(["predict", str(multipower_fit), "--schedule", SPEC, "--points", "7", "--json"]) == 0
    assert [r["step"] for r in json.loads(capsys.readouterr().out)][::6] == [2160, 24000]


def test_a_decay_to_zero_is_a_short_extrapolation_in_lr(multipower_fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cosine to 0 (the Hugging Face default): the lowest fitted lr is 9e-5 (wsdcon_9), and an lr
    counts as at least 1% of the peak, so the distance is log10(9e-5 / 3e-6) decades, not 15."""
    capsys.readouterr()
    zero = "cosine:peak=3e-4,warmup=2160,total=24000,final=0"
    assert run(["predict", str(multipower_fit), "--schedule", zero, "--json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert max(r["extrapolation_decades"] for r in rows) == pytest.approx(np.log10(9e-5 / 3e-6), abs=1e-9)
    assert "beyond the fitted range of lr" not in captured.err
    assert all(np.isfinite(r["hi"]) and r["lo"] <= r["loss"] <= r["hi"] for r in rows)


def test_predict_runs_and_evaluate_held_out_curves(multipower_fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    held_out = "run in ['wsd_20000_24000', 'wsdcon_18']"
    assert run(["predict", str(multipower_fit), "--runs", "dataset:multipowerlaw-25m", "--where", held_out, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["run"] for r in rows} == {"wsd_20000_24000", "wsdcon_18"}
    logged = [r for r in rows if r["observed"] is not None]
    assert len(logged) == 170 + 95
    assert max(abs(r["loss"] - r["observed"]) / r["observed"] for r in logged) < 0.02
    # the rows after the last logged loss are forecast to the end of the schedule
    assert max(r["step"] for r in rows if r["run"] == "wsd_20000_24000") == 24000
    assert run(["evaluate", str(multipower_fit), "dataset:multipowerlaw-25m", "--where", held_out, "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert {r["run"] for r in scores["runs"]} == {"wsd_20000_24000", "wsdcon_18"}
    assert scores["overall"]["r2"] > 0.99 and scores["overall"]["mean_rel_error"] < 0.005


def test_schedule_optimize_from_a_saved_fit(annealing_fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["schedule", "optimize", str(annealing_fit), "--total", "24000", "--peak", "3e-4",
                "--warmup", "2160", "--final", "3e-5", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["best_schedule"].startswith("wsd:")
    assert out["best_final_loss"] < out["cosine_final_loss"]
    assert out["gain_over_cosine"] == pytest.approx(out["cosine_final_loss"] - out["best_final_loss"])


def test_schedule_optimize_bad_family_exits_2(annealing_fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["schedule", "optimize", str(annealing_fit), "--total", "100", "--peak", "1e-3", "--family", "x"]) == 2
    assert "unknown schedule family" in capsys.readouterr().err
