"""The `scalelaw plan` commands: answers with intervals, JSON output, clean errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalelaw
from scalelaw.cli.main import run
from scalelaw.laws.kaplan_steps import KAPLAN_2020
from scalelaw.plan.flops import FlopAccounting
from scalelaw.plan.unraveling import simulate_runs


@pytest.fixture(scope="module")
def curves_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = simulate_runs(KAPLAN_2020, sizes=np.geomspace(1e6, 6e7, 4), batches=2.0 ** np.arange(16, 25, 2),
                         steps=np.unique(np.geomspace(10, 1e5, 25).round()), noise=0.003, seed=0)
    path = tmp_path_factory.mktemp("plan") / "curves.csv"
    runs.table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def chinchilla_fit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    n = np.repeat(np.geomspace(1e7, 1e9, 5), 4)
    d = np.tile(np.geomspace(1e9, 1e11, 4), 5)
    loss = (1.7 + 400 / n**0.34 + 410 / d**0.28) * np.exp(0.003 * rng.standard_normal(n.size))
    runs = pd.DataFrame({"run": [f"r{i}" for i in range(n.size)], "loss": loss, "params": n, "tokens": d})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = scalelaw.fit(runs, law="chinchilla", bootstrap=10, seed=0)
    path = tmp_path_factory.mktemp("plan") / "chinchilla.json"
    fit.save(path)
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert run(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_unravel_then_every_kaplan_question(curves_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fit = tmp_path / "fit.json"
    out = _json(capsys, ["plan", "unravel", str(curves_csv), "--bootstrap", "4", "--out", str(fit), "--json"])
    alpha_n = next(p for p in out["params"] if p["param"] == "alpha_N")
    assert alpha_n["value"] == pytest.approx(0.076, rel=0.05)
    low = _json(capsys, ["plan", "min-loss", str(fit), "--params", "1e9", "--json"])
    assert low["values"]["min_loss"]["value"] == pytest.approx(2.3756, rel=0.01)
    assert low["warnings"] and "decades beyond" in low["warnings"][0]
    steps = _json(capsys, ["plan", "target", str(fit), "--loss", "3.2", "--params", "1e8", "--json"])["values"]
    assert steps["S_min"]["low"] <= steps["S_min"]["value"] <= steps["S_min"]["high"]
    batch = _json(capsys, ["plan", "batch", str(fit), "--loss", "3.2", "--params", "1e8", "--batch", "1e5", "--batch", "1e7", "--json"])
    few, many = batch["tradeoff"]
    assert few["steps"]["value"] > many["steps"]["value"] and few["tokens"]["value"] < many["tokens"]["value"]
    curve = _json(capsys, ["plan", "trajectory", str(fit), "--params", "1e8", "--batch-size", "1e6", "--steps", "1e3", "--steps", "1e4", "--json"])
    assert curve["trajectory"][0]["loss"] > curve["trajectory"][1]["loss"]
    assert run(["plan", "batch", str(fit), "--loss", "3"]) == 0 and "B_crit" in capsys.readouterr().out


def test_compute_and_target_from_a_chinchilla_fit(chinchilla_fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    best = _json(capsys, ["plan", "compute", str(chinchilla_fit), "--flops", "1e21", "--json"])["values"]
    assert best["params"]["value"] * best["tokens"]["value"] * 6 == pytest.approx(1e21, rel=1e-6)
    assert best["params"]["low"] <= best["params"]["value"] <= best["params"]["high"]
    cheapest = _json(capsys, ["plan", "target", str(chinchilla_fit), "--loss", str(best["loss"]["value"]), "--json"])
    assert cheapest["values"]["flops"]["value"] == pytest.approx(1e21, rel=0.01)


def test_isoflop_on_the_bundled_porian_data(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json(capsys, ["plan", "isoflop", "dataset:porian2024", "--where", "hparams == 'tuned' and dataset == 'rw'",
                          "--by", "param_count", "--bootstrap", "50", "--flops", "1e22", "--json"])
    by_group = {r["group"]: r for r in rows}
    assert by_group["standard"]["a"] == pytest.approx(0.497, abs=0.02)
    assert "warning" in by_group["standard"] and by_group["standard"]["N*(1e+22)"] > 1e9


def test_errors_are_clean(chinchilla_fit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "min-loss", str(chinchilla_fit), "--params", "1e9"]) == 2
    assert "kaplan-steps" in capsys.readouterr().err
    assert run(["plan", "compute", str(tmp_path / "missing.json"), "--flops", "1e21"]) == 2
    assert "missing.json" in capsys.readouterr().err
    assert run(["plan", "isoflop", "dataset:porian2024", "--method", "cubic"]) == 2


@pytest.mark.parametrize("command", ["compute", "target", "min-loss", "batch", "trajectory", "unravel", "isoflop", "hparams", "hparams-fit"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", command, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_refit_coefficients_with_exponents_from_an_old_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Su et al.'s transfer: exponents held from an earlier setup (--fix-from), coefficients refitted."""
    grid = dict(sizes=np.geomspace(1e6, 6e7, 3), batches=2.0 ** np.arange(16, 25, 4),
                steps=np.unique(np.geomspace(100, 1e5, 10).round()), noise=0.002)
    new_setup = dict(KAPLAN_2020, N_c=3e13, S_c=5e3, B_star=5e8)
    for name, constants, seed in (("old", KAPLAN_2020, 1), ("new", new_setup, 2)):
        simulate_runs(constants, seed=seed, **grid).table.to_csv(tmp_path / f"{name}.csv", index=False)
    assert run(["fit", str(tmp_path / "old.csv"), "--law", "kaplan-steps", "--out", str(tmp_path / "old.json")]) == 0
    held = f"{tmp_path / 'old.json'}:alpha_N,alpha_S,alpha_B"
    assert run(["fit", str(tmp_path / "new.csv"), "--law", "kaplan-steps", "--fix-from", held, "--out", str(tmp_path / "new.json")]) == 0
    capsys.readouterr()
    new = scalelaw.load_fit(tmp_path / "new.json")
    for name in ("N_c", "S_c", "B_star"):
        assert new.params[name] == pytest.approx(new_setup[name], rel=0.1), name
    answer = _json(capsys, ["plan", "min-loss", str(tmp_path / "new.json"), "--params", "1e9", "--json"])
    assert any("no bootstrap" in w for w in answer["warnings"])


def test_flop_accounting_moves_the_optimum(chinchilla_fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["plan", "compute", str(chinchilla_fit), "--flops", "1e21", "--json"]
    standard = _json(capsys, base)["values"]["params"]["value"]
    counted = _json(capsys, [*base, "--last-layer", "--attention", "--vocab", "50257", "--seq-len", "2048",
                             "--aspect-ratio", "64"])["values"]
    # The overhead weighs most on small models, so the optimum moves; the budget is spent exactly.
    assert abs(counted["params"]["value"] / standard - 1) > 0.02
    accounting = FlopAccounting(last_layer=True, attention=True, vocab=50257, seq_len=2048, aspect_ratio=64)
    spent = accounting.per_token(counted["params"]["value"]) * counted["tokens"]["value"]
    assert spent == pytest.approx(1e21, rel=1e-9)
    assert counted["params"]["low"] <= counted["params"]["value"] <= counted["params"]["high"]
    assert run([*base, "--attention"]) == 2 and "needs a positive n_layers" in capsys.readouterr().err


def test_hparams_fit_on_the_ladder_grid_then_predict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hp.json"
    fitted = _json(capsys, ["plan", "hparams-fit", "dataset:ladder-hparams", "--where", "width <= 64", "--out", str(out),
                            "--bootstrap", "30", "--json"])
    assert len(fitted["optima"]) == 12 and fitted["law"]["lr_params_exp"] < 0  # the optimal lr falls with size
    assert fitted["law"]["bs_tokens_exp"] > 0  # and the best batch grows with the tokens (interior at 32k, 64k)
    answer = _json(capsys, ["plan", "hparams", str(out), "--params", "2.1e5", "--tokens", "16384", "--json"])
    lr = answer["values"]["lr"]
    assert lr["low"] < lr["value"] < lr["high"]
    assert run(["plan", "hparams-fit", "dataset:ladder-hparams", "--out", str(out), "--rule", "mode"]) == 2
