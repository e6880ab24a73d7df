"""The LR-annealing law: the annealing area against its definition, gradients, fixed vs fitted λ."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw.data.schedules import parse_schedule
from scalelaw.errors import InputError
from curve_checks import assert_jacobian_matches

from scalelaw.laws import get
from scalelaw.laws._curves import curve_from_schedule
from scalelaw.laws.lr_annealing import annealing_area

SPEC = "wsd:peak=1e-3,total=800,warmup=50,decay_start=500,final=1e-4,shape=cosine"


def _naive_area(lr: np.ndarray, lam: float, *, warmup: bool = False) -> np.ndarray:
    peak = 0 if warmup else int(np.argmax(lr))
    momentum, total, out = 0.0, 0.0, [0.0]
    for i in range(1, lr.size):
        drop = lr[i - 1] - lr[i] if i > peak else 0.0
        momentum = lam * momentum + drop
        total += momentum
        out.append(total)
    return np.array(out)


def test_annealing_area_matches_the_recursion_and_ignores_warmup() -> None:
    lr = curve_from_schedule(parse_schedule(SPEC)).lr
    area, _ = annealing_area(lr, 0.99)
    np.testing.assert_allclose(area, _naive_area(lr, 0.99), rtol=1e-12, atol=1e-15)
    assert np.all(area[:501] == 0.0)
    assert area[-1] > 0
    with_warmup, _ = annealing_area(lr, 0.99, warmup_in_s2=True)
    np.testing.assert_allclose(with_warmup, _naive_area(lr, 0.99, warmup=True), rtol=1e-12, atol=1e-15)
    assert with_warmup[-1] < area[-1]  # the warmup's rises count against the decay


def test_constant_schedule_has_no_annealing_area() -> None:
    lr = curve_from_schedule(parse_schedule("constant:peak=1e-3,total=300,warmup=30")).lr
    assert np.all(annealing_area(lr, 0.999)[0] == 0.0)


@pytest.mark.parametrize("decay_factor", [0.995, None])
def test_analytic_jacobian_matches_finite_differences(decay_factor: float | None) -> None:
    law = get("lr-annealing", decay_factor=decay_factor)
    design = law.design_at(schedule=SPEC, steps=np.arange(20, 801, 20))
    theta = np.array([[3.0, 0.5, 0.5, 2.0] + ([0.99] if decay_factor is None else [])])
    assert_jacobian_matches(law, design, theta, step=1e-7)


def test_fixed_and_fitted_decay_factor_agree() -> None:
    fixed, fitted = get("lr-annealing", decay_factor=0.999), get("lr-annealing", decay_factor=None)
    design_a, design_b = fixed.design_at(schedule=SPEC), fitted.design_at(schedule=SPEC)
    theta = np.array([3.0, 0.5, 0.5, 2.0])
    np.testing.assert_allclose(
        fixed.predict(theta[None, :], design_a), fitted.predict(np.append(theta, 0.999)[None, :], design_b), rtol=1e-12
    )
    assert fixed.options() == {"decay_factor": 0.999, "warmup_in_s2": False, "min_warmups": 1.0, "held": None,
                               "decay_drop": 0.12}
    assert "lambda" in fitted.param_names


def test_bad_decay_factor_is_an_input_error() -> None:
    with pytest.raises(InputError, match="decay_factor"):
        get("lr-annealing", decay_factor=1.5)


@pytest.mark.parametrize("decay", [0.3, 0.9, 0.999, 0.99999])
def test_decayed_sum_is_the_first_order_recurrence(decay: float) -> None:
    from scipy.signal import lfilter

    from scalelaw.laws.lr_annealing import decayed_sum

    x = np.random.default_rng(0).normal(size=5_000)
    expected = lfilter([1.0], [1.0, -decay], x)
    assert np.allclose(decayed_sum(x, decay), expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    assert decayed_sum(x[:1], decay)[0] == x[0]
