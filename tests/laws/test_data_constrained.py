"""The data-constrained law: reduces to Chinchilla with fresh data, reproduces the paper's R²."""

from __future__ import annotations

import numpy as np
import pytest

import scalelaw.datasets as datasets
from scalelaw import laws
from scalelaw.fit.metrics import scores

PUBLISHED = [np.exp(0.6254804), np.exp(6.255414), np.exp(7.3049974), 0.3526596, 0.3526596, 15.387756, 5.309743]


def test_single_epoch_small_model_is_plain_chinchilla() -> None:
    law = laws.get("data-constrained")
    chinchilla = laws.get("chinchilla")
    # One epoch (D = U) and a model below N_opt(U): D' = D and N' = N.
    design = law.design_at(params=1e8, tokens=1e11, unique_tokens=1e11)
    plain = chinchilla.predict(np.array([PUBLISHED[:5]]), chinchilla.design_at(params=1e8, tokens=1e11))
    assert law.predict(np.array([PUBLISHED]), design)[0, 0] == pytest.approx(plain[0, 0], rel=1e-12)


def test_repeated_data_is_worth_less_than_fresh_and_saturates() -> None:
    law = laws.get("data-constrained")
    theta = np.array([PUBLISHED])
    fresh = law.predict(theta, law.design_at(params=1e8, tokens=4e10, unique_tokens=4e10))[0, 0]
    repeated = law.predict(theta, law.design_at(params=1e8, tokens=4e10, unique_tokens=1e10))[0, 0]
    endless = law.predict(theta, law.design_at(params=1e8, tokens=1e16, unique_tokens=1e10))[0, 0]
    limit = law.predict(theta, law.design_at(params=1e8, tokens=1e10 * (1 + 15.387756), unique_tokens=1e10 * (1 + 15.387756)))
    assert fresh < repeated
    assert endless == pytest.approx(limit[0, 0], rel=1e-9)


def test_published_parameters_reproduce_the_published_r2() -> None:
    runs = datasets.load("datablations").where("in_paper_fit")
    law = laws.get("data-constrained")
    design = law.design(runs)
    assert design.n == 182
    predicted = law.predict(np.array([PUBLISHED]), design)[0]
    assert scores(design.loss, predicted)["r2"] == pytest.approx(0.7722, abs=5e-5)


def test_needs_unique_tokens() -> None:
    from scalelaw.errors import InputError

    runs = datasets.load("porian2024")
    with pytest.raises(InputError, match="unique_tokens"):
        laws.get("data-constrained").design(runs)
