"""Accuracy from model and data size in one step: ACC = p / (1 + exp(−(A/N^α + B/D^β + E))) + q.

Citation: Bhagia et al. 2024, "Establishing Task Scaling Laws via Compute-Efficient
Model Ladders", the single-step baseline (their code: allenai/OLMo-ladder
``fitting/single_step.py``, ``combined_fit``): a logistic function of a Chinchilla-shaped loss,
fitted with a Huber loss (δ = 1e-3) on log residuals to each run's final accuracy
(averaged over its last 5 checkpoints), with bounds A, B ≥ 1 (they fit log A, log B ≥ 0),
α, β ≥ 0, p ∈ [−1, 0], q ∈ [0, 1]. ``p + q`` is the accuracy of a hopeless model and
q + p/(1 + exp(−E)) that of an infinite one. A law for a metric that rises with scale, not a loss law with
its sign flipped.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.laws import register
from scalelaw.laws._final import final_design, params_tokens_scale
from scalelaw.laws.base import Design, Law, Param


@register
class SigmoidChinchilla(Law):
    """ACC(N, D) = p / (1 + exp(−(A·N^(−α) + B·D^(−β) + E))) + q."""

    name = "sigmoid-chinchilla"
    formula = "ACC(N, D) = p / (1 + exp(-(A/N^alpha + B/D^beta + E))) + q"
    citation = "Bhagia et al. 2024, Establishing Task Scaling Laws via Compute-Efficient Model Ladders (single step)"
    kind = "final"
    inputs = ("params", "tokens")
    rises = True

    @property
    def params(self) -> tuple[Param, ...]:
        return (
            Param("A", "model-size coefficient", 1.0, 1e40, tuple(np.exp((0.0, 3.0, 6.0, 10.0))), log=True),
            Param("B", "data-size coefficient", 1.0, 1e40, tuple(np.exp((0.0, 5.0, 10.0, 15.0))), log=True),
            Param("alpha", "model-size exponent", 0.0, 4.0, (0.2, 0.5)),
            Param("beta", "data-size exponent", 0.0, 4.0, (0.3, 0.6)),
            Param("E", "offset of the inner loss", -50.0, 50.0, (-1.0, 0.0, 1.0)),
            Param("p", "accuracy span (negative)", -1.0, 0.0, (-0.75, -0.5)),
            Param("q", "upper asymptote", 0.0, 1.0, (0.8, 1.0)),
        )

    def design(self, runs: RunSet) -> Design:
        return final_design(runs, self.inputs, purpose="the sigmoid-chinchilla law")

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        return self.jacobian(theta, design)[0]

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        log_n = np.log(design.inputs["params"])[None, :]
        log_d = np.log(design.inputs["tokens"])[None, :]
        a, b, alpha, beta, e, p, q = (theta[:, i : i + 1] for i in range(7))
        n_term = np.exp(-alpha * log_n)
        d_term = np.exp(-beta * log_d)
        inner = a * n_term + b * d_term + e
        s = 0.5 * (1.0 + np.tanh(0.5 * inner))  # logistic(inner), without overflow
        value = p * s + q
        d_inner = p * s * (1.0 - s)
        grad = np.stack(
            [d_inner * n_term, d_inner * d_term, -d_inner * a * n_term * log_n, -d_inner * b * d_term * log_d,
             d_inner, s, np.ones_like(value)],
            axis=2,
        )
        return value, grad

    def derived(self, values: Mapping[str, float]) -> dict[str, float]:
        """The accuracy of an infinite model (inner loss E) and of a hopeless one (p + q)."""
        limit = values["q"] + values["p"] / (1.0 + np.exp(-values["E"]))
        return {"accuracy_limit": float(limit), "accuracy_floor": values["p"] + values["q"]}

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        return params_tokens_scale(design)
