"""Hyperparameter laws: the vertex rule finds grid optima, and the Step-Law exponents of a known bowl are recovered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelaw.cli.main import run
from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws.hparams import DEEPSEEK_2024, StepLaw
from scalelaw.plan.hparams import HparamFit, fit_hparams, grid_optima, grid_table, predict_hparams, seed_means, vertex

TRUE = StepLaw(lr_coef=2.0, lr_params_exp=-0.7, lr_tokens_exp=0.3, bs_coef=0.6, bs_tokens_exp=0.55)


def _grid(noise: float = 0.0, seed: int = 0) -> RunSet:
    """Final losses on a bowl in (log lr, log bs) centred on the true optima; lr logged with a decay."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in (1e7, 3e7, 1e8):
        for d in (1e9, 4e9, 1.6e10):
            lr_opt, bs_opt = TRUE.learning_rate(n, d), TRUE.batch_size(d)
            for lr in lr_opt * 2.0 ** np.arange(-3.3, 3.0):
                for bs in bs_opt * 2.0 ** np.arange(-2.4, 2.0):
                    loss = 3.0 + 0.02 * np.log(lr / lr_opt) ** 2 + 0.01 * np.log(bs / bs_opt) ** 2
                    run = f"{n:.0e}/{d:.0e}/{lr:.3g}/{bs:.0f}"
                    for step, factor in ((1, 1.0), (2, 0.1)):  # the last lr is a decayed one
                        rows.append({"run": run, "step": step, "lr": lr * factor, "params": n, "tokens": d * step / 2,
                                     "batch_size": bs, "loss": loss + 1.0 * (step == 1) + noise * rng.standard_normal()})
    return RunSet(pd.DataFrame(rows))


def test_vertex_of_a_parabola_and_an_edge() -> None:
    x = np.exp(np.array([0.0, 1.0, 2.0, 3.0]))
    best, value, edge = vertex(x, (np.log(x) - 1.3) ** 2 + 2.0)
    assert best == pytest.approx(np.exp(1.3)) and value == pytest.approx(2.0) and not edge
    assert vertex(x, -np.log(x))[2]


def test_recovers_step_law_exponents() -> None:
    fit = fit_hparams(_grid(), bootstrap=50, seed=0)
    assert fit.law.lr_params_exp == pytest.approx(-0.7, abs=1e-6)
    assert fit.law.lr_tokens_exp == pytest.approx(0.3, abs=1e-6)
    assert fit.law.bs_tokens_exp == pytest.approx(0.55, abs=1e-6)
    assert not fit.optima["lr_on_edge"].any() and not fit.optima["batch_on_edge"].any()
    answer = predict_hparams(fit, params=1e9, tokens=1e11)
    assert answer.values["lr"].value == pytest.approx(float(TRUE.learning_rate(1e9, 1e11)), rel=1e-6)
    assert answer.values["deepseek_lr"].value == pytest.approx(0.3118 * (6e20) ** -0.125)
    assert any("decades beyond" in w for w in answer.warnings)
    again = HparamFit.from_dict(fit.to_dict(), source="hp.json")
    assert again.law == fit.law


def test_noisy_grid_interval_covers_truth() -> None:
    fit = fit_hparams(_grid(noise=0.002, seed=3), bootstrap=200, seed=1)
    answer = predict_hparams(fit, params=5e7, tokens=5e9)
    truth = float(TRUE.learning_rate(5e7, 5e9))
    assert answer.values["lr"].low < truth < answer.values["lr"].high


def test_needs_a_grid_of_sizes_and_tokens() -> None:
    runs = _grid()
    one_size = RunSet(runs.table[runs.table["params"] == 1e7])
    with pytest.raises(InputError, match="two sizes"):
        fit_hparams(one_size, bootstrap=0)
    assert DEEPSEEK_2024.batch_size(1e20) == pytest.approx(0.2920 * 1e20**0.3271)
    table = runs.table.copy()
    table.loc[table["run"] == table["run"].iloc[0], "lr"] = -1.0
    with pytest.raises(InputError, match=re.escape(f"run '{table['run'].iloc[0]}', column 'lr'")):
        fit_hparams(RunSet(table), bootstrap=0)


def test_exact_grid_identifies_batch_law_and_transfers_without_error() -> None:
    fit = fit_hparams(_grid(), bootstrap=50, seed=0)
    assert fit.bs_identified and fit.bs_note == ""
    assert len(fit.transfer) == 3 and fit.transfer_sd == pytest.approx(0.0, abs=1e-6)  # the law is exact
    assert fit.lr_curvature == pytest.approx(2 * 0.02 / 3.0, rel=1e-3)  # d²L/dx² / L of the bowl
    answer = predict_hparams(fit, params=1e8, tokens=4e9)
    assert answer.values["lr_penalty"].high == pytest.approx(0.0, abs=1e-6)
    assert fit.bs_curvature == pytest.approx(2 * 0.01 / 3.0, rel=1e-3) and fit.cross_curvature == pytest.approx(0.0, abs=1e-9)
    assert answer.values["penalty"].high == pytest.approx(0.0, abs=1e-6)  # lr and batch size both on the optimum
    assert not any("not identified" in w for w in answer.warnings)
    again = HparamFit.from_dict(fit.to_dict(), source="hp.json")
    assert again.transfer == fit.transfer and again.lr_curvature == pytest.approx(fit.lr_curvature)
    assert again.bs_curvature == pytest.approx(fit.bs_curvature)


def test_the_joint_penalty_counts_the_batch_sizes_miss_too() -> None:
    """A law whose batch size is off by a factor 2 costs ½·k_y·ln(2)² more than its lr alone."""
    fit = fit_hparams(_grid(), bootstrap=50, seed=0)
    off = HparamFit.from_dict({**fit.to_dict(), "law": {**fit.to_dict()["law"], "bs_coef": 2 * fit.law.bs_coef}},
                              source="hp.json")
    values = predict_hparams(off, params=1e8, tokens=4e9).values
    expected = 0.5 * fit.bs_curvature * np.log(2) ** 2
    assert values["penalty"].value == pytest.approx(expected, rel=0.05)
    assert values["lr_penalty"].value == pytest.approx(0.0, abs=1e-6) and values["penalty"].high >= expected * 0.95
    edge = predict_hparams(HparamFit.from_dict({**fit.to_dict(), "bs_identified": False}, source="hp.json"),
                           params=1e8, tokens=4e9).values
    assert np.isnan(edge["penalty"].value)  # no batch size predicted, no joint penalty


def test_batch_on_the_edge_is_not_answered_and_a_drifting_law_widens_its_interval() -> None:
    runs = _grid(noise=0.002, seed=3)
    table = runs.table
    table = table[table["batch_size"] <= table.groupby("tokens")["batch_size"].transform("min") * 1.01]
    edge = fit_hparams(RunSet(table.reset_index(drop=True)), bootstrap=50, seed=0)
    assert not edge.bs_identified and "edge" in edge.bs_note
    answer = predict_hparams(edge, params=1e8, tokens=4e9)
    assert np.isnan(answer.values["batch_size"].value)
    assert any("batch-size law not identified" in w for w in answer.warnings)
    drift = fit_hparams(_grid(noise=0.002, seed=3), bootstrap=100, seed=0)
    widened = HparamFit.from_dict({**drift.to_dict(), "transfer_sd": 0.5}, source="hp.json")
    narrow, wide = (predict_hparams(f, params=3e8, tokens=4e9).values for f in (drift, widened))
    assert wide["lr"].high / wide["lr"].low > narrow["lr"].high / narrow["lr"].low
    assert wide["lr_penalty"].high > narrow["lr_penalty"].high
    with pytest.raises(InputError, match="transfer_sd"):
        HparamFit.from_dict({**drift.to_dict(), "transfer_sd": -1}, source="hp.json")


def test_cli_on_the_ladder_grid_states_the_penalty_and_refuses_the_batch_size(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hp.json"
    # the short budgets alone: the best batch is the smallest in every cell
    assert run(["plan", "hparams-fit", "dataset:ladder-hparams", "--where", "width <= 64 and tokens <= 16384",
                "--out", str(out), "--bootstrap", "40", "--json"]) == 0
    capsys.readouterr()
    assert run(["plan", "hparams", str(out), "--params", "2.1e5", "--tokens", "16384", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["values"]["batch_size"]["value"] is None  # not identified: no number
    assert answer["values"]["penalty"]["value"] is None
    penalty = answer["values"]["lr_penalty"]
    assert 0 <= penalty["low"] <= penalty["value"] <= penalty["high"]
    assert any("not identified" in w for w in answer["warnings"])
    assert any("held-out check at the largest fitted size" in w for w in answer["warnings"])
    # with the longer budgets the best batch is interior: a batch size and the joint penalty are stated
    assert run(["plan", "hparams-fit", "dataset:ladder-hparams", "--where", "width <= 64", "--out", str(out),
                "--bootstrap", "40", "--json"]) == 0
    capsys.readouterr()
    assert run(["plan", "hparams", str(out), "--params", "2.1e5", "--tokens", "65536", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    batch, joint = answer["values"]["batch_size"], answer["values"]["penalty"]
    assert 32 < batch["value"] < 256 and batch["low"] < batch["value"] < batch["high"]
    assert 0 == joint["low"] < joint["value"] < joint["high"] and not any("not identified" in w for w in answer["warnings"])
    assert not any("batch size is an extrapolation" in w for w in answer["warnings"])
    # the batch law went through the 32k and 64k cells only: below them its batch size is an extrapolation, said so
    # even though the grid (and the general note) reaches down to 8k
    assert run(["plan", "hparams", str(out), "--params", "2.1e5", "--tokens", "8192", "--json"]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert any("D = 8.19e+03 lies 0.6 decades below them" in w for w in warnings)


def test_seeds_are_averaged_before_an_optimum_is_sought() -> None:
    """Two seeds of one grid fit as their mean does: the surface and the per-row rules see one value a point."""
    one, other = _grid(noise=0.004, seed=1).table, _grid(noise=0.004, seed=2).table
    both = RunSet(pd.concat([one, other.assign(run=other["run"] + "/s1")], ignore_index=True))
    mean = one.copy()
    mean["loss"] = (one["loss"].to_numpy() + other["loss"].to_numpy()) / 2
    averaged = seed_means(grid_table(both))
    assert len(averaged) == len(grid_table(RunSet(one))) and set(averaged["seeds"]) == {2}
    for rule in ("surface", "vertex"):
        pooled, reference = (fit_hparams(r, rule=rule, bootstrap=20, seed=0) for r in (both, RunSet(mean)))
        assert pooled.law.lr_coef == pytest.approx(reference.law.lr_coef, rel=1e-9)
        assert pooled.law.lr_params_exp == pytest.approx(reference.law.lr_params_exp, rel=1e-9)
    assert grid_optima(grid_table(both))["lr"].to_numpy() == pytest.approx(
        grid_optima(grid_table(RunSet(mean)))["lr"].to_numpy(), rel=1e-9)


def test_the_surfaces_shape_error_is_in_the_lr_interval() -> None:
    """A grid whose loss rises faster above the best lr: the fit measures the quadratic's shape error, states
    it, widens the lr interval by it, and a fit file without it (an older one) still reads."""
    rows = []
    for n in (1e7, 3e7, 1e8):
        for d in (1e9, 4e9):
            lr_opt, bs_opt = TRUE.learning_rate(n, d), TRUE.batch_size(d)
            for lr in lr_opt * 2.0 ** np.arange(-2.2, 2.4, 0.5):
                for bs in bs_opt * 2.0 ** np.arange(-1.3, 1.8):
                    x = np.log(lr / lr_opt)
                    loss = 3.0 + (0.06 if x > 0 else 0.02) * x**2 + 0.01 * np.log(bs / bs_opt) ** 2
                    rows.append({"run": f"{n:.0e}/{d:.0e}/{lr:.4g}/{bs:.0f}", "params": n, "tokens": d, "lr": lr,
                                 "batch_size": bs, "loss": loss})
    fit = fit_hparams(RunSet(pd.DataFrame(rows)), bootstrap=100, seed=0)
    assert fit.shape_sd > 0.05
    without = HparamFit.from_dict({k: v for k, v in fit.to_dict().items() if k != "shape_sd"}, source="old.json")
    assert without.shape_sd == 0.0
    wide, narrow = (predict_hparams(f, params=3e7, tokens=2e9).values["lr"] for f in (fit, without))
    assert np.log(wide.high / wide.low) > 3 * np.log(narrow.high / narrow.low)
    assert not narrow.low < float(TRUE.learning_rate(3e7, 2e9)) < narrow.high  # the bias alone is outside
    assert wide.low < float(TRUE.learning_rate(3e7, 2e9)) < wide.high
    assert any("surface shape" in w for w in predict_hparams(fit, params=3e7, tokens=2e9).warnings)
    with pytest.raises(InputError, match="shape_sd"):
        HparamFit.from_dict({**fit.to_dict(), "shape_sd": -0.1}, source="hp.json")
    for field, value in (("bs_curvature", -1.0), ("bs_curvature", "x"), ("cross_curvature", float("inf"))):
        with pytest.raises(InputError, match="not a valid hyperparameter fit"):
            HparamFit.from_dict({**fit.to_dict(), field: value}, source="hp.json")


def test_cli_tables_read_as_words_not_raw_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The text output names the laws, says 'not identified' rather than nan, and gives the penalty in percent."""
    out = tmp_path / "hp.json"
    assert run(["plan", "hparams-fit", "dataset:ladder-hparams", "--where", "width <= 32 and tokens <= 16384",
                "--out", str(out), "--bootstrap", "20"]) == 0
    fitted = capsys.readouterr()
    assert "lr_opt = " in fitted.out and "not identified" in fitted.out and "nan" not in fitted.out
    assert "batch-size law not identified" in fitted.err
    assert run(["plan", "hparams", str(out), "--params", "5.6e4", "--tokens", "16384"]) == 0
    answer = capsys.readouterr()
    assert "nan" not in answer.out and "not identified" in answer.out
    assert re.search(r"at most \d+\.\d\d%", answer.out) and "surface shape" in answer.err


def test_a_fit_file_of_the_wrong_kind_names_the_command_that_reads_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hp, plan, law = tmp_path / "hp.json", tmp_path / "plan.json", tmp_path / "fit.json"
    assert run(["plan", "hparams-fit", "dataset:ladder-hparams", "--where", "width <= 32", "--out", str(hp),
                "--bootstrap", "10", "--json"]) == 0
    assert run(["plan", "ladder", "--params", "1e9", "--out", str(plan), "--json"]) == 0
    assert run(["fit", "dataset:olmo-ladder", "--law", "chinchilla", "--out", str(law)]) == 0
    capsys.readouterr()
    for argv, words in (
        (["predict", str(hp), "--at", "params=1e5,tokens=1e4"], "scalelaw plan hparams FILE"),
        (["report", str(hp), "-o", str(tmp_path / "r.html")], "scalelaw plan hparams FILE"),
        (["plan", "compute", str(hp), "--flops", "1e20"], "scalelaw plan hparams FILE"),
        (["predict", str(plan), "--at", "params=1e5,tokens=1e4"], "scalelaw ladder run --plan FILE"),
        (["plan", "hparams", str(law), "--params", "1e9", "--tokens", "1e10"], "not a hyperparameter fit"),
    ):
        assert run(argv) == 2, argv
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err and "must be a string" not in err, err


def test_the_hyperparameter_page_draws_every_cell_and_the_law(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page, short = tmp_path / "hp.html", tmp_path / "short.html"
    assert run(["plan", "hparams-fit", "dataset:ladder-hparams", "--where", "width <= 32", "--out",
                str(tmp_path / "hp.json"), "--bootstrap", "20", "--report", str(page)]) == 0
    text = page.read_text()
    assert text.count("<svg") == 2 and len(re.findall(r"N = [0-9.e+]+, D = [0-9.e+]+", text)) >= 8  # 8 cells
    assert "lr_opt = " in text and "B_opt = " in text and "$" not in re.sub(r"<script.*?</script>", "", text, flags=re.S)
    assert run(["plan", "hparams-fit", "dataset:ladder-hparams", "--where", "width <= 32 and tokens <= 16384",
                "--out", str(tmp_path / "short.json"), "--bootstrap", "20", "--report", str(short)]) == 0
    text = short.read_text()
    assert "the batch-size law is not identified" in text and "B_opt = " not in text
    # the stars are the optima the law went through, whichever rule placed them
    assert run(["plan", "hparams-fit", "dataset:ladder-hparams", "--where", "width <= 32", "--rule", "vertex",
                "--out", str(tmp_path / "v.json"), "--bootstrap", "20", "--report", str(short)]) == 0
    assert "three-point parabola" in short.read_text()
    capsys.readouterr()
    assert run(["plan", "hparams-fit", "dataset:ladder-hparams", "--out", str(tmp_path / "x.json"),
                "--report", str(tmp_path)]) == 2  # a folder is not a page
