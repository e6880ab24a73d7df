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


@pytest.fixture(scope="module")
def annealing_fit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An lr-annealing fit of the bundled 25M protocol curves, saved as FIT.json."""
    import scalelaw.datasets as datasets
    from scalelaw.fit import fit_law

    runs = datasets.load("multipowerlaw-25m").select(["cosine_24000", "constant_24000", "wsdcon_9"])
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    fit_law(runs, "lr-annealing").save(path)
    return path


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


def test_loaded_fit_predicts_a_schedule_curve(annealing_fit: Path) -> None:
    from scalelaw.fit import load_fit

    fit = load_fit(annealing_fit)
    prediction = fit.predict(schedule=SPEC)
    assert prediction.loss.shape == (1000,)
    assert np.all(prediction.lo <= prediction.loss) and np.all(prediction.loss <= prediction.hi)
    assert prediction.loss[-1] < prediction.loss[0]
