"""The over-training law of Gadre et al. 2024: L(C, M) = E + (a·M^η + b·M^(−η))·C^(−η).

Citation: S. Y. Gadre et al., "Language models scale reliably with over-training and on
downstream tasks", 2024, eq. (4). M = D/N is the token multiplier (tokens per
parameter) and C = 6·N·D the training compute. The form is Chinchilla's with α = β
rewritten in (C, M): for a fixed M the loss is a power law in C with one exponent η
shared by every M, and only the scalar a·M^η + b·M^(−η) moves with over-training.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.laws import register
from scalelaw.laws._final import final_design, params_tokens_scale
from scalelaw.laws.base import Design, Law, LinearPart, Param


@register
class Overtraining(Law):
    """L(N, D) = E + (a·M^η + b·M^(−η))·C^(−η) with M = D/N and C = 6·N·D."""

    name = "overtraining"
    formula = "L = E + (a*M^eta + b*M^(-eta)) * C^(-eta),  M = D/N, C = 6ND"
    citation = "Gadre et al. 2024, Language models scale reliably with over-training and on downstream tasks"
    kind = "final"
    inputs = ("params", "tokens")

    @property
    def params(self) -> tuple[Param, ...]:
        coef = tuple(np.exp((0.0, 5.0, 10.0, 15.0, 20.0, 25.0)))
        return (
            Param("E", "irreducible loss", 1e-4, 1e3, tuple(np.exp((-1.0, -0.5, 0.0, 0.5, 1.0))), log=True),
            Param("a", "coefficient of the over-training term M^eta", 1e-12, 1e40, coef, log=True),
            Param("b", "coefficient of the under-training term M^-eta", 1e-12, 1e40, coef, log=True),
            Param("eta", "compute exponent", 0.0, 2.0, (0.05, 0.1, 0.2, 0.3, 0.5)),
        )

    def design(self, runs: RunSet) -> Design:
        return final_design(runs, self.inputs, purpose="the overtraining law")

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        return self.jacobian(theta, design)[0]

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        n, d = design.inputs["params"], design.inputs["tokens"]
        log_m = np.log(d / n)[None, :]
        log_c = np.log(6.0 * n * d)[None, :]
        e, a, b, eta = (theta[:, i : i + 1] for i in range(4))
        over = np.exp(eta * (log_m - log_c))
        under = np.exp(-eta * (log_m + log_c))
        loss = e + a * over + b * under
        grad = np.stack(
            [np.ones_like(loss), over, under, a * over * (log_m - log_c) - b * under * (log_m + log_c)], axis=1
        )
        return loss, grad.transpose(0, 2, 1)

    def linear_part(self, theta: np.ndarray, design: Design) -> LinearPart:
        """E, a and b: for fixed η the loss is E·1 + a·M^η·C^−η + b·M^−η·C^−η."""
        basis = self.jacobian(theta, design)[1][:, :, :3]
        rows = basis.shape[0]
        return LinearPart(("E", "a", "b"), basis, np.ones(rows), np.ones((rows, 3)))

    def derived(self, values: Mapping[str, float]) -> dict[str, float]:
        """E, η, and the loss-minimising tokens per parameter M* = (b/a)^(1/(2η)) (the same at every C; NaN without one)."""
        if self.allocation_problem(values):
            return {"E": values["E"], "eta": values["eta"], "tokens_per_param_optimal": float("nan")}
        with np.errstate(all="ignore"):
            m_opt = float((np.float64(values["b"]) / values["a"]) ** (1.0 / (2.0 * values["eta"])))
        return {"E": values["E"], "eta": values["eta"], "tokens_per_param_optimal": m_opt}

    def allocation_problem(self, values: Mapping[str, float]) -> str | None:
        """An optimum needs a loss that falls with compute (η > 0) and both terms present (a, b > 0)."""
        if not (values["eta"] > 0 and values["a"] > 0 and values["b"] > 0):
            return (f"the fitted loss does not fall with compute (eta = {values['eta']:g}, a = {values['a']:g}, "
                    f"b = {values['b']:g}), so no tokens-per-parameter ratio is optimal; fit on runs whose loss "
                    "falls with scale")
        return None

    def optimal_allocation(self, values: Mapping[str, float], flops: np.ndarray) -> dict[str, np.ndarray]:
        """At every C the best M is M*; then N = sqrt(C/(6M*)), D = M*·N (NaN without an optimum)."""
        flops = np.asarray(flops, dtype=float)
        m_opt = self.derived(values)["tokens_per_param_optimal"]
        eta = np.float64(values["eta"])
        with np.errstate(all="ignore"):
            n_opt = np.sqrt(flops / (6.0 * m_opt))
            loss = values["E"] + (values["a"] * m_opt**eta + values["b"] * m_opt**-eta) * flops**-eta
        return {"params": n_opt, "tokens": m_opt * n_opt, "tokens_per_param": np.full_like(flops, m_opt), "loss": loss}

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        return params_tokens_scale(design)
