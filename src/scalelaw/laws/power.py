"""A power law with an offset in one variable: L(x) = E + A·x^(−α).

Citation: the single-variable laws of Kaplan et al. 2020 ("Scaling Laws for Neural
Language Models", eqs. 1.1–1.3) with the irreducible term E of Hoffmann et al. 2022.
``variable`` picks x: model size (``params``), training tokens (``tokens``), compute
(``flops``, taken as 6·N·D when the data has no flops column) or the optimizer step
(``step``, fitted on every logged point of every run, i.e. a loss curve).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from scalelaw.data.runs import RunSet
from scalelaw.errors import InputError
from scalelaw.laws import register
from scalelaw.laws._final import final_design, positive_column
from scalelaw.laws.base import Design, Law, LinearPart, Param

Variable = Literal["params", "tokens", "flops", "step"]
_VARIABLES: tuple[str, ...] = ("params", "tokens", "flops", "step")


@register
class Power(Law):
    """L(x) = E + A·x^(−α) for one scale variable x."""

    name = "power"
    formula = "L(x) = E + A*x^(-alpha), x = params | tokens | flops | step"
    citation = "Kaplan et al. 2020; Hoffmann et al. 2022 (offset E)"
    kind = "final"

    def __init__(self, variable: Variable = "params") -> None:
        if variable not in _VARIABLES:
            raise InputError(f"power law: variable must be one of {', '.join(_VARIABLES)}, got {variable!r}")
        self.variable: str = variable
        self.kind = "curve" if variable == "step" else "final"

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.variable,)

    @property
    def params(self) -> tuple[Param, ...]:
        return (
            Param("E", "irreducible loss", 1e-4, 1e3, tuple(np.exp((-1.0, -0.5, 0.0, 0.5, 1.0))), log=True),
            Param("A", "coefficient", 1e-8, 1e40, tuple(np.exp(np.arange(0.0, 26.0, 2.5))), log=True),
            Param("alpha", "exponent", 0.0, 4.0, (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)),
        )

    def options(self) -> dict[str, Any]:
        return {"variable": self.variable}

    def design(self, runs: RunSet) -> Design:
        purpose = f"the power law in {self.variable}"
        if self.variable != "step":
            return final_design(runs, (self.variable,), purpose=purpose, derive_flops=True)
        if "step" not in runs.table.columns:
            runs.require(["step"], purpose=purpose)  # raises, naming the column and the --map fix
        rows = runs.table[runs.table["loss"].notna() & (runs.table["step"] > 0)].reset_index(drop=True)
        if rows.empty:
            raise InputError(f"{purpose} needs logged losses at steps > 0")
        return Design(
            inputs={"step": positive_column(rows, runs, "step", purpose)},
            loss=positive_column(rows, runs, "loss", purpose),
            run=rows["run"].astype(str).to_numpy(),
        )

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        theta = np.atleast_2d(theta)
        log_x = np.log(design.inputs[self.variable])[None, :]
        return theta[:, 0:1] + theta[:, 1:2] * np.exp(-theta[:, 2:3] * log_x)

    def jacobian(self, theta: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
        theta = np.atleast_2d(theta)
        log_x = np.log(design.inputs[self.variable])[None, :]
        e, a, alpha = theta[:, 0:1], theta[:, 1:2], theta[:, 2:3]
        term = np.exp(-alpha * log_x)
        loss = e + a * term
        grad = np.stack([np.ones_like(loss), term, -a * term * log_x], axis=1)
        return loss, grad.transpose(0, 2, 1)

    def linear_part(self, theta: np.ndarray, design: Design) -> LinearPart:
        """E and A: for fixed α the loss is E·1 + A·x^−α."""
        basis = self.jacobian(theta, design)[1][:, :, :2]
        rows = basis.shape[0]
        return LinearPart(("E", "A"), basis, np.ones(rows), np.ones((rows, 2)))

    def derived(self, values: dict[str, float]) -> dict[str, float]:
        return {"E": values["E"]}

    def scale(self, design: Design) -> dict[str, np.ndarray]:
        return {self.variable: design.inputs[self.variable]}
