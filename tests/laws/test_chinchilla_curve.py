"""chinchilla-curve: one law over checkpoints of several sizes, lengths, schedules and batch sizes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from curve_checks import assert_jacobian_matches

from scalelaw.data.runs import RunSet
from scalelaw.data.schedules import parse_schedule
from scalelaw.errors import InputError
from scalelaw.fit import fit_law
from scalelaw.laws import get

TRUE = np.array([[1.8, 40.0, 0.3, 30.0, 0.3, 0.2, 0.1, 3.0, 0.6, 0.4, 0.05]])
SIZES = {2e7: 4096.0, 5e7: 8192.0, 1e8: 8192.0, 3e8: 16384.0}


def _run(params: float, batch: float, total: int, schedule: str) -> pd.DataFrame:
    """A synthetic run: loss from the law at ``TRUE`` every 20 steps, lr given as a spec."""
    warmup = round(params / batch / 200)
    spec = {"cosine": f"cosine:peak=1e-3,warmup={warmup},total={total},final=1e-4",
            "wsd": f"wsd:peak=1e-3,warmup={warmup},total={total},decay_start={int(0.8 * total)},final=1e-5"}[schedule]
    law = get("chinchilla-curve")
    steps = np.arange(20, total + 1, 20)
    loss = law.predict(TRUE, law.design_at(params=params, schedule=spec, steps=steps, batch_size=batch))[0]
    return pd.DataFrame({"run": f"{params:.0e}-{total}-{schedule}", "step": steps.astype(float), "loss": loss,
                         "params": params, "batch_size": batch, "tokens": steps * batch, "lr_schedule": spec})


def _ladder(sizes: list[float]) -> RunSet:
    parts = [_run(n, SIZES[n], total, kind) for n in sizes for total, kind in ((400, "cosine"), (800, "cosine"),
                                                                               (600, "wsd"))]
    return RunSet(pd.concat(parts, ignore_index=True))


@pytest.fixture(scope="module")
def fitted() -> object:
    """One fit on three sizes, shared by the tests that need a fitted law."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exact synthetic data: κ and ρ trade off, flagged by the diagnostics
        return fit_law(_ladder([2e7, 5e7, 1e8]), "chinchilla-curve")


def test_jacobian_matches_finite_differences() -> None:
    law = get("chinchilla-curve")
    design = law.design(_ladder([2e7, 1e8]))
    assert_jacobian_matches(law, design, TRUE.copy())


def test_recovers_a_held_out_size_from_its_own_curves(fitted) -> None:  # noqa: ANN001
    fit = fitted
    target = _ladder([3e8])
    scores = fit.predict_runs(target)
    error = np.abs(scores["loss"] / scores["observed"] - 1)
    assert error.max() < 2e-3


def test_batch_size_enters_through_lr_weighted_tokens() -> None:
    law = get("chinchilla-curve")
    spec_small, spec_big = "cosine:peak=1e-3,warmup=10,total=400,final=1e-4", "cosine:peak=1e-3,warmup=5,total=200,final=1e-4"
    # the same schedule shape in tokens (twice the batch, half the steps) gives the same final loss
    small = law.predict(TRUE, law.design_at(params=1e8, schedule=spec_small, steps=np.array([400]), batch_size=4096))
    big = law.predict(TRUE, law.design_at(params=1e8, schedule=spec_big, steps=np.array([200]), batch_size=8192))
    assert small[0, 0] == pytest.approx(big[0, 0], rel=2e-3)
    assert small[0, 0] != big[0, 0]


def test_only_the_schedule_shape_counts() -> None:
    law = get("chinchilla-curve")
    low = law.design_at(params=1e8, schedule="cosine:peak=1e-4,warmup=10,total=300,final=1e-5", batch_size=4096)
    high = law.design_at(params=1e8, schedule="cosine:peak=3e-3,warmup=10,total=300,final=3e-4", batch_size=4096)
    np.testing.assert_allclose(law.predict(TRUE, low), law.predict(TRUE, high), rtol=1e-12)


def test_family_schedule_is_learnt_from_the_fitted_runs() -> None:
    law = get("chinchilla-curve")
    law.design(_ladder([2e7, 1e8]))
    assert law.family is not None
    # warmup was N / batch / 200 steps, i.e. N / 200 tokens; batch 4096 at 2e7, 8192 at 1e8
    schedule, batch = law.family_schedule(2e7, 2e7 * 20)
    assert batch == pytest.approx(4096, rel=1e-6)
    assert schedule.warmup * batch == pytest.approx(2e7 / 200, rel=0.03)
    assert schedule.final == pytest.approx(0.1)  # the median final fraction (cosines end at 10%, the WSD at 1%)
    assert schedule.total == round(2e7 * 20 / 4096)


def test_targets_with_only_params_and_tokens_predict_the_final_point(fitted) -> None:  # noqa: ANN001
    fit = fitted
    targets = RunSet(pd.DataFrame({"run": ["t1", "t2"], "loss": [math.nan, math.nan], "params": [3e8, 1e8],
                                   "tokens": [3e8 * 20, 1e9]}))
    design = fit.law.design(targets)
    assert list(design.run) == ["t1", "t2"] and np.isnan(design.loss).all()
    predicted = fit.predict_design(design).loss
    direct = fit.predict(params=3e8, tokens=3e8 * 20).loss
    assert predicted[0] == pytest.approx(direct[0]) and np.all(np.isfinite(predicted))


def test_targets_with_a_schedule_predict_their_rows(fitted) -> None:  # noqa: ANN001
    fit = fitted
    target = _run(3e8, SIZES[3e8], 800, "cosine").assign(loss=math.nan)
    design = fit.law.design(RunSet(target))
    assert np.array_equal(design.inputs["step"], target["step"].to_numpy())


def test_mixed_batch_information_is_refused() -> None:
    runs = _ladder([2e7, 1e8]).table
    runs.loc[runs["params"] == 2e7, "batch_size"] = math.nan
    with pytest.raises(InputError, match="batch_size"):
        get("chinchilla-curve").design(RunSet(runs))


def test_tokens_only_target_without_a_family_is_refused() -> None:
    law = get("chinchilla-curve")
    with pytest.raises(InputError, match="schedule family"):
        law.design_at(params=1e9, tokens=2e10)


def test_warmup_checkpoints_are_left_out() -> None:
    runs = _ladder([2e7, 1e8])
    law = get("chinchilla-curve", min_warmups=2)
    design = law.design(runs)
    for run, rows in runs.curves():
        warmup = parse_schedule(rows["lr_schedule"].iloc[0]).warmup
        steps = design.inputs["step"][design.run == run]
        assert steps.min() >= 2 * warmup and steps.size == int((rows["step"] >= 2 * warmup).sum())


def test_one_size_is_refused() -> None:
    with pytest.raises(InputError, match="at least two model sizes"):
        fit_law(_ladder([2e7]), "chinchilla-curve")


def test_a_target_without_batch_size_gets_the_family_batch(fitted) -> None:  # noqa: ANN001
    target = _run(3e8, SIZES[3e8], 800, "cosine")
    with_batch = fitted.law.design(RunSet(target))
    without = fitted.law.design(RunSet(target.drop(columns=["batch_size", "tokens"])))
    family_batch = fitted.law.family_schedule(3e8, 1e9)[1]
    assert with_batch.inputs["tokens_per_step"][0] == SIZES[3e8]
    assert without.inputs["tokens_per_step"][0] == pytest.approx(family_batch)


def test_fit_json_round_trip_keeps_the_family(fitted, tmp_path) -> None:  # noqa: ANN001
    from scalelaw.fit import load_fit

    fitted.save(tmp_path / "fit.json")
    loaded = load_fit(tmp_path / "fit.json")
    assert loaded.law.family == fitted.law.family
    assert loaded.predict(params=3e8, tokens=1e7).loss == pytest.approx(fitted.predict(params=3e8, tokens=1e7).loss)


def test_predict_targets_from_params_and_tokens_gives_one_final_row_per_run(fitted) -> None:  # noqa: ANN001
    from scalelaw.selection.targets import predict_targets

    targets = RunSet(pd.DataFrame({"run": ["a", "b"], "params": [3e8, 1e8], "tokens": [1e7, 5e6]}).assign(loss=math.nan))
    table = predict_targets(fitted, targets, level=0.9)
    assert table["run"].tolist() == ["a", "b"] and table["step"].isna().all() and table["observed"].isna().all()
    assert table["loss"].iloc[0] == pytest.approx(fitted.predict(params=3e8, tokens=1e7).loss[0])
    assert (table["lo"] < table["loss"]).all() and (table["loss"] < table["hi"]).all()


def test_runs_a_row_does_not_need_are_skipped_with_the_same_numbers_elsewhere() -> None:
    """jacobian_where skips a run's loss-drop sums for the rows that need none of its points: the
    needed points are bitwise those of the full jacobian, the skipped ones 0 in the drop terms."""
    law = get("chinchilla-curve")
    design = law.design(_ladder([2e7, 1e8]))
    rng = np.random.default_rng(3)
    theta = TRUE * np.exp(rng.normal(0.0, 0.2, (5, TRUE.shape[1])))
    runs = np.unique(design.run)
    drawn = rng.random((5, runs.size)) < 0.6
    drawn[0] = True  # a row that needs every run
    drawn[1] = False  # and one that needs none
    needed = drawn[:, np.searchsorted(runs, design.run)]
    loss, grad = law.jacobian(theta, design)
    loss_where, grad_where = law.jacobian_where(theta, design, needed)
    np.testing.assert_array_equal(loss_where[needed], loss[needed])
    np.testing.assert_array_equal(grad_where[needed], grad[needed])
    assert np.all(np.isfinite(loss_where)) and np.all(np.isfinite(grad_where))
