"""The data-constrained law of Muennighoff et al. 2023: Chinchilla on effective data and parameters.

Citation: N. Muennighoff et al., "Scaling Data-Constrained Language Models", NeurIPS
2023, eqs. (5)–(6), as implemented in huggingface/datablations utils/parametric_fit.ipynb.
With U unique tokens (``unique_tokens``), repetitions R_D = D/U − 1 and

    D' = U + U·R_D*·(1 − exp(−R_D/R_D*)),
    U_N = min(N, N_opt(U)),  R_N = N/U_N − 1,  N' = U_N + U_N·R_N*·(1 − exp(−R_N/R_N*)),

the loss is L = E + A/N'^α + B/D'^β. N_opt(U) is the Chinchilla compute-optimal size for
the compute at which U tokens are optimal: G·(G·U)^(β/α), G = (αA/(βB))^(1/(α+β)).
U is taken as min(U, D) for runs that saw fewer tokens than the pool holds. The paper
fits the base law first and then R_D*, R_N* with the base held fixed (``fix=``).
"""

from __future__ import annotations

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.laws import register
from scalelaw.laws._final import final_design, params_tokens_scale
from scalelaw.laws.base import Design, Law, LinearPart, Param

_INPUTS = ("params", "tokens", "unique_tokens")


@register
class DataConstrained(Law):
    """L(N, D, U) = E + A/N'^α + B/D'^β with effective data D' and effective parameters N'."""

    name = "data-constrained"
    formula = "L = E + A/N'^alpha + B/D'^beta,  D' = U + U*R_D*(1 - exp(-(D/U - 1)/R_D)),  N' likewise with R_N"
    citation = "Muennighoff et al. 2023, Scaling Data-Constrained Language Models"
    kind = "final"
    inputs = _INPUTS

    @property
    def params(self) -> tuple[Param, ...]:
        return (
            Param("E", "irreducible loss", 1e-4, 1e3, (1.0, 1.7), log=True),
            Param("A", "model-size coefficient", 1e-8, 1e40, tuple(np.exp((5.0, 10.0))), log=True),
            Param("B", "data-size coefficient", 1e-8, 1e40, tuple(np.exp((5.0, 10.0))), log=True),
            Param("alpha", "model-size exponent", 1e-3, 4.0, (0.3, 0.6)),
            Param("beta", "data-size exponent", 1e-3, 4.0, (0.3, 0.6)),
            Param("R_D", "repetitions after which repeated data is worth 1-1/e of its limit", 1e-3, 1e4,
                  (0.01, 4.0, 8.0, 12.0, 16.0, 20.0), log=True),
            Param("R_N", "excess-parameter analogue of R_D", 1e-3, 1e4, (0.01, 4.0, 8.0, 12.0, 16.0, 20.0), log=True),
        )

    def design(self, runs: RunSet) -> Design:
        return final_design(runs, _INPUTS, purpose="the data-constrained law")

    def _effective(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """N' and D' (B, n) for the rows of ``theta``."""
        _, a, b, alpha, beta, r_d, r_n = (theta[:, i : i + 1] for i in range(7))
        n = design.inputs["params"][None, :]
        d = design.inputs["tokens"][None, :]
        u = np.minimum(design.inputs["unique_tokens"], design.inputs["tokens"])[None, :]
        with np.errstate(all="ignore"):
            log_g = np.log(alpha * a / (beta * b)) / (alpha + beta)
            u_n = np.minimum(n, np.exp(log_g + beta / alpha * (log_g + np.log(u))))
            d_eff = u + u * r_d * (1.0 - np.exp(-np.maximum(d / u - 1.0, 0.0) / r_d))
            n_eff = u_n + u_n * r_n * (1.0 - np.exp(-np.maximum(n / u_n - 1.0, 0.0) / r_n))
        return n_eff, d_eff

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        theta = np.atleast_2d(theta)
        n_eff, d_eff = self._effective(theta, design)
        e, a, b, alpha, beta = (theta[:, i : i + 1] for i in range(5))
        with np.errstate(all="ignore"):
            return e + a * np.exp(-alpha * np.log(n_eff)) + b * np.exp(-beta * np.log(d_eff))

    def linear_part(self, theta: np.ndarray, design: Design) -> LinearPart:
        """E, A and B: E·1 + A·N'^−α + B·D'^−β, with U_N (hence N') taken at the A/B of ``theta``."""
        theta = np.atleast_2d(theta)
        n_eff, d_eff = self._effective(theta, design)
        with np.errstate(all="ignore"):
            n_term = np.exp(-theta[:, 3:4] * np.log(n_eff))
            d_term = np.exp(-theta[:, 4:5] * np.log(d_eff))
        basis = np.stack([np.ones_like(n_term), n_term, d_term], axis=-1)
        return LinearPart(("E", "A", "B"), basis, np.ones(theta.shape[0]), np.ones((theta.shape[0], 3)))

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        return params_tokens_scale(design)
