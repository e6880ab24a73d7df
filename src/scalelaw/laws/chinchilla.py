"""The Chinchilla law L(N, D) = E + A/N^α + B/D^β (Hoffmann et al. 2022, Approach 3).

Citation: J. Hoffmann et al., "Training Compute-Optimal Large Language Models",
NeurIPS 2022, eq. (2) and Appendix D.2. The default starting grid is the one of Epoch
AI's replication (Besiroglu et al. 2024, "Chinchilla Scaling: A replication attempt"),
written there in log-sum-exp form log L = LSE(a − α log N, b − β log D, e), i.e.
A = exp(a), B = exp(b), E = exp(e): 6·6·5·5·5 = 4,500 starts.
"""

from __future__ import annotations

from collections.abc import Mapping
import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.laws import register
from scalelaw.laws._final import final_design, params_tokens_scale
from scalelaw.laws.base import Design, Law, LinearPart, Param

_EXPONENT_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
_LOG_COEF_GRID = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
_LOG_E_GRID = (-1.0, -0.5, 0.0, 0.5, 1.0)

#: Reference compute at which tokens per parameter at the optimum is reported.
REFERENCE_FLOPS = 1e21


@register
class Chinchilla(Law):
    """L(N, D) = E + A·N^(−α) + B·D^(−β), with N parameters and D training tokens."""

    name = "chinchilla"
    formula = "L(N, D) = E + A/N^alpha + B/D^beta"
    citation = "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models"
    kind = "final"
    inputs = ("params", "tokens")

    @property
    def params(self) -> tuple[Param, ...]:
        return (
            Param("E", "irreducible loss", 1e-4, 1e3, tuple(np.exp(_LOG_E_GRID)), log=True),
            Param("A", "model-size coefficient", 1e-8, 1e40, tuple(np.exp(_LOG_COEF_GRID)), log=True),
            Param("B", "data-size coefficient", 1e-8, 1e40, tuple(np.exp(_LOG_COEF_GRID)), log=True),
            Param("alpha", "model-size exponent", 0.0, 4.0, _EXPONENT_GRID),
            Param("beta", "data-size exponent", 0.0, 4.0, _EXPONENT_GRID),
        )

    def design(self, runs: RunSet) -> Design:
        return final_design(runs, self.inputs, purpose="the chinchilla law")

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        theta = np.atleast_2d(theta)
        log_n = np.log(design.inputs["params"])[None, :]
        log_d = np.log(design.inputs["tokens"])[None, :]
        e, a, b, alpha, beta = (theta[:, i : i + 1] for i in range(5))
        return e + a * np.exp(-alpha * log_n) + b * np.exp(-beta * log_d)

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        log_n = np.log(design.inputs["params"])[None, :]
        log_d = np.log(design.inputs["tokens"])[None, :]
        e, a, b, alpha, beta = (theta[:, i : i + 1] for i in range(5))
        # Filled parameter-major in place, returned as a (B, n, p) view: cheap for the engine's J^T.
        grad = np.empty((theta.shape[0], 5, log_n.shape[1]))
        grad[:, 0] = 1.0
        n_term = np.exp(-alpha * log_n, out=grad[:, 1])
        d_term = np.exp(-beta * log_d, out=grad[:, 2])
        np.multiply(n_term, -a * log_n, out=grad[:, 3])
        np.multiply(d_term, -b * log_d, out=grad[:, 4])
        loss = e + a * n_term + b * d_term
        return loss, grad.transpose(0, 2, 1)

    def linear_part(self, theta: np.ndarray, design: Design) -> LinearPart:
        """E, A and B: for fixed α, β the loss is E·1 + A·N^−α + B·D^−β."""
        theta = np.atleast_2d(theta)
        n_term = np.exp(-theta[:, 3:4] * np.log(design.inputs["params"])[None, :])
        d_term = np.exp(-theta[:, 4:5] * np.log(design.inputs["tokens"])[None, :])
        basis = np.stack([np.ones_like(n_term), n_term, d_term], axis=-1)
        return LinearPart(("E", "A", "B"), basis, np.ones(theta.shape[0]), np.ones((theta.shape[0], 3)))

    def derived(self, values: Mapping[str, float]) -> dict[str, float]:
        """The compute-optimal exponents a, b (N* ∝ C^a, D* ∝ C^b), E, and D*/N* at 1e21 FLOPs (NaN without an optimum)."""
        alpha, beta = values["alpha"], values["beta"]
        nan = float("nan")
        if self.allocation_problem(values):
            return {"a": nan, "b": nan, "E": values["E"], "tokens_per_param_at_1e21_flops": nan}
        allocation = self.optimal_allocation(values, np.array([REFERENCE_FLOPS]))
        return {
            "a": beta / (alpha + beta),
            "b": alpha / (alpha + beta),
            "E": values["E"],
            "tokens_per_param_at_1e21_flops": float(allocation["tokens_per_param"][0]),
        }

    def allocation_problem(self, values: Mapping[str, float]) -> str | None:
        """An optimum needs a loss that falls with both N and D (α, β > 0 and A, B above their lower bounds).

        A coefficient on its lower bound (1e-8) is a term the data did not support, not a small one:
        the split it implies (a few tokens for 10^19 parameters) would be an artefact."""
        floors = {p.name: p.lower for p in self.params}
        for exponent, coefficient, what in (("alpha", "A", "model size"), ("beta", "B", "data")):
            if not (values[exponent] > 0 and values[coefficient] > floors[coefficient] * (1 + 1e-6)):
                return (f"the fitted loss does not fall with {what} ({exponent} = {values[exponent]:g}, "
                        f"{coefficient} = {values[coefficient]:g}), so no split of compute between parameters and "
                        "tokens is optimal; fit on runs whose loss falls with scale")
        return None

    def optimal_allocation(self, values: Mapping[str, float], flops: np.ndarray) -> dict[str, np.ndarray]:
        """N*(C) = G·(C/6)^a and D*(C) = (C/6)^b / G with G = (αA/(βB))^(1/(α+β)) (Hoffmann eq. 4).

        NaN where the parameters give no optimum (:meth:`allocation_problem`)."""
        e, a_coef, b_coef, alpha, beta = (np.float64(values[k]) for k in ("E", "A", "B", "alpha", "beta"))
        flops = np.asarray(flops, dtype=float)
        if self.allocation_problem(values):
            nan = np.full(flops.shape, np.nan)
            return {"params": nan, "tokens": nan.copy(), "tokens_per_param": nan.copy(), "loss": nan.copy()}
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            g = (alpha * a_coef / (beta * b_coef)) ** (1.0 / (alpha + beta))
            n_opt = g * (flops / 6.0) ** (beta / (alpha + beta))
            d_opt = (flops / 6.0) / n_opt
            loss = e + a_coef * n_opt**-alpha + b_coef * d_opt**-beta
        return {"params": n_opt, "tokens": d_opt, "tokens_per_param": d_opt / n_opt, "loss": loss}

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        return params_tokens_scale(design)
