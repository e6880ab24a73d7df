"""Single-run curve fits (early stopping): warmup checkpoints left out, an unseen lr decay held at a prior."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curve_checks import assert_jacobian_matches
from scalelaw.data.runs import RunSet
from scalelaw.errors import FitWarning, InputError
from scalelaw.fit import fit_law
from scalelaw.selection.folds import plan
from scalelaw.fit.serialize import load_fit
from scalelaw.selection.targets import predict_targets, target_rows
from scalelaw.laws import get
from scalelaw.laws._held import FULL_DECAY_DROP, PAPER_SATURATION

PEAK = 3e-4
SPEC = f"cosine:peak={PEAK},warmup=300,total=6000,final={PEAK / 10}"
#: The Multi-Power Law paper's 25M parameters with B at the default prior's full-decay drop.
TRUTH = np.array([[3.0405, 0.5247, 0.5079, FULL_DECAY_DROP / PEAK, *PAPER_SATURATION.values()]])


def _run(seen: float, *, spec: str = SPEC, noise: float = 5e-4) -> tuple[RunSet, float]:
    """A run drawn from the Multi-Power Law (checkpoints every 100 steps, warmup included), its losses after
    ``seen`` of the run hidden; and its true final loss."""
    steps = np.arange(100, 6001, 100)
    design = get("multi-power").design_at(schedule=spec, steps=steps)
    loss = get("multi-power").predict(TRUTH, design)[0]
    loss = loss * np.exp(noise * np.random.default_rng(0).standard_normal(loss.size))
    loss[:2] += 1.0  # the warmup's transient, which the law does not describe
    table = pd.DataFrame({"run": "r", "step": steps.astype(float), "loss": loss, "lr_schedule": spec})
    table.loc[table["step"] > seen * steps.max(), "loss"] = np.nan
    return RunSet(table), float(loss[-1])


def _fit(runs: RunSet, law: str, **options: object):  # noqa: ANN202
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        return fit_law(runs, get(law, **options))


def test_warmup_checkpoints_are_left_out() -> None:
    runs, _ = _run(1.0)
    for name in ("multi-power", "lr-annealing"):
        assert get(name).design(runs).inputs["step"].min() == 300  # the first checkpoint at the peak lr
        assert get(name, min_warmups=0).design(runs).inputs["step"].min() == 100
        assert get(name, min_warmups=2).design(runs).inputs["step"].min() == 600


@pytest.mark.parametrize("law", ["multi-power", "lr-annealing"])
def test_an_unseen_decay_is_held_at_the_prior_with_a_warning(law: str) -> None:
    runs, truth = _run(0.2)
    with pytest.warns(FitWarning, match="held at a prior, not fitted"):
        fit = fit_law(runs, law)
    assert fit.law.held and set(fit.law.held).isdisjoint(fit.params)
    assert len(fit.params) == 3  # L0, A, alpha
    final = predict_targets(fit, runs)["loss"].iloc[-1]
    assert abs(final / truth - 1) < 0.004
    free = _fit(runs, law, held={})
    assert len(free.params) == len(get(law).params)


def test_a_seen_decay_is_fitted() -> None:
    runs, _ = _run(0.9)
    fit = _fit(runs, "multi-power")
    assert fit.law.held == {} and len(fit.params) == 7
    assert abs(fit.params["B"] * PEAK / FULL_DECAY_DROP - 1) < 0.5


def test_the_held_parametrization_is_saved_and_predicts_the_same(tmp_path: Path) -> None:
    runs, _ = _run(0.2)
    fit = _fit(runs, "multi-power")
    path = tmp_path / "fit.json"
    fit.save(path)
    again = load_fit(path)
    assert again.law.held == fit.law.held and again.params == fit.params
    np.testing.assert_allclose(predict_targets(again, runs)["loss"], predict_targets(fit, runs)["loss"], rtol=1e-12)


def test_lr_annealing_prior_lowers_the_loss_by_the_decay_drop() -> None:
    law = get("lr-annealing", decay_drop=0.2)
    c = law.prior(PEAK)["C"]
    steps = np.array([20000])
    flat = law.design_at(schedule=f"constant:peak={PEAK},total=20000", steps=steps)
    decayed = law.design_at(schedule=f"step:peak={PEAK},total=20000,boundaries=5000,values=0.0", steps=steps)
    # C·S2 of the decay long after it (the decayed run also stops gaining forward area, the other term)
    drop = c * (decayed.inputs["prepared"][0][0] - flat.inputs["prepared"][0][0])
    assert drop[0] == pytest.approx(0.2, rel=1e-3)


@pytest.mark.parametrize("law", ["multi-power", "lr-annealing", "multi-power-sized"])
def test_jacobian_of_the_free_parameters_matches(law: str) -> None:
    model = get(law)
    model.held = model.prior(PEAK)
    design = model.design_at(schedule=SPEC, steps=np.arange(300, 6001, 300), params=1e8)
    theta = np.array([[3.0, 0.5, 0.5] + ([0.1, 0.0, 0.2] if law == "multi-power-sized" else [])])
    assert theta.shape[1] == len(model.params)
    assert_jacobian_matches(model, design, theta)


def test_held_option_text_round_trips() -> None:
    law = get("multi-power", held="B=400.0,C=2.0")
    assert law.held == {"B": 400.0, "C": 2.0} and get("multi-power", **law.options()).held == law.held
    assert law.options()["held"] == {"B": 400.0, "C": 2.0}  # FIT.json records it as an object
    assert get("multi-power", held="").held == {} and get("multi-power", held={}).options()["held"] == {}


def test_held_values_outside_the_bounds_are_refused() -> None:
    with pytest.raises(InputError, match="C = -1 lies outside its bounds"):
        get("multi-power", held={"C": -1.0})


@pytest.mark.parametrize("options", [{"held": {"nope": 1.0}}, {"held": {"B": "x"}}, {"held": [1.0]},
                                     {"held": "B"}, {"held": "B=x"}, {"held": "nope=1"},
                                     {"min_warmups": -1}, {"min_warmups": "1"}, {"decay_drop": 0.0},
                                     {"decay_drop": True}])
def test_bad_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(InputError):
        get("multi-power", **options)


def test_time_folds_count_checkpoints_after_the_warmup() -> None:
    runs, _ = _run(0.2)  # 12 checkpoints seen, from step 300 on 10 of them
    axis, folds, _ = plan(runs)
    assert axis == "time" and [f.after["r"] for f in folds] == [700.0, 600.0]  # 5, then 4 (not 3) fitted
    runs, _ = _run(0.14)  # 6 from step 300 on: both cuts fit 4 and predict 2, one fold
    assert [f.after["r"] for f in plan(runs)[1]] == [600.0]
    runs, _ = _run(0.12)  # 5: too few to cut
    assert plan(runs)[1] == []


def test_intervals_of_a_held_fit_carry_the_prior_uncertainty_into_the_decay() -> None:
    runs, _ = _run(0.2)
    fit = _fit(runs, "lr-annealing")
    frame = predict_targets(fit, runs, level=0.9)
    design = fit.law.design(target_rows(fit, runs))
    point = fit.law.predict(fit.theta[None, :], design)[0]
    bare_lo, bare_hi = fit._interval(design, point, fit.decades_beyond(design), 0.9)  # without the prior's spread
    seen_end = int(np.flatnonzero(frame["observed"].notna())[-1])
    assert frame["lo"].iloc[seen_end] == pytest.approx(bare_lo[seen_end], rel=1e-12)
    assert frame["hi"].iloc[-1] > bare_hi[-1] and frame["lo"].iloc[-1] < bare_lo[-1]
    free = _fit(runs, "lr-annealing", held={})
    plain = free.predict_design(free.law.design(target_rows(free, runs)), level=0.9)
    np.testing.assert_array_equal(predict_targets(free, runs, level=0.9)["hi"], plain.hi)


def test_every_prediction_path_gives_a_held_fit_the_same_interval() -> None:
    runs, _ = _run(0.2)
    fit = _fit(runs, "lr-annealing")
    frame = predict_targets(fit, runs, level=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        scheduled = fit.predict(schedule=SPEC, steps=frame["step"].to_numpy(), level=0.9)
    assert scheduled.hi[-1] == pytest.approx(frame["hi"].iloc[-1], rel=1e-9)
    assert scheduled.lo[-1] == pytest.approx(frame["lo"].iloc[-1], rel=1e-9)


def test_a_named_calibrated_law_decides_on_all_the_data_not_its_first_fold() -> None:
    from scalelaw.selection.auto import fit_calibrated

    runs, _ = _run(0.9)  # the lr has decayed past half its peak only in the later checkpoints
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        fit = fit_calibrated(runs, "lr-annealing", bootstrap=0)
    assert fit.law.held == {} and fit.calibration is not None
