"""FLOP accounting: 6·N·D by default, and each extra term counted exactly once."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw.errors import InputError
from scalelaw.plan.flops import FlopAccounting, tokens_for_flops, training_flops


def test_default_is_six_n_d() -> None:
    assert training_flops(1e9, 2e10) == pytest.approx(6 * 1e9 * 2e10)


def test_extra_terms_match_porian_accounting() -> None:
    # Porian et al.: flops_per_token_att = 6·(N + V·d) + 6·seq_len·d·depth.
    n, vocab, d, layers, seq = 85e6, 50432, 640, 10, 2048
    acc = FlopAccounting(last_layer=True, attention=True, vocab=vocab, d_model=d, n_layers=layers, seq_len=seq)
    expected = 6 * (n + vocab * d) + 6 * seq * d * layers
    assert acc.per_token(n) == pytest.approx(expected)
    with_embedding = FlopAccounting(last_layer=True, embedding=True, vocab=vocab, d_model=d)
    assert with_embedding.per_token(n) == pytest.approx(6 * (n + 2 * vocab * d))


def test_tokens_for_flops_inverts_training_flops() -> None:
    acc = FlopAccounting(attention=True, n_layers=4, seq_len=1024, d_model=256)
    n = np.array([1e6, 1e7])
    c = training_flops(n, [3e9, 4e9], accounting=acc)
    np.testing.assert_allclose(tokens_for_flops(n, c, accounting=acc), [3e9, 4e9])


def test_missing_shape_is_an_input_error() -> None:
    with pytest.raises(InputError, match="vocab"):
        FlopAccounting(last_layer=True, d_model=512)
    with pytest.raises(InputError, match="positive"):
        training_flops(-1.0, 1e9)


def test_aspect_ratio_gives_the_shape_of_each_size() -> None:
    acc = FlopAccounting(attention=True, seq_len=2048, aspect_ratio=64.0)
    n = np.array([12 * 4 * 256**2, 12 * 16 * 1024**2], dtype=float)  # (d, L) = (256, 4) and (1024, 16)
    np.testing.assert_allclose(acc.per_token(n), 6 * n + 6 * np.array([4 * 256, 16 * 1024]) * 2048)
    assert FlopAccounting().is_standard and not acc.is_standard
    with pytest.raises(InputError, match="aspect"):
        FlopAccounting(attention=True, seq_len=2048)


def test_numeric_optimum_matches_the_closed_form() -> None:
    from dataclasses import dataclass

    from scalelaw.laws.chinchilla import Chinchilla
    from scalelaw.plan.compute import optimal_points

    @dataclass(frozen=True)
    class Point:
        law: Chinchilla
        params: dict[str, float]
        bootstrap_params: None = None

    law = Chinchilla()
    values = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    theta = np.array([[values[p] for p in law.param_names]])
    flops = np.geomspace(1e18, 1e24, 4)
    closed = optimal_points(Point(law, values), theta, flops, FlopAccounting())[0]
    # An attention term of ~0 FLOPs takes the numeric path with the same answer.
    numeric = optimal_points(Point(law, values), theta, flops, FlopAccounting(attention=True, seq_len=1e-12, aspect_ratio=64))[0]
    np.testing.assert_allclose(numeric, closed, rtol=1e-5)
