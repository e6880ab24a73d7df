"""The Kaplan law L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D (Kaplan et al. 2020).

Citation: J. Kaplan et al., "Scaling Laws for Neural Language Models", 2020, eq. (1.5).
Their fit (non-embedding parameters, loss in nats): α_N ≈ 0.076, α_D ≈ 0.095,
N_c ≈ 8.8e13, D_c ≈ 5.4e13. The law has no irreducible-loss term.
"""

from __future__ import annotations

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.laws import register
from scalelaw.laws._final import final_design, params_tokens_scale
from scalelaw.laws.base import Design, Law, LinearPart, Param


@register
class Kaplan(Law):
    """L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D with N parameters and D tokens."""

    name = "kaplan"
    formula = "L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D"
    citation = "Kaplan et al. 2020, Scaling Laws for Neural Language Models"
    kind = "final"
    inputs = ("params", "tokens")

    @property
    def params(self) -> tuple[Param, ...]:
        return (
            Param("N_c", "critical model size", 1.0, 1e30, tuple(np.exp((20.0, 26.0, 32.0, 38.0))), log=True),
            Param("D_c", "critical data size", 1.0, 1e30, tuple(np.exp((20.0, 26.0, 32.0, 38.0))), log=True),
            Param("alpha_N", "model-size exponent", 1e-4, 3.0, (0.05, 0.1, 0.3)),
            Param("alpha_D", "data-size exponent", 1e-4, 3.0, (0.05, 0.1, 0.3)),
        )

    def design(self, runs: RunSet) -> Design:
        return final_design(runs, self.inputs, purpose="the kaplan law")

    def _terms(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, ...]:
        theta = np.atleast_2d(theta)
        n_c, d_c, alpha_n, alpha_d = (theta[:, i : i + 1] for i in range(4))
        n_gap = np.log(n_c) - np.log(design.inputs["params"])[None, :]
        x = np.exp(alpha_n / alpha_d * n_gap)
        y = d_c / design.inputs["tokens"][None, :]
        s = x + y
        return n_c, d_c, alpha_n, alpha_d, n_gap, x, y, s, np.exp(alpha_d * np.log(s))

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        return self._terms(theta, design)[-1]

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        n_c, d_c, alpha_n, alpha_d, n_gap, x, y, s, loss = self._terms(theta, design)
        grad = np.stack(
            [
                loss * alpha_n * x / (s * n_c),
                loss * alpha_d * y / (s * d_c),
                loss * x * n_gap / s,
                loss * (np.log(s) - x * alpha_n * n_gap / (alpha_d * s)),
            ],
            axis=1,
        )
        return loss, grad.transpose(0, 2, 1)

    def linear_part(self, theta: np.ndarray, design: Design) -> LinearPart:
        """N_c and D_c: L^(1/α_D) = N_c^(α_N/α_D)·N^(−α_N/α_D) + D_c·D^−1 for fixed exponents."""
        theta = np.atleast_2d(theta)
        ratio = theta[:, 2:3] / theta[:, 3:4]
        n_term = np.exp(-ratio * np.log(design.inputs["params"])[None, :])
        d_term = np.broadcast_to(1.0 / design.inputs["tokens"][None, :], n_term.shape)
        basis = np.stack([n_term, d_term], axis=-1)
        coef_power = np.column_stack([1.0 / ratio[:, 0], np.ones(theta.shape[0])])
        return LinearPart(("N_c", "D_c"), basis, 1.0 / theta[:, 3], coef_power)

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        return params_tokens_scale(design)
